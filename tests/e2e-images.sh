#!/usr/bin/env bash
# e2e-images.sh - against the live Debian archive from this machine's apt
# sources (make e2e): lock the shipped recipes static, base, cc, java, nodejs
# and nginx with one `pare lock`, build each, and prove each image works:
# no shell, no package manager, the image config's user is 65532, the SBOMs
# validate, and a program of the image's kind runs in it as that user under
# bwrap (host-built probes from tests/e2e/: a static C program, a C program
# linked against OpenSSL, a C++ program, a Java class; node; nginx serving
# its default page to curl on the host).  python3 has its own e2e-python3.sh.
#
# The rootfs is unpacked with its owners (as the image has them) and bwrap
# runs as the real uid 65532 (setpriv), so a directory the image does not
# give to 65532 is not writable in the test either: a recipe that only works
# as root fails here.
. "$(dirname "$0")/lib.sh"

need jq bwrap setpriv gcc g++ javac curl
W=$(tmpdir)
export PARE_RECIPES=$PARE_SRC/recipes PARE_LOCK=$W/recipes.lock
VALIDATE=${PARE_SHARED:-$PARE_SRC/../shared}/tools/validate-sbom
P=$PARE_SRC/tests/e2e
IMAGES=(static base cc java nodejs nginx)
# The rootfs trees live in a world-traversable directory (the script's temp
# dir is 0700): bwrap runs as uid 65532 and must reach them.
ROOTS=$(mktemp -d /tmp/pare-e2e-images.XXXXXX)
chmod 755 "$ROOTS"
at_exit rm -rf "$ROOTS"

# blob LAYOUT DIGEST: the path of a blob.
blob() { printf '%s/blobs/sha256/%s\n' "$1" "${2#sha256:}"; }

# unpack IMG: the image's layers, in order, into $ROOTS/IMG (owners kept) and
# its config into $W/IMG.config.json.
unpack() {
	local out=$W/$1 r=$ROOTS/$1 ix m l
	ix=$(jq -r '.manifests[0].digest' "$out/index.json")
	m=$(blob "$out" "$ix")
	jq -e '.config' "$m" >/dev/null 2>&1 || m=$(blob "$out" "$(jq -r '.manifests[0].digest' "$m")")
	cp "$(blob "$out" "$(jq -r '.config.digest' "$m")")" "$W/$1.config.json"
	mkdir -p "$r"
	for l in $(jq -r '.layers[].digest' "$m"); do
		tar -xf "$(blob "$out" "$l")" -C "$r" --same-owner --numeric-owner || return 1
	done
}

# run IMG [BWRAP-OPTION…] -- CMD…: run CMD in the image as uid/gid 65532 with
# the image config's environment, no network, a private /tmp.
run() {
	local img=$1 envs=() k v
	shift
	while IFS='=' read -r k v; do envs+=(--setenv "$k" "$v"); done \
		< <(jq -r '.config.Env[]?' "$W/$img.config.json")
	local opts=()
	while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
	shift
	setpriv --reuid 65532 --regid 65532 --clear-groups \
		bwrap --bind "$ROOTS/$img" / --proc /proc --dev /dev --tmpfs /tmp \
		--unshare-all --uid 65532 --gid 65532 --clearenv "${envs[@]}" "${opts[@]}" \
		-- "$@"
}

# check_match DESC ERE TEXT: ok if TEXT matches ERE; otherwise TEXT is shown.
check_match() {
	if grep -Eq -- "$2" <<<"$3"; then ok "$1"; else fail "$1" "no match for /$2/ in:"$'\n'"$3"; fi
}

# note WHAT TEXT: TEXT as TAP comment lines "# WHAT: line".
note() {
	local l
	while IFS= read -r l; do printf '# %s: %s\n' "$1" "$l"; done <<<"$2"
}

# sbom_checks IMG: the attached SBOMs (package and per-file, both formats) and
# the embedded ones validate against their schemas.
sbom_checks() {
	local img=$1 out=$W/$1 f fmt
	for f in --packages --files; do
		for fmt in spdx cyclonedx; do
			local args=(--format "$fmt") doc=$W/$img.sbom$f.$fmt.json
			[[ $f == --files ]] && args+=(--files)
			if "$PARE" sbom "${args[@]}" "$out" >"$doc"; then
				check "$img ${f#--} $fmt SBOM valid" /usr/bin/python3 "$VALIDATE" "$doc"
			else
				fail "$img ${f#--} $fmt SBOM: pare sbom failed"
			fi
		done
	done
	for f in spdx cdx; do
		check "$img embedded /usr/share/sbom/$img.$f.json valid" \
			/usr/bin/python3 "$VALIDATE" "$ROOTS/$img/usr/share/sbom/$img.$f.json"
	done
}

