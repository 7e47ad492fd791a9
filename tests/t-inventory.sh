#!/usr/bin/env bash
# t-inventory.sh - pare inventory on a generated git history of recipes.lock (lock files
# written directly, one commit a day, some of them "pare update" commits with digests):
# a package that left an image and came back (two intervals), a renamed source, binNMUs,
# an image added and later removed, --image --at by date and by commit, digests from the
# update commits, the incremental index update, a force-pushed (rewritten) history, --cve
# with fixture feeds (and without them), --updates against the fixture repository, the
# overview, --json and --csv, the cache kind.
. "$(dirname "$0")/lib.sh"

need git jq python3
W=$(tmpdir)
G=$W/git
export PARE_CACHE_DIR=$W/cache PARE_LOCK=$G/recipes.lock PARE_RECIPES=$G/recipes
mkdir -p "$G/recipes"
git -C "$G" init -q -b main
git -C "$G" config user.name "pare test"
git -C "$G" config user.email "test@pare.invalid"

D1=sha256:1111111111111111111111111111111111111111111111111111111111111111
D2=sha256:2222222222222222222222222222222222222222222222222222222222222222
D3=sha256:3333333333333333333333333333333333333333333333333333333333333333
D4=sha256:4444444444444444444444444444444444444444444444444444444444444444

