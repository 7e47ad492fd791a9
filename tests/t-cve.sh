#!/usr/bin/env bash
# t-cve.sh - pare cve sync / pare cve on fixture feeds in the real formats (Debian security
# tracker JSON, CISA KEV, FIRST EPSS plain and gzip) against a lock of the fixture repository:
# every class (fixable, fixed, not-affected, open with each no-dsa kind, undetermined) on the
# source package and source version (binNMU, differently named sources, epochs, ~, +debNuM),
# the priority order, --json, --fail-on, --since, staleness, bad and rolled-back feeds refused
# with the cache untouched, conditional HTTP, the config file, and the cache kind.
. "$(dirname "$0")/lib.sh"

need jq gzip python3
fixture_env
F=$W/feeds
mkdir -p "$F"

# data-all has no CVE in the feeds; the other two share libc6 (glibc)
fixture_recipe hello stable "hello"
fixture_recipe ssl stable "openssl, bash" "allow: [shell]"
fixture_recipe data stable "data-all"
check "lock the fixture recipes" "$PARE" --quiet lock --fail-fast

# The tracker: source -> id -> releases.CODENAME (the fixture repository's codename is
# "fixture"; the bookworm entries must not count).  Keys the real document has and pare
# does not use (scope, debianbug, repositories) are there too.
write_tracker() { # EXTRA-GLIBC-ENTRY
	cat >"$F/tracker.json" <<JSON
{
 "glibc": {
  "CVE-2024-0001": {"description": "heap overflow in the loader", "scope": "local", "debianbug": 1000001,
   "releases": {"fixture": {"status": "resolved", "repositories": {"fixture": "2.36-9+deb12u4"},
      "fixed_version": "2.36-9+deb12u10", "urgency": "high"},
    "bookworm": {"status": "open", "repositories": {"bookworm": "2.36-9"}, "urgency": "high"}}},
  "CVE-2024-0002": {"description": "fixed in the same version", "releases": {"fixture":
     {"status": "resolved", "fixed_version": "2.36-9+deb12u4", "urgency": "medium"}}},
  "CVE-2024-0003": {"releases": {"fixture": {"status": "resolved", "fixed_version": "0", "urgency": "unimportant"}}},
  "CVE-2024-0004": {"description": "no DSA", "releases": {"fixture": {"status": "open", "urgency": "low",
     "nodsa": "Minor issue", "nodsa_reason": ""}}},
  "CVE-2024-0005": {"releases": {"fixture": {"status": "open", "urgency": "low", "nodsa": "Minor issue",
     "nodsa_reason": "postponed"}}},
  "CVE-2024-0006": {"releases": {"fixture": {"status": "open", "urgency": "low", "nodsa": "Not worth it",
     "nodsa_reason": "ignored"}}},
  "CVE-2024-0007": {"releases": {"fixture": {"status": "open", "urgency": "end-of-life"}}},
  "CVE-2024-0008": {"releases": {"fixture": {"status": "undetermined"}}},
  "CVE-2024-0009": {"releases": {"fixture": {"status": "resolved", "fixed_version": "2.36-9+deb12u3",
     "urgency": "not yet assigned"}}},
  "TEMP-0000000-A1B2C3": {"description": "a temporary id", "releases": {"fixture": {"status": "open",
     "urgency": "unimportant"}}}$1
 },
 "openssl": {
  "CVE-2023-1000": {"description": "tilde: 3.0.11-1~deb12u2 < 3.0.11-1", "releases": {"fixture":
     {"status": "resolved", "fixed_version": "3.0.11-1", "urgency": "medium**"},
     "bookworm": {"status": "resolved", "fixed_version": "0"},
     "trixie": {"status": "resolved", "fixed_version": "3.1.0-1"}}},
  "CVE-2023-1001": {"releases": {"fixture": {"status": "resolved", "fixed_version": "3.0.11-1~deb12u1",
     "urgency": "high"}}}
 },
 "bash": {
  "CVE-2022-2000": {"description": "the source version 5.2.15-2 counts, not the binNMU's 5.2.15-2+b2",
   "releases": {"fixture": {"status": "resolved", "fixed_version": "5.2.15-2+b1", "urgency": "low"}}},
  "CVE-2022-2001": {"releases": {"fixture": {"status": "resolved", "fixed_version": "5.2.15-2",
     "urgency": "low"}}}
 },
 "hello-src": {
  "CVE-2021-3000": {"description": "epoch: 1.0-1 < 1:0.5-1", "releases": {"fixture":
     {"status": "resolved", "fixed_version": "1:0.5-1", "urgency": "medium"}}},
  "CVE-2021-3001": {"releases": {"fixture": {"status": "resolved", "fixed_version": "1.0~rc1-1",
     "urgency": "medium"}}}
 },
 "hello": {
  "CVE-2021-9999": {"description": "a binary's name is not its source", "releases": {"fixture":
     {"status": "open", "urgency": "high"}}}
 },
 "unrelated": {"CVE-2020-0001": {"releases": {"fixture": {"status": "open"}}}}
}
JSON
}
write_kev() { # DATE-RELEASED
	cat >"$F/kev.json" <<JSON
{"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2024.05.01",
 "dateReleased": "$1", "count": 3, "somethingNew": {"x": [1, 2]},
 "vulnerabilities": [
  {"cveID": "CVE-2023-1000", "vendorProject": "OpenSSL", "product": "OpenSSL", "vulnerabilityName": "x",
   "dateAdded": "2024-01-10", "shortDescription": "y", "requiredAction": "z", "dueDate": "2024-05-20",
   "knownRansomwareCampaignUse": "Unknown", "notes": "https://example.invalid", "cwes": ["CWE-125"]},
  {"cveID": "CVE-2024-0004", "vendorProject": "GNU", "product": "glibc", "dateAdded": "2024-01-11",
   "dueDate": "2024-05-10", "knownRansomwareCampaignUse": "Unknown", "cwes": [], "newKey": true},
  {"cveID": "CVE-2024-0001", "vendorProject": "GNU", "product": "glibc", "dateAdded": "2024-01-12",
   "dueDate": "2024-06-01", "knownRansomwareCampaignUse": "Known", "notes": "", "cwes": ["CWE-787"]}
 ]}
JSON
}
write_epss() { # SCORE-DATE
	printf '#model_version:v2023.03.01,score_date:%s\ncve,epss,percentile\n' "$1" >"$F/epss.csv"
	printf '%s\n' CVE-2021-3000,0.00100,0.30000 CVE-2022-2000,0.02000,0.80000 \
		CVE-2024-0005,0.50000,0.99000 CVE-2024-0008,0.20000,0.95000 \
		CVE-2023-1000,0.97000,0.99900 CVE-2024-0006,0.00050,0.10000 >>"$F/epss.csv"
}
write_tracker ""
write_kev "2024-05-01T15:00:12.3456Z"
write_epss "2024-05-02T00:00:00+0000"
touch -d "2024-05-01 12:00:00 UTC" "$F/tracker.json"