# ---- host-built probes ------------------------------------------------------
check "probe: gcc -static static-probe.c" gcc -static -O2 -o "$W/static-probe" "$P/static-probe.c"
check "probe: gcc tls-probe.c -lssl -lcrypto" gcc -O2 -o "$W/tls-probe" "$P/tls-probe.c" -lssl -lcrypto
check "probe: g++ cxx-probe.cc (dynamic libstdc++)" g++ -O2 -o "$W/cxx-probe" "$P/cxx-probe.cc"
check "probe: javac TrustProbe.java" javac --release 17 -d "$W/probe-java" "$P/TrustProbe.java"
check "static-probe is statically linked" bash -c "! readelf -d '$W/static-probe' | grep -q NEEDED"
check "cxx-probe needs libstdc++ and libgcc_s" bash -c \
	"readelf -d '$W/cxx-probe' | grep -q 'libstdc++' && readelf -d '$W/cxx-probe' | grep -q 'libgcc_s'"

# ---- lock and build ---------------------------------------------------------
t0=$SECONDS
check "lock ${IMAGES[*]} from the host's apt sources" "$PARE" --quiet lock "${IMAGES[@]}"
echo "# lock: $((SECONDS - t0)) s"
for img in "${IMAGES[@]}"; do
	t0=$SECONDS
	if ! "$PARE" --quiet build "$img" -o "$W/$img" >"$W/$img.build.log" 2>&1; then
		fail "build $img" "$(cat "$W/$img.build.log")"
		continue
	fi
	ok "build $img"
	echo "# build $img: $((SECONDS - t0)) s, $(du -sb "$W/$img" | cut -f1) bytes"
	check "unpack $img" unpack "$img"
	R=$ROOTS/$img
	check_eq "$img: image config User" "65532" "$(jq -r '.config.User | split(":")[0]' "$W/$img.config.json")"
	check "$img: no /bin/sh" test ! -e "$R/bin/sh" -a ! -L "$R/bin/sh" -a ! -e "$R/usr/bin/sh" -a ! -L "$R/usr/bin/sh"
	for x in dash bash dpkg apt apt-get; do
		check "$img: no $x" test ! -e "$R/usr/bin/$x" -a ! -e "$R/bin/$x"
	done
	pk=$(jq -r --arg r "$img" '.recipes[$r].archs[].packages[].name' "$PARE_LOCK")
	check "$img: closure has no shell or package manager" \
		bash -c "! grep -Eqx 'dash|bash|dpkg|apt|perl-base' <<<'$pk'"
	sbom_checks "$img"
done

# ---- static: a static binary reads the image's data files -------------------
if [[ -d $ROOTS/static ]]; then
	check "static: no libc in the image" bash -c "! ls '$ROOTS'/static/usr/lib/*/libc.so.6 2>/dev/null | grep -q ."
	install -m 0755 "$W/static-probe" "$ROOTS/static/static-probe"
	out=$(run static -- /static-probe 2>&1) || true
	note static "$out"
	certs=$(awk '$1 == "certs" { print $2 }' <<<"$out")
	check "static: static binary counts >100 CA certificates (${certs:-none})" test "${certs:-0}" -gt 100
	check_eq "static: Europe/Paris is a TZif file" "zoneinfo TZif" "$(grep '^zoneinfo' <<<"$out")"
	check "static: /etc/services lists https" grep -Eq '^services-https [1-9]' <<<"$out"
	check "static: /etc/os-release has ID=" grep -q '^os-release ID=' <<<"$out"
	check_eq "static: the program ran as 65532" "uid 65532" "$(grep '^uid' <<<"$out")"
fi

# ---- base: the image's libc and libssl load the bundle -----------------------
if [[ -d $ROOTS/base ]]; then
	install -m 0755 "$W/tls-probe" "$ROOTS/base/tls-probe"
	out=$(run base -- /tls-probe 2>&1) || true
	echo "# base: $out"
	n=$(awk '$1 == "roots" { print $2 }' <<<"$out")
	check "base: OpenSSL default verify paths hold >100 roots (${n:-none})" test "${n:-0}" -gt 100
	check "base: a root from the bundle verifies against the store" grep -q 'verify ok' <<<"$out"
	# the image's own libssl, not the host's: the probe ran with no host /usr
	check "base: the image ships its libssl" bash -c "ls '$ROOTS'/base/usr/lib/*/libssl.so.3"
fi

# ---- cc: C++ exceptions and iostream ----------------------------------------
if [[ -d $ROOTS/cc ]]; then
	install -m 0755 "$W/cxx-probe" "$ROOTS/cc/cxx-probe"
	out=$(run cc -- /cxx-probe 2>&1) || true
	check_eq "cc: C++ program throws, catches and prints" "caught 3 ok" "$out"