# mkhist FROM TO: commits FROM..TO of the scenario below (day N is 2026-01-(N+1) 12:00 UTC).
# Each day's lock is the scenario's state on that day; the state changes on the days named.
mkhist() {
	python3 - "$G" "$1" "$2" "${3:-}" <<'EOF'
import json, os, subprocess, sys
g, first, last, variant = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
D = {i: "sha256:" + str(i) * 64 for i in range(1, 5)}

def pkg(n, v, src=None, sv=None):
    p = {"name": n, "version": v, "architecture": "amd64"}
    p["source"] = src or n  # pare lock always writes both
    p["source_version"] = sv or v
    p.update({"filename": "pool/main/x/%s_%s.deb" % (n, v), "repository": 0, "size": 1,
              "sha256": "0" * 64, "installed_size": 1, "required_by": ["recipe"]})
    return p

def state(day):
    libc = "2.36-9" if day < 3 else "2.36-9+deb12u4"
    if variant == "rewritten" and day >= 26: libc = "2.36-9+deb12u9"
    elif day >= 30: libc = "2.36-9+deb12u5"
    ssl = "3.0.11-1" if day < 18 else "3.0.13-1"
    web = [pkg("libc6", libc, "glibc"), pkg("libssl3", ssl, "openssl")]
    if not 8 <= day < 12: web.append(pkg("zlib1g", "1:1.2.13-1", "zlib"))
    db = [pkg("libc6", libc, "glibc")]
    db.append(pkg("libpq5", "15.5-0", "postgresql-15") if day < 15 else pkg("libpq5", "16.1-1", "postgresql-16"))
    if day >= 22: db.append(pkg("libfoo1", "1.0-1+b2", "foo", "1.0-1"))
    recipes = {"web": web, "db": db}
    if 5 <= day < 20:
        recipes["tool"] = [pkg("busybox", "1:1.35.0-4"), pkg("libfoo1", "1.0-1+b1", "foo", "1.0-1")]
    lock = {"version": 1, "recipes": {}}
    for name in sorted(recipes):
        ps = sorted(recipes[name], key=lambda p: p["name"])
        archs = {"amd64": {"packages": ps}}
        if name == "web":
            archs["arm64"] = {"packages": [dict(p, architecture="arm64") for p in ps]}
        lock["recipes"][name] = {"recipe_sha256": "0" * 64, "source_date_epoch": 1767225600 + day,
            "repositories": [{"origin": "Debian", "label": "Debian", "suite": "stable",
                "codename": "bookworm", "date": "Thu, 01 Jan 2026 00:00:00 UTC", "inrelease_sha256": "0" * 64}],
            "archs": archs}
    return lock

messages = {
    3: "pare update: 2 images rebuilt\n\nweb (none) -> %s\nweb amd64 (none) -> %s\n  libc6 2.36-9 -> 2.36-9+deb12u4 (CVE-2025-0001)\nweb arm64 (none) -> %s\n  libc6 2.36-9 -> 2.36-9+deb12u4 (CVE-2025-0001)\ndb (none) -> %s\n" % (D[1], D[2], D[3], D[4]),
    18: "pare update: 1 image rebuilt\n\nweb %s -> %s\nweb amd64 %s -> %s\n  libssl3 3.0.11-1 -> 3.0.13-1 (CVE-2025-1111)\n" % (D[1], D[4], D[2], D[3]),
}
for day in range(first, last + 1):
    if day != 7:  # day 7 touches only the README: no lock change
        with open(os.path.join(g, "recipes.lock"), "w") as f:
            json.dump(state(day), f, indent=2)
            f.write("\n")
    with open(os.path.join(g, "README"), "a") as f:
        f.write("day %d\n" % day)
    subprocess.run(["git", "-C", g, "add", "-A"], check=True)
    date = "2026-01-%02dT12:00:00Z" % (day + 1)
    env = dict(os.environ, GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    msg = messages.get(day, "day %d%s" % (day, " (" + variant + ")" if variant else ""))
    subprocess.run(["git", "-C", g, "commit", "-q", "-m", msg], check=True, env=env)
EOF
}
commit_of() { git -C "$G" log --format=%H --grep="^day $1\$" --grep="^day $1 " -n1; }

check "a history of 30 daily lock commits" mkhist 0 29
inv() { "$PARE" --quiet inventory "$@"; }

# --package: by binary name, by source name, =VERSION, <VERSION
C12=$(commit_of 12)
out=$(inv --package zlib1g --json)
check_eq "zlib1g: in web amd64 and arm64 since it came back (day 12)" \
	"web amd64 1:1.2.13-1 2026-01-13T12:00:00Z $C12
web arm64 1:1.2.13-1 2026-01-13T12:00:00Z $C12" \
	"$(jq -r '.rows[] | "\(.image) \(.arch) \(.version) \(.since) \(.commit)"' <<<"$out")"
check_eq "zlib1g: the JSON names the question and columns" "package zlib1g image,arch,package,version,source,source_version,since,commit" \
	"$(jq -r '"\(.question) \(.package) \(.columns | join(","))"' <<<"$out")"
check_eq "glibc (a source name): every image holding libc6, since day 3" \
	"db amd64 libc6 2.36-9+deb12u4 glibc 2026-01-04T12:00:00Z
web amd64 libc6 2.36-9+deb12u4 glibc 2026-01-04T12:00:00Z
web arm64 libc6 2.36-9+deb12u4 glibc 2026-01-04T12:00:00Z" \
	"$(inv --package glibc --json | jq -r '.rows[] | "\(.image) \(.arch) \(.package) \(.version) \(.source) \(.since)"' | sort)"
check_eq "a renamed source: postgresql-16 since day 15, postgresql-15 in no image now" \
	"db libpq5 16.1-1 postgresql-16 2026-01-16T12:00:00Z|0" \
	"$(inv --package postgresql-16 --json | jq -r '.rows[] | "\(.image) \(.package) \(.version) \(.source) \(.since)"')|$(inv --package postgresql-15 --json | jq '.rows | length')"
check_eq "a binNMU by its source: libfoo1 1.0-1+b2 from foo 1.0-1 (db, day 22)" \
	"db libfoo1 1.0-1+b2 foo 1.0-1 2026-01-23T12:00:00Z" \
	"$(inv --package foo=1.0-1 --json | jq -r '.rows[] | "\(.image) \(.package) \(.version) \(.source) \(.source_version) \(.since)"')"
check_eq "libssl3=3.0.13-1: web amd64 and arm64" "2" "$(inv --package libssl3=3.0.13-1 --json | jq '.rows | length')"
check_eq "libssl3<3.0.13-1: none any more; libssl3<3.0.14 both" "0 2" \
	"$(inv --package 'libssl3<3.0.13-1' --json | jq '.rows | length') $(inv --package 'libssl3<3.0.14' --json | jq '.rows | length')"
check_eq "libc6<2.36-9+deb12u10 (Debian version order): three images" "3" \
	"$(inv --package 'libc6<2.36-9+deb12u10' --json | jq '.rows | length')"
out=$(inv --package zlib1g --csv)
check_eq "--csv: a header and a row per image and arch" \
	"image,arch,package,version,source,source_version,since,commit
web,amd64,zlib1g,1:1.2.13-1,zlib,1:1.2.13-1,2026-01-13T12:00:00Z,$C12
web,arm64,zlib1g,1:1.2.13-1,zlib,1:1.2.13-1,2026-01-13T12:00:00Z,$C12" "$(tr -d '\r' <<<"$out")"
out=$(inv --package zlib1g)
check_eq "the table: the question, a header line, abbreviated commits" \
	"package: zlib1g
image  arch   package  version     source  source_version  since                 commit
web    amd64  zlib1g   1:1.2.13-1  zlib    1:1.2.13-1      2026-01-13T12:00:00Z  ${C12:0:12}" \
	"$(head -3 <<<"$out")"

# --image --at: a package that left and came back; an image added and removed
out=$(inv --image web --at 2026-01-10 --json)
check_eq "web at 2026-01-10 (day 9): no zlib1g, the day-9 commit" \
	"$(commit_of 9) libc6 libssl3" \
	"$(jq -r '[.commit] + [.rows[] | select(.arch == "amd64") | .package] | join(" ")' <<<"$out")"
check_eq "web at 2026-01-10: zlib1g left on day 8 after the day-3 update: no digest for that closure" \
	"$D1 amd64=null arm64=null" \
	"$(jq -r '.index_digest + " " + ([.rows[] | select(.package == "libc6") | "\(.arch)=\(.digest)"] | join(" "))' <<<"$out")"
check_eq "web at 2026-01-08 (day 7, no lock change since day 3): digests from the day-3 update commit" \
	"$D1 amd64=$D2 arm64=$D3" \
	"$(inv --image web --at 2026-01-08 --json | jq -r '.index_digest + " " + ([.rows[] | select(.package == "libc6") | "\(.arch)=\(.digest)"] | join(" "))')"
out=$(inv --image web --at "$(commit_of 13 | cut -c1-10)" --json)
check_eq "web at the day-13 commit (by id): zlib1g is back" "libc6 libssl3 zlib1g" \
	"$(jq -r '[.rows[] | select(.arch == "amd64") | .package] | join(" ")' <<<"$out")"
out=$(inv --image web --at 2026-01-20 --json)
check_eq "web at day 19: amd64 digest from the day-18 update, arm64's closure changed after its last digest" \
	"amd64=$D3 arm64=null" \
	"$(jq -r '[.rows[] | select(.package == "libssl3") | "\(.arch)=\(.digest)"] | join(" ")' <<<"$out")"
check "web at day 19: the note says why arm64 has no digest" grep -q "arm64 digest: unknown" <<<"$(jq -r '.notes[]' <<<"$out")"
check_eq "tool (added day 5, removed day 20) at day 10: its closure with the binNMU" \
	"busybox 1:1.35.0-4 busybox 1:1.35.0-4
libfoo1 1.0-1+b1 foo 1.0-1" \
	"$(inv --image tool --at 2026-01-11 --json | jq -r '.rows[] | "\(.package) \(.version) \(.source) \(.source_version)"')"
check_fails "tool before it was added" "image tool is not in recipes.lock at commit .* \(2026-01-05" inv --image tool --at 2026-01-05
check_fails "tool after it was removed" "image tool is not in recipes.lock at commit" inv --image tool --at 2026-01-25
check_fails "--at before the first commit" "before the first commit" inv --image web --at 2025-12-01
check_fails "--at neither date nor commit" "neither a date .* nor a commit" inv --image web --at zzzz
check_fails "--image without --at" "--image and --at go together" inv --image web

# the index: in the cache, a kind of its own; brought up to date incrementally
check "the history index is in the cache" compgen -G "$PARE_CACHE_DIR/inventory/*.idx"
check_eq "pare cache du counts it" "1" "$("$PARE" cache du --json | jq '.kinds[] | select(.kind == "inventory") | .entries')"
err=$("$PARE" --verbose inventory --package zlib1g 2>&1 >/dev/null)
check "unchanged history: the index is current" grep -q "recipes.lock current (0 new commits, 30 in all)" <<<"$err"
check "one more commit (day 30)" mkhist 30 30
err=$("$PARE" --verbose inventory --package libc6 --json 2>&1 >/dev/null)
check "a new commit: the index is updated from its tip, not rebuilt" \
	grep -q "recipes.lock updated (1 new commit, 31 in all)" <<<"$err"
check_eq "the update is in the answer: libc6 2.36-9+deb12u5 since day 30" \
	"2.36-9+deb12u5 2026-01-31T12:00:00Z $(commit_of 30)" \
	"$(inv --package libc6 --json | jq -r '.rows[0] | "\(.version) \(.since) \(.commit)"')"
check_eq "the earlier intervals kept: web at day 12 still has zlib1g" "zlib1g" \
	"$(inv --image web --at 2026-01-13 --json | jq -r '.rows[] | select(.arch == "amd64" and .package == "zlib1g") | .package')"

# a force-push: history rewritten from day 26 on
OLD29=$(commit_of 29)
git -C "$G" reset -q --hard "$(commit_of 25)"
check "a rewritten history (days 26-27, another libc6)" mkhist 26 27 rewritten
err=$("$PARE" --verbose inventory --package libc6 --json 2>&1 >/dev/null)
check "the indexed tip is no longer an ancestor: the index is rebuilt" \
	grep -q "recipes.lock built (28 new commits, 28 in all)" <<<"$err"
check_eq "the rewritten history's answer: 2.36-9+deb12u9 since day 26, no deb12u5" \
	"2.36-9+deb12u9 2026-01-27T12:00:00Z" \
	"$(inv --package libc6 --json | jq -r '[.rows[] | "\(.version) \(.since)"] | unique | join(",")')"
check_fails "a commit of the history before the force-push is no longer in it" \
	"--at ${OLD29:0:12}: neither a date .* nor a commit" inv --image web --at "${OLD29:0:12}"

# the index lives in the cache: a corrupt, truncated or other-version one is detected (a
# --verbose line says why) and rebuilt with the same answers, never misread
IDX=$(compgen -G "$PARE_CACHE_DIR/inventory/*.idx")
want_zlib=$(inv --package zlib1g --json)
want_web=$(inv --image web --at 2026-01-13 --json)
rebuilt() { # DESC WHY-ERE: the index at $IDX was damaged; the next run detects and rebuilds it
	local err rc=0
	err=$("$PARE" --verbose inventory --package zlib1g --json 2>&1 >"$W/answer.json") || rc=$?
	check "$1: detected ($2), rebuilt" grep -Eq "$2: built again" <<<"$err"
	check_eq "$1: exit 0, no crash" 0 "$rc"
	check_eq "$1: the same --package answer" "$want_zlib" "$(cat "$W/answer.json")"
	check_eq "$1: the same --image --at answer" "$want_web" "$(inv --image web --at 2026-01-13 --json)"
}
# idxpatch PYTHON: edit the index's bytes b (a bytearray) in place
idxpatch() { python3 -c 'import sys; p = sys.argv[1]; b = bytearray(open(p, "rb").read())
'"$1"'
open(p, "wb").write(b)' "$IDX"; }
idxpatch 'b[len(b) // 2] ^= 0x20'
rebuilt "a flipped byte" "checksum mismatch"
truncate -s -100 "$IDX"
rebuilt "a truncated index" "truncated or extended"
idxpatch 'b[16] = 3'
rebuilt "another format version" "another format version"
{ printf 'pare-inventory 1\trecipes.lock\t-\n'; for d in 0 1 2 3 4 5; do printf 'C\t%s\t0\n' "$(commit_of $d)"; done; } >"$IDX"
rebuilt "the text index of version 1" "not a history index of this format"
# a string offset past the table with the checksum made right again: the bounds checks
# (header: magic 16, version, bom, size 8, sum 72, lock_rel, blob, n[9], pad, off[9]; a
# package span record is 8 x u32, its name the third)
idxpatch 'import hashlib, struct
off = struct.unpack_from("<9Q", b, 152)
struct.pack_into("<I", b, off[3] + 8, 0x7ffffff0)
b[32:96] = hashlib.sha256(b[224:]).hexdigest().encode()'
rebuilt "a string offset out of bounds (checksum right)" "a bad package span"
: >"$IDX"
rebuilt "an empty index" "not a regular file|shorter than its header"

# the overview: the working lock, no layouts built, last rebuild from the update commits
out=$(inv --json)
check_eq "overview: every image and arch, package count, signature, last rebuild and reason" \
	"db amd64 3 not built 2026-01-04T12:00:00Z
web amd64 3 not built 2026-01-19T12:00:00Z libssl3 3.0.11-1 -> 3.0.13-1 (CVE-2025-1111)
web arm64 3 not built 2026-01-04T12:00:00Z libc6 2.36-9 -> 2.36-9+deb12u4 (CVE-2025-0001)" \
	"$(jq -r '.rows[] | "\(.image) \(.arch) \(.packages) \(.signature) \(.rebuilt) \(.reason // "")" | sub(" $"; "")' <<<"$out")"
python3 -c 'import json,sys; p=sys.argv[1]; l=json.load(open(p)); l["recipes"]["db"]["source_date_epoch"]=1; json.dump(l,open(p,"w"),indent=2)' "$G/recipes.lock"
check "uncommitted changes to recipes.lock: a note says the history is HEAD's" \
	grep -q "has changes not committed" <<<"$(inv --package libc6 --json | jq -r '.notes[]')"
git -C "$G" checkout -q recipes.lock

# --cve: needs the feeds; then affected since when and fixed where
check_fails "--cve without feeds says so" "needs the CVE feeds.*pare cve sync" inv --cve CVE-2025-1111
F=$W/feeds
mkdir -p "$F"
cat >"$F/tracker.json" <<'JSON'
{
 "openssl": {"CVE-2025-1111": {"description": "x", "releases": {"bookworm": {"status": "resolved",
   "fixed_version": "3.0.13-1", "urgency": "high"}}}},
 "glibc": {"CVE-2025-2222": {"releases": {"bookworm": {"status": "open", "urgency": "low"}}},
           "CVE-2025-3333": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "0"}}}},
 "foo": {"CVE-2025-4444": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "1.0-2"}}}}
}
JSON
echo '{"title": "kev", "catalogVersion": "1", "dateReleased": "2026-01-01T00:00:00.000Z", "count": 0, "vulnerabilities": []}' >"$F/kev.json"
printf '#model_version:v1,score_date:2026-01-01T00:00:00+0000\ncve,epss,percentile\nCVE-2025-1111,0.5,0.9\n' >"$F/epss.csv"
check "pare cve sync from fixture feeds" "$PARE" --quiet cve sync --from "$F"
out=$(inv --cve CVE-2025-1111 --json)
check_eq "CVE-2025-1111 (openssl < 3.0.13-1): web affected from day 0, fixed at the day-18 commit" \
	"web amd64 libssl3 3.0.11-1 3.0.13-1 fixed 2026-01-01T12:00:00Z 2026-01-19T12:00:00Z $(git -C "$G" log --format=%H --grep='libssl3 3.0.11-1 -> 3.0.13-1')