idx_sums() { (cd "$PARE_CACHE_DIR" && sha256sum cve/*.idx 2>/dev/null) || true; }

# --- bad feeds on an empty cache: refused, nothing cached -------------------------------------
bad=$W/bad
refused_empty() { # DESC ERE: sync from $bad refused with one line, no index written
	check_refused "$1" "$2" "$PARE" --quiet cve sync --from "$bad"
	check_eq "$1: nothing cached" "" "$(idx_sums)"
}
mkdir -p "$bad"
head -c 700 "$F/tracker.json" >"$bad/tracker.json"
refused_empty "a truncated tracker" "^pare: tracker $bad/tracker.json: not valid JSON"
echo '[{"glibc": {}}]' >"$bad/tracker.json"
refused_empty "a tracker that is an array" "^pare: tracker .*: not a JSON object of source packages"
echo '{"glibc": {"CVE-1": {"releases": ["fixture"]}}}' >"$bad/tracker.json"
refused_empty "releases as an array" "^pare: tracker .*: source glibc, CVE-1: an array where an object"
echo '{"glibc": {"CVE-1": {"releases": {"fixture": {"status": 3}}}}}' >"$bad/tracker.json"
refused_empty "a status that is a number" "^pare: tracker .*: source glibc, CVE-1: release fixture: status is a number"
printf '{"glibc": {"CVE-1": {"description": "caf\xe9"}}}' >"$bad/tracker.json"
refused_empty "a tracker that is not UTF-8" "^pare: tracker .*: not valid JSON .*(UTF8|utf8|UTF-8)"
echo '{}' >"$bad/tracker.json"
refused_empty "a tracker without sources" "^pare: tracker .*: no source packages"
truncate -s 1G "$bad/tracker.json"
refused_empty "a 1 GB tracker" "^pare: tracker .*: 1073741824 bytes, more than the"
rm "$bad/tracker.json"
head -c 300 "$F/kev.json" >"$bad/kev.json"
refused_empty "a truncated KEV" "^pare: kev $bad/kev.json: not valid JSON"
echo '{"catalogVersion": "1", "vulnerabilities": {"cveID": "CVE-2024-0001"}}' >"$bad/kev.json"
refused_empty "KEV vulnerabilities not an array" '^pare: kev .*: no "vulnerabilities" array'
printf '{"vulnerabilities": [{"cveID": "CVE-2024-0001", "notes": "\xff"}]}' >"$bad/kev.json"
refused_empty "a KEV that is not UTF-8" "^pare: kev .*: not UTF-8"
echo '{"vulnerabilities": [{"cveID": 12}]}' >"$bad/kev.json"
refused_empty "a KEV cveID that is a number" "^pare: kev .*: vulnerabilities\[0\]"
rm "$bad/kev.json"
printf 'cve,epss,percentile\nCVE-2024-0001,0.1,0.2\n' >"$bad/epss.csv"
refused_empty "EPSS without its score_date line" "^pare: epss $bad/epss.csv:1: no '#model_version"
{ head -n 3 "$F/epss.csv"; printf 'CVE-2024-0002,0.1'; } >"$bad/epss.csv"
refused_empty "a truncated EPSS" "^pare: epss .*:4: truncated"
{ head -n 2 "$F/epss.csv"; echo 'CVE-2024-0002,1.5,0.2'; } >"$bad/epss.csv"
refused_empty "an EPSS probability above 1" "^pare: epss .*:3: not 'CVE-ID,PROBABILITY,PERCENTILE'"
rm "$bad/epss.csv"
gzip -c "$F/epss.csv" | head -c 60 >"$bad/epss.csv.gz"
refused_empty "a truncated EPSS gzip" "^pare: epss $bad/epss.csv.gz: .*(unexpected end|truncated)"
{ head -n 2 "$F/epss.csv"; head -c 20M /dev/zero | tr '\0' 'x'; } | gzip -1 >"$bad/epss.csv.gz"
refused_empty "an EPSS gzip bomb (one endless line)" "^pare: epss .*:3: a line longer than 4096 bytes"
rm "$bad/epss.csv.gz"

# --- sync and match -----------------------------------------------------------------------------
check "sync from a directory (plain EPSS)" "$PARE" --quiet cve sync --from "$F"
for f in tracker kev epss; do
	check "the $f index is written" test -s "$PARE_CACHE_DIR/cve/$f.idx"
done
check_eq "only the lock's and the configured codenames are indexed" "bookworm,fixture 0" \
	"$(head -n 1 "$PARE_CACHE_DIR/cve/tracker.idx" | sed 's/.*codenames=//') $(grep -c $'\ttrixie\t' "$PARE_CACHE_DIR/cve/tracker.idx")"

"$PARE" cve --json >"$W/all.json"
check_eq "the report names its schema" "pare-cve/1" "$(jq -r .schema "$W/all.json")"
# every (image, CVE, source) with its class, exactly
got=$(jq -r '.findings[] | [.subject, .id, .source, .installed, (.fixed_version // "-"), .class, (.open_reason // "-")] | join(" ")' "$W/all.json" | grep -v '^data ' | sort -u)
want=$(sort <<'EOF'
hello CVE-2021-3000 hello-src 1.0-1 1:0.5-1 fixable -
hello CVE-2021-3001 hello-src 1.0-1 1.0~rc1-1 fixed -
hello CVE-2024-0001 glibc 2.36-9+deb12u4 2.36-9+deb12u10 fixable -
hello CVE-2024-0002 glibc 2.36-9+deb12u4 2.36-9+deb12u4 fixed -
hello CVE-2024-0003 glibc 2.36-9+deb12u4 - not-affected -
hello CVE-2024-0004 glibc 2.36-9+deb12u4 - open no-dsa
hello CVE-2024-0005 glibc 2.36-9+deb12u4 - open postponed
hello CVE-2024-0006 glibc 2.36-9+deb12u4 - open ignored
hello CVE-2024-0007 glibc 2.36-9+deb12u4 - open end-of-life
hello CVE-2024-0008 glibc 2.36-9+deb12u4 - undetermined -
hello CVE-2024-0009 glibc 2.36-9+deb12u4 2.36-9+deb12u3 fixed -
hello TEMP-0000000-A1B2C3 glibc 2.36-9+deb12u4 - open -
ssl CVE-2022-2000 bash 5.2.15-2 5.2.15-2+b1 fixable -
ssl CVE-2022-2001 bash 5.2.15-2 5.2.15-2 fixed -
ssl CVE-2023-1000 openssl 3.0.11-1~deb12u2 3.0.11-1 fixable -
ssl CVE-2023-1001 openssl 3.0.11-1~deb12u2 3.0.11-1~deb12u1 fixed -
ssl CVE-2024-0001 glibc 2.36-9+deb12u4 2.36-9+deb12u10 fixable -
ssl CVE-2024-0002 glibc 2.36-9+deb12u4 2.36-9+deb12u4 fixed -
ssl CVE-2024-0003 glibc 2.36-9+deb12u4 - not-affected -
ssl CVE-2024-0004 glibc 2.36-9+deb12u4 - open no-dsa
ssl CVE-2024-0005 glibc 2.36-9+deb12u4 - open postponed
ssl CVE-2024-0006 glibc 2.36-9+deb12u4 - open ignored
ssl CVE-2024-0007 glibc 2.36-9+deb12u4 - open end-of-life
ssl CVE-2024-0008 glibc 2.36-9+deb12u4 - undetermined -
ssl CVE-2024-0009 glibc 2.36-9+deb12u4 2.36-9+deb12u3 fixed -
ssl TEMP-0000000-A1B2C3 glibc 2.36-9+deb12u4 - open -
EOF
)
check_eq "every class, on source package and source version" "$want" "$got"
check_eq "the recipe without a CVE has no finding" "0" "$(jq '[.findings[] | select(.subject == "data")] | length' "$W/all.json")"
check_eq "a binNMU's finding lists its binary" "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=$(dpkg --print-architecture)" \
	"$(jq -r '[.findings[] | select(.id == "CVE-2022-2000")][0].binaries | join(" ")' "$W/all.json")"
check_eq "a source's finding lists every binary built from it" "libssl3 openssl" \
	"$(jq -r '[.findings[] | select(.id == "CVE-2023-1000")][0].binaries | map(sub("pkg:deb/debian/(?<n>[^@]*)@.*"; "\(.n)")) | sort | join(" ")' "$W/all.json")"
check_eq "KEV and EPSS joined, labelled" \
	'{"date_added":"2024-01-10","due_date":"2024-05-20","ransomware":false} {"probability":0.97,"percentile":0.999}' \
	"$(jq -c '[.findings[] | select(.id == "CVE-2023-1000")][0] | "\(.kev|tojson) \(.epss|tojson)"' -r "$W/all.json")"
check_eq "the feeds' dates" "2024-05-01T12:00:00Z 2024-05-01T15:00:12Z 2024-05-02T00:00:00Z" \
	"$(jq -r '[.feeds.tracker, .feeds.kev, .feeds.epss] | join(" ")' "$W/all.json")"
check_eq "summary by class" '{"fixable":5,"open":10,"undetermined":2,"fixed":7,"not-affected":2,"suppressed":0,"kev":5,"kev_ransomware":2}' \
	"$(jq -c .summary "$W/all.json")"

# priority: KEV ransomware, KEV by due date, EPSS percentile, urgency, id
got=$(jq -r '[.findings[] | select(.subject == "ssl" and (.class == "fixable" or .class == "open" or .class == "undetermined")) | .id] | join(" ")' "$W/all.json")
check_eq "findings in priority order" \
	"CVE-2024-0001 CVE-2024-0004 CVE-2023-1000 CVE-2024-0005 CVE-2024-0008 CVE-2022-2000 CVE-2024-0006 TEMP-0000000-A1B2C3 CVE-2024-0007" \
	"$got"

"$PARE" cve ssl >"$W/table"
check_eq "the table's headline" \
	"3 fixable, 5 open, 1 undetermined, 4 fixed, 1 not-affected, 0 suppressed; exposed: 3 in KEV (1 ransomware), EPSS >=10%: 3, 1-10%: 1, <1%: 1, none: 4" \
	"$(head -n 1 "$W/table")"
check_eq "the table's columns" "IMAGE CVE SOURCE INSTALLED FIXED-IN CLASS KEV EPSS URGENCY" \
	"$(sed -n 2p "$W/table" | tr -s ' ')"
check_eq "the first row: the ransomware KEV entry" \
	"ssl/$(dpkg --print-architecture) CVE-2024-0001 glibc 2.36-9+deb12u4 2.36-9+deb12u10 fixable KEV ransomware due 2024-06-01 - high" \
	"$(sed -n 3p "$W/table" | tr -s ' ')"
check "open reasons and EPSS shown in the table" grep -Eq 'open \(postponed\) +- +p=0\.5000 pct=99\.0' "$W/table"
check_eq "fixed and not-affected rows only with --all" "0 4" \
	"$(grep -c ' fixed ' "$W/table") $("$PARE" cve --all ssl | grep -c ' fixed ')"

# --fail-on
gate() { local rc=0; "$PARE" cve --fail-on "$1" "${@:2}" >/dev/null 2>&1 || rc=$?; echo "$rc"; }
check_eq "--fail-on kev / fixable / open / high: exit 1 on ssl" "1 1 1 1" \
	"$(gate kev ssl) $(gate fixable ssl) $(gate open ssl) $(gate high ssl)"
check_eq "--fail-on passes a recipe without findings" "0 0" "$(gate kev data) $(gate low data)"
check_refused "--fail-on an unknown word" "^pare: cve: --fail-on 'urgent'" "$PARE" cve --fail-on urgent
check_refused "a recipe not in the lock" "^pare: recipe nosuch is not in" "$PARE" cve nosuch

# --- the second sync: a new CVE, EPSS gzipped with the Z date form -----------------------------
write_tracker ',
  "CVE-2024-0100": {"releases": {"fixture": {"status": "resolved", "fixed_version": "2.36-9+deb12u5", "urgency": "high"}}}'
touch -d "2024-06-01 12:00:00 UTC" "$F/tracker.json"
write_epss "2024-05-03T00:00:00Z"
gzip -9 "$F/epss.csv"
check "sync again (EPSS gzip)" "$PARE" --quiet cve sync --from "$F"
"$PARE" cve --json >"$W/two.json"
check_eq "the gzip EPSS with a Z date" "2024-05-03T00:00:00Z" "$(jq -r .feeds.epss "$W/two.json")"
check_eq "--since: only what the tracker first had after the date" "CVE-2024-0100 CVE-2024-0100" \
	"$("$PARE" cve --json --since 2024-05-15 | jq -r '[.findings[].id] | join(" ")')"
check_eq "first_seen survives a sync" "2024-05-01T12:00:00Z 2024-06-01T12:00:00Z" \
	"$(jq -r '[.findings[] | select(.subject == "hello" and (.id == "CVE-2024-0001" or .id == "CVE-2024-0100")) | .first_seen] | sort | join(" ")' "$W/two.json")"
check_refused "--since that is not a date" "^pare: cve: --since 'yesterday'" "$PARE" cve --since yesterday

# --- rollbacks refused, the cache as it was ----------------------------------------------------
before=$(idx_sums)
rb=$W/rb
mkdir -p "$rb"
cp "$F/tracker.json" "$rb/" && touch -d "2024-05-20 UTC" "$rb/tracker.json"
check_refused "an older tracker" "^pare: tracker $rb/tracker.json: published 2024-05-20T00:00:00Z, older than the cached feed \(2024-06-01T12:00:00Z\): refused as a rollback" \
	"$PARE" --quiet cve sync --from "$rb"
rm "$rb/tracker.json"
write_kev "2024-04-01T00:00:00.000Z" && mv "$F/kev.json" "$rb/"
check_refused "an older KEV" "^pare: kev .*: published 2024-04-01T00:00:00Z, older than the cached feed" \
	"$PARE" --quiet cve sync --from "$rb"
rm "$rb/kev.json"
write_epss "2024-05-02T00:00:00Z" && mv "$F/epss.csv" "$rb/"
check_refused "an older EPSS" "^pare: epss .*: published 2024-05-02T00:00:00Z, older than the cached feed" \
	"$PARE" --quiet cve sync --from "$rb"
cp "$F/tracker.json" "$rb/" && touch -d "2024-07-01 UTC" "$rb/tracker.json"
check_refused "a good tracker beside an older EPSS: neither is taken" "^pare: epss " \
	"$PARE" --quiet cve sync --from "$rb"
check_eq "after the refusals the cache is as it was" "$before" "$(idx_sums)"

# --- staleness ---------------------------------------------------------------------------------
touch -d "5 days ago" "$PARE_CACHE_DIR"/cve/*.idx
check_eq "a stale feed: the report's first line says so" \
	"stale CVE feeds (older than 48 h): tracker last synced" \
	"$("$PARE" cve ssl | head -n 1 | sed 's/ synced .*/ synced/; s/^\(stale CVE feeds (older than 48 h): tracker last synced\).*/\1/')"
check "stale in --json too" test "$("$PARE" cve --json ssl | jq -r '.stale | startswith("stale CVE feeds")')" = true
check_eq "--max-age 7d: not stale" "4 fixable" "$("$PARE" cve --max-age 7d ssl | head -n 1 | cut -d, -f1)"

# --- the config file, and conditional HTTP ------------------------------------------------------
export PARE_CVE_CONFIG=$W/cve.conf
printf 'max-age = 2\nfoo = bar\n' >"$PARE_CVE_CONFIG"
check_refused "an unknown key in the config file" "^pare: $W/cve.conf:2: unknown key 'foo'" "$PARE" cve ssl
srv=$W/srv
mkdir -p "$srv"
cp "$F/tracker.json" "$srv/" && touch -d "2024-07-02 UTC" "$srv/tracker.json"
write_kev "2024-07-02T00:00:00Z" && mv "$F/kev.json" "$srv/"
write_epss "2024-07-02T00:00:00+0000" && mv "$F/epss.csv" "$srv/"
log=$W/http.log
URL=$(serve_http "$srv" "$log")
printf 'tracker-url = %s/tracker.json\nkev-url = %s/kev.json\nepss-url = %s/epss.csv\nmax-age = 30d\n' \
	"$URL" "$URL" "$URL" >"$PARE_CVE_CONFIG"
check "sync over HTTP from the config file's URLs" "$PARE" --quiet cve sync
check_eq "the tracker's date is its Last-Modified" "2024-07-02T00:00:00Z" "$("$PARE" cve --json | jq -r .feeds.tracker)"
check "sync again" "$PARE" --quiet cve sync
check_eq "an unchanged feed costs one 304 each" "3" "$(grep -c '" 304 ' "$log")"
"$PARE" cve sync 2>"$W/notes" >/dev/null
check "the notes say unchanged" grep -q "cve sync: tracker: unchanged" "$W/notes"
unset PARE_CVE_CONFIG

# --- images, SBOMs, --format and --vex (part 2's subjects and writers, through pare cve) ---------
check "build the ssl image" "$PARE" --quiet build ssl -o "$W/out/ssl"
"$PARE" sbom "$W/out/ssl" >"$W/ssl.spdx.json" 2>/dev/null || fail "pare sbom ssl"
rows() { jq -r '.findings[] | [.id, .source, .installed, .class] | join(" ")' | sort -u; }
want=$("$PARE" cve --json --all ssl | rows)
check "the recipe has findings to compare" test -n "$want"
check_eq "--image: the built image has the recipe's findings" "$want" "$("$PARE" cve --json --all --image "$W/out/ssl" | rows)"
# an SBOM names the release by number (purl distro=debian-12), so it is matched as bookworm, not
# as the fixture repository's own codename: the same packages, the bookworm classes
"$PARE" cve --json --all --sbom "$W/ssl.spdx.json" >"$W/sbom-cve.json"
check_eq "--sbom: exactly the CVEs the tracker has bookworm entries for, on the SBOM's sources" \
	"CVE-2023-1000 openssl 3.0.11-1~deb12u2 not-affected"$'\n'"CVE-2024-0001 glibc 2.36-9+deb12u4 open" \
	"$(rows <"$W/sbom-cve.json")"
check_eq "--sbom: matched as bookworm (CVE-2024-0001 is open there)" "open" \
	"$(jq -r '[.findings[] | select(.id == "CVE-2024-0001")][0].class' "$W/sbom-cve.json")"
# pare audit's CIS 4.4 (scanned and rebuilt) uses the synced feeds: fixable CVEs fail it
"$PARE" audit --json "$W/out/ssl" >"$W/audit.json" 2>/dev/null
check_eq "audit 4.4 with feeds: fail" "fail" \
	"$(jq -r '[.. | objects | select(.id? == "PARE-CIS-4.4")][0].result' "$W/audit.json")"
check "audit 4.4 names the most urgent fixable CVE" \
	jq -e '[.. | objects | select(.id? == "PARE-CIS-4.4")][0].evidence | map(select(contains("CVE-2024-0001"))) | length > 0' "$W/audit.json"
check_eq "--format sarif: a SARIF 2.1.0 log" "2.1.0" "$("$PARE" cve --format sarif ssl | jq -r .version)"
check_eq "--format openvex: an OpenVEX document" "https://openvex.dev/ns/v0.2.0" \
	"$("$PARE" cve --format openvex ssl | jq -r '."@context"')"
check_eq "--format cyclonedx-vex: CycloneDX 1.5" "1.5" "$("$PARE" cve --format cyclonedx-vex ssl | jq -r .specVersion)"
check_refused "--json with --format" "^pare: cve: --json and --format" "$PARE" cve --json --format sarif ssl
cat >"$W/vex.json" <<'JSON'
{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.invalid/vex/1",
 "author": "t-cve", "timestamp": "2024-07-01T00:00:00Z", "version": 1,
 "statements": [{"vulnerability": {"name": "CVE-2024-0001"},
   "products": [{"@id": "pkg:deb/debian/libc6"}],
   "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}
JSON
check_eq "without --vex CVE-2024-0001 is fixable in ssl" "fixable" \
	"$("$PARE" cve --json ssl | jq -r '[.findings[] | select(.id == "CVE-2024-0001")][0].class')"
check_eq "--vex: the not_affected statement suppresses it, listed as suppressed" "suppressed" \
	"$("$PARE" cve --json --vex "$W/vex.json" ssl | jq -r '[.findings[] | select(.id == "CVE-2024-0001")][0].class')"
check_eq "--vex touches no other finding" \
	"$("$PARE" cve --json ssl | jq -c '[.findings[] | select(.id != "CVE-2024-0001") | .class]')" \
	"$("$PARE" cve --json --vex "$W/vex.json" ssl | jq -c '[.findings[] | select(.id != "CVE-2024-0001") | .class]')"

# --- the cache kind ----------------------------------------------------------------------------
check_eq "pare cache du counts the feeds" "3" "$("$PARE" cache du --json | jq '.kinds[] | select(.kind == "cve") | .entries')"
"$PARE" --quiet cache prune >/dev/null
check "prune keeps the synced feeds" test -s "$PARE_CACHE_DIR/cve/tracker.idx"

done_testing