fi

# ---- java: the JVM runs and trusts the CA certificates ----------------------
if [[ -d $ROOTS/java ]]; then
	out=$(run java -- java -version 2>&1) || true
	note java "$out"
	check "java: java -version runs as nonroot" grep -q 'OpenJDK Runtime Environment' <<<"$out"
	# the image's own entrypoint and JAVA_HOME (arch-neutral default-java paths)
	mapfile -t ep < <(jq -r '.config.Entrypoint[]' "$W/java.config.json")
	out=$(run java -- "${ep[@]}" -version 2>&1) || true
	check "java: the entrypoint (${ep[*]}) runs" grep -q 'OpenJDK Runtime Environment' <<<"$out"
	jh=$(jq -r '.config.Env[] | select(startswith("JAVA_HOME=")) | sub("JAVA_HOME="; "")' "$W/java.config.json")
	out=$(run java -- "$jh/bin/java" -version 2>&1) || true
	check "java: JAVA_HOME ($jh) holds the JVM" grep -q 'OpenJDK Runtime Environment' <<<"$out"
	mkdir -p "$ROOTS/java/probe"
	cp "$W/probe-java/TrustProbe.class" "$ROOTS/java/probe/"
	out=$(run java -- java -cp /probe TrustProbe 2>&1) || true
	note java "$out"
	n=$(awk '$1 == "issuers" { print $2 }' <<<"$out")
	check "java: the PKIX trust manager accepts >100 issuers (${n:-none})" test "${n:-0}" -gt 100
	# the generated trust store is deterministic: a second build (layers
	# from the cache, the top layer made again) gives the same image
	d1=$(jq -r '.manifests[0].digest' "$W/java/index.json")
	d2=$("$PARE" --quiet build java -o "$W/java-again" 2>"$W/java-again.err") || true
	check_eq "java: a second build gives the same index digest" "$d1" "$d2"
fi