web arm64 libssl3 3.0.11-1 3.0.13-1 fixed 2026-01-01T12:00:00Z 2026-01-19T12:00:00Z $(git -C "$G" log --format=%H --grep='libssl3 3.0.11-1 -> 3.0.13-1')" \
	"$(jq -r '.rows[] | "\(.image) \(.arch) \(.package) \(.version) \(.fixed_version) \(.status) \(.since) \(.fixed) \(.fixed_commit)"' <<<"$out")"
check_eq "CVE-2025-2222 (glibc, no fix): every libc6 affected since it was first there" \
	"db amd64 affected 2026-01-01T12:00:00Z null
web amd64 affected 2026-01-01T12:00:00Z null
web arm64 affected 2026-01-01T12:00:00Z null" \
	"$(inv --cve CVE-2025-2222 --json | jq -r '.rows[] | "\(.image) \(.arch) \(.status) \(.since) \(.fixed)"')"
check_eq "CVE-2025-3333 (not affected): no rows" "0" "$(inv --cve CVE-2025-3333 --json | jq '.rows | length')"
check_eq "CVE-2025-4444 (foo < 1.0-2, binNMUs on the source version): db affected, tool removed while affected" \
	"db amd64 libfoo1 1.0-1+b2 affected 2026-01-23T12:00:00Z null
