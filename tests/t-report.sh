#!/usr/bin/env bash
# t-report.sh - pare report (docs/audit.md): the HTML dashboard of a pare image and a hostile
# hand-assembled one (tests/fixtures/mkaudit: a file named <script>…), opened in Debian's
# headless chromium from file://: no console errors, one grid row per image, the hostile name
# shown as text, screenshots at desktop and narrow widths kept in build/test-artifacts/.
# Also: what the report directory may replace.
. "$(dirname "$0")/lib.sh"

need jq python3
fixture_env
export PARE_PASSWORD=unused
cd "$W" || exit 1

fixture_recipe hello stable "hello, ca-certificates"
"$PARE" -q keygen --no-password -o "$W/k" || fail "keygen"
"$PARE" -q lock hello && "$PARE" -q build hello -o "$W/hello" --sign-key "$W/k.key" >/dev/null || fail "build hello"
python3 "$PARE_SRC/tests/fixtures/mkaudit" "$W/bad" || fail "mkaudit"

check "report of two images" "$PARE" report -o "$W/rep" --key "$W/k.pub" "$W/hello" "$W/bad"
check "index.html and a page per image" test -f "$W/rep/index.html" -a -f "$W/rep/image-1.html" -a -f "$W/rep/image-2.html"
check_eq "the grid has one row per image" 2 "$(grep -c '<tr class="image">' "$W/rep/index.html")"
check_eq "a cell per check in each row" "$((2 * $("$PARE" audit --json "$W/hello" | jq '.images[0].checks | length')))" \
	"$(grep -o '<td class="\(pass\|fail\|warn\|na\|manual\) r"><a href="image-' "$W/rep/index.html" | wc -l)"
check_eq "no script element, no external resource in any page" "" \
	"$(grep -Eil '<script|<link|<img|<iframe|<object|src=|url\(|@import' "$W/rep/"*.html)"
check "the hostile file name is escaped" grep -q '/srv/app/&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#39;.txt' "$W/rep/image-2.html"
check "the pare image's SBOM is linked and copied beside the page" \
	bash -c 'grep -q "<a href=\"image-1-hello.spdx.json\">/usr/share/sbom/hello.spdx.json</a>" "$1/image-1.html" && jq -e .spdxVersion "$1/image-1-hello.spdx.json"' _ "$W/rep"
check "the signature status is shown" grep -q '<dt>signature</dt><dd>verified</dd>' "$W/rep/image-1.html"

# what it may replace: a report, an empty directory; not someone's files
check "a report is replaced by the next one" "$PARE" report -o "$W/rep" "$W/hello"
check_eq "… which holds only its image" 1 "$(grep -c '<tr class="image">' "$W/rep/index.html")"
mkdir "$W/mine" && echo precious >"$W/mine/notes.txt"
check_refused "a directory holding other files is refused" 'mine: not replaced: it is not empty and not a report' \
	"$PARE" report -o "$W/mine" "$W/hello"
check_eq "… and left alone" "notes.txt precious" "$(ls "$W/mine") $(cat "$W/mine/notes.txt")"
mkdir "$W/empty"
check "an empty directory is taken" "$PARE" report -o "$W/empty" "$W/hello"
check_eq "no temporary left beside it" "" "$(ls -d "$W"/*.tmp.* "$W"/*.old.* 2>/dev/null)"
check_refused "report without -o" 'report: usage' "$PARE" report "$W/hello"

# ---- a real browser -------------------------------------------------------------------------
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [[ ${PARE_TEST_SUITE:-} == asan ]]; then
	skip "the dashboard in headless chromium" "the same pages as the plain build's; chromium runs in the plain suite"
	done_testing
fi
if [[ -z $CHROME ]]; then
	skip "the dashboard in headless chromium" "no chromium (apt-get install chromium; tests/DEPS)"
	done_testing
fi
"$PARE" report -o "$W/rep" --key "$W/k.pub" "$W/hello" "$W/bad" || fail "report again"
ART=$PARE_SRC/build/test-artifacts
mkdir -p "$ART"
chrome() { # LOG ARGS…: headless chromium, its log (console messages included) in LOG
	local log=$1
	shift
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$W/chrome" --enable-logging=stderr --v=0 "$@" 2>"$log"
}
console_errors() { # LOG: the page's console messages and load failures
	grep -E 'CONSOLE|Uncaught|Refused to|net::ERR_' "$1" || true
}
for page in index image-1 image-2; do
	chrome "$W/$page.log" --dump-dom "file://$W/rep/$page.html" >"$W/$page.dom" || fail "chromium --dump-dom $page" "$(tail -20 "$W/$page.log")"
	check_eq "$page.html: no console error in chromium" "" "$(console_errors "$W/$page.log")"
done
check_eq "chromium's DOM: one grid row per image" 2 "$(grep -o '<tr class="image">' "$W/index.dom" | wc -l)"
check "chromium's DOM: the hostile name is text, not markup" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$W/image-2.dom"
check_eq "chromium's DOM: no script element" 0 "$(grep -c '<script' "$W/image-2.dom")"
png_width() { python3 -c 'import struct,sys; d=open(sys.argv[1],"rb").read(24); assert d[:8]==b"\x89PNG\r\n\x1a\n"; print(struct.unpack(">I", d[16:20])[0])' "$1"; }
for size in desktop:1366,900 narrow:390,844; do
	name=${size%%:*} dims=${size#*:}
	rm -f "$ART/report-$name.png"
	(cd "$W" && chrome "$W/shot-$name.log" --hide-scrollbars --window-size="$dims" \
		--screenshot="$ART/report-$name.png" "file://$W/rep/index.html") || true
	check_eq "screenshot at $name width ($dims) in build/test-artifacts/report-$name.png" "${dims%%,*}" \
		"$(png_width "$ART/report-$name.png" 2>&1)"
	check_eq "no console error at $name width" "" "$(console_errors "$W/shot-$name.log")"
done
(cd "$W" && chrome "$W/shot-page.log" --hide-scrollbars --window-size=1366,1400 \
	--screenshot="$ART/report-image.png" "file://$W/rep/image-2.html") || true
check "screenshot of the hostile image's page" test -s "$ART/report-image.png"

done_testing