# ---- nodejs -----------------------------------------------------------------
if [[ -d $ROOTS/nodejs ]]; then
	out=$(run nodejs -- node -e '
		const tls = require("tls"), crypto = require("crypto");
		console.log(process.versions.node, tls.rootCertificates.length,
			crypto.createHash("sha256").update("pare").digest("hex"), process.getuid());' 2>&1) || true
	echo "# nodejs: $out"
	read -r nver nroots nhash nuid <<<"$out" || true
	check "nodejs: node -e prints its version (${nver:-none})" grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' <<<"${nver:-}"
	check "nodejs: tls.rootCertificates has >100 entries (${nroots:-none})" test "${nroots:-0}" -gt 100
	check_eq "nodejs: crypto sha256 works" "$(printf pare | sha256sum | cut -d' ' -f1)" "${nhash:-}"
	check_eq "nodejs: runs as 65532" 65532 "${nuid:-}"
fi

# ---- nginx: serves its default page as 65532 --------------------------------
if [[ -d $ROOTS/nginx ]]; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# the stock configuration listens on port 80, which needs a runtime with
	# ip_unprivileged_port_start = 0; this one differs in the port and in
	# writing its pid to /tmp (where the runtime gives a writable tmpfs), and
	# serves the stock default site's root
	cat >"$ROOTS/nginx/etc/nginx/e2e.conf" <<EOF
daemon off;
pid /tmp/nginx.pid;
error_log stderr notice;
events { worker_connections 64; }
http {
	include /etc/nginx/mime.types;
	# the recipe's link to /dev/stdout
	access_log /var/log/nginx/access.log;
	server {
		listen 127.0.0.1:$port;
		root /var/www/html;
		index index.html index.htm index.nginx-debian.html;
	}
}
EOF
	# a runtime hands the container user its stdout and stderr (runc and
	# crun chown them): nginx reopens /dev/stdout for its access log
	# (nginx -t binds the listen ports too, so the stock nginx.conf's port 80
	# cannot be tested here)
	install -m 0600 -o 65532 -g 65532 /dev/null "$W/nginx-t.log"
	run nginx -- /usr/sbin/nginx -t -c /etc/nginx/e2e.conf >>"$W/nginx-t.log" 2>&1 || true
	check_match "nginx: nginx -t accepts the configuration as 65532" 'test is successful' "$(cat "$W/nginx-t.log")"
	install -m 0600 -o 65532 -g 65532 /dev/null "$W/nginx.log"
	run nginx --share-net --die-with-parent -- /usr/sbin/nginx -c /etc/nginx/e2e.conf >>"$W/nginx.log" 2>&1 &
	npid=$!
	at_exit "kill $npid 2>/dev/null"
	code=000
	for ((i = 0; i < 50; i++)); do
		code=$(curl -s -o "$W/page.html" -w '%{http_code}' "http://127.0.0.1:$port/") || true
		[[ $code == 000 ]] || break
		kill -0 "$npid" 2>/dev/null || break
		sleep 0.1
	done
	check_eq "nginx: curl gets the default page (HTTP status)" 200 "$code"
	check "nginx: the page is nginx's welcome page" grep -q 'Welcome to nginx' "$W/page.html"
	kill "$npid" 2>/dev/null || true
	wait "$npid" 2>/dev/null || true
	log=$(cat "$W/nginx.log")
	if grep -Eq '\[(emerg|alert|crit)\]' <<<"$log"; then
		fail "nginx: ran without errors" "$log"
	else
		ok "nginx: ran without errors"
	fi
	check_match "nginx: the access log went to stdout" '"GET / HTTP/1.1" 200' "$log"
	# nginx makes its temporary directories at start (the compiled-in
	# /var/lib/nginx/body, …): the recipe gives /var/lib/nginx to nonroot
	check_eq "nginx: made its temp dirs as 65532" "65532" \
		"$(stat -c %u "$ROOTS/nginx/var/lib/nginx/body" 2>&1)"
fi

# ---- arm64: the shipped recipes build for another architecture --------------
# Nothing runs at build time, so an arm64 image needs no emulation to build;
# it cannot run here, so its structure is checked: the entrypoint resolves
# inside the rootfs to an aarch64 ELF whose program interpreter resolves too.
if [[ $(dpkg --print-architecture) == amd64 ]]; then
	A=$W/arm64-recipes
	mkdir -p "$A"
	cp "$PARE_SRC"/recipes/*.yaml "$A/"
	for r in java python3; do
		printf 'extends: %s.yaml\nname: %s-arm64\narchs: [amd64, arm64]\n' "$r" "$r" >"$A/$r-arm64.yaml"
	done
	check "arm64: lock java and python3 for amd64 + arm64" \
		env PARE_RECIPES="$A" PARE_LOCK="$W/arm64.lock" "$PARE" --quiet lock java-arm64 python3-arm64
	# inroot R PATH: PATH resolved inside the rootfs R, component by component
	# (an absolute link target is relative to R, not to the host)
	inroot() {
		local R=$1 p=$2 depth=${3:-0} cur="" c t
		((depth < 40)) || { echo /nonexistent; return; }
		IFS=/ read -ra parts <<<"${p#/}"
		for c in "${parts[@]}"; do
			[[ -z $c || $c == . ]] && continue
			if [[ $c == .. ]]; then cur=$(dirname "${cur:-/}"); [[ $cur == / ]] && cur=""; continue; fi
			cur=$cur/$c
			if [[ -L $R$cur ]]; then
				t=$(readlink "$R$cur")
				[[ $t == /* ]] || t=$(dirname "$cur")/$t
				cur=$(inroot "$R" "$t" $((depth + 1)))
				[[ $cur == / ]] && cur=""
			fi
		done
		echo "${cur:-/}"
	}
	for spec in "java-arm64:/usr/lib/jvm/default-java/bin/java" "python3-arm64:/usr/bin/python3"; do
		r=${spec%%:*} ep=${spec#*:}
		out=$W/$r
		if ! PARE_RECIPES="$A" PARE_LOCK="$W/arm64.lock" "$PARE" --quiet build "$r" -o "$out" >"$W/$r.log" 2>&1; then
			fail "arm64: build $r" "$(cat "$W/$r.log")"
			continue
		fi
		ok "arm64: build $r"
		ix=$(jq -r '.manifests[0].digest' "$out/index.json")
		check_eq "arm64: $r index lists amd64 and arm64" "amd64 arm64" \
			"$(jq -r '[.manifests[] | select(.platform) | .platform.architecture] | sort | join(" ")' "$(blob "$out" "$ix")")"
		m=$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' "$(blob "$out" "$ix")")
		R=$ROOTS/$r
		mkdir -p "$R"
		for l in $(jq -r '.layers[].digest' "$(blob "$out" "$m")"); do
			tar -xf "$(blob "$out" "$l")" -C "$R" --no-same-owner
		done
		f=$(inroot "$R" "$ep")
		check "arm64: $r: $ep resolves to a file ($f)" test -f "$R$f"
		check_match "arm64: $r: $ep is an aarch64 ELF" 'Machine: +AArch64' "$(readelf -h "$R$f" 2>&1)"
		interp=$(readelf -l "$R$f" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
		check "arm64: $r: its interpreter ${interp:-?} resolves in the image" test -n "$interp" -a -f "$R$(inroot "$R" "${interp:-/nonexistent}")"
		check "arm64: $r: no /bin/sh" test ! -e "$R/bin/sh" -a ! -L "$R/bin/sh"
	done
fi
done_testing