tool amd64 libfoo1 1.0-1+b1 removed 2026-01-06T12:00:00Z 2026-01-21T12:00:00Z" \
	"$(inv --cve CVE-2025-4444 --json | jq -r '.rows[] | "\(.image) \(.arch) \(.package) \(.version) \(.status) \(.since) \(.fixed)"')"

# --updates: a lock against the fixture repository with an older version written in
R=$(fixture_repo)
cat >"$G/recipes/hello.yaml" <<YAML
name: hello
repositories:
  - url: file://$R
    suites: [stable]
    components: [main]
    keyring: $R/keyring.gpg
archs: [amd64]
packages: [hello]
YAML
L2=$W/updates.lock
check "lock the fixture recipe" env PARE_LOCK="$L2" "$PARE" --quiet lock
# the overview of a built and signed layout: its manifest digest, signature status
check "a key" "$PARE" --quiet keygen --no-password -o "$W/k"
check "build and sign the fixture image" env PARE_LOCK="$L2" "$PARE" --quiet build --outroot "$W/out" --sign-key "$W/k.key" hello
idx=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "latest") | .digest' "$W/out/hello/index.json")
man=$(jq -r '.manifests[] | select(.platform.architecture == "amd64") | .digest' "$W/out/hello/blobs/sha256/${idx#sha256:}")
n=$(jq '.recipes.hello.archs.amd64.packages | length' "$L2")
check_eq "overview: the layout's amd64 manifest digest, the package count, signed" "hello amd64 $man $n signed" \
	"$(PARE_LOCK=$L2 inv -o "$W/out" --json | jq -r '.rows[] | "\(.image) \(.arch) \(.digest) \(.packages) \(.signature)"')"
check_eq "overview --key: the signature verified" "verified" \
	"$(PARE_LOCK=$L2 inv -o "$W/out" --key "$W/k.pub" --json | jq -r '.rows[0].signature')"
"$PARE" --quiet keygen --no-password -o "$W/other"
check_eq "overview --key with another key: bad" "bad" \
	"$(PARE_LOCK=$L2 inv -o "$W/out" --key "$W/other.pub" --json | jq -r '.rows[0].signature | split(":")[0]')"
check_eq "overview: without git history, a note says so" "1" \
	"$(PARE_LOCK=$L2 inv -o "$W/out" --json | jq '[.notes[] | select(test("no rebuild history: .* not in a git repository"))] | length')"
cur=$(jq -r '.recipes.hello.archs.amd64.packages[] | select(.name == "hello") | .version' "$L2")
jq '(.recipes.hello.archs.amd64.packages[] | select(.name == "hello") | .version) = "0.1-1"' "$L2" >"$L2.new" && mv "$L2.new" "$L2"
check_eq "--updates: hello 0.1-1 in use, $cur in today's index" "hello amd64 hello 0.1-1 $cur" \
	"$(PARE_LOCK=$L2 inv --updates --json | jq -r '.rows[] | "\(.image) \(.arch) \(.package) \(.version) \(.available)"')"
check_eq "--updates changes nothing" "0.1-1" \
	"$(jq -r '.recipes.hello.archs.amd64.packages[] | select(.name == "hello") | .version' "$L2")"

# not in a repository
cp "$G/recipes.lock" "$W/loose.lock"
check_fails "a lock outside git: the history questions say why" "not in a git repository" \
	env PARE_LOCK="$W/loose.lock" "$PARE" inventory --package libc6
check_fails "one question at a time" "one question at a time" inv --package a --updates

done_testing
