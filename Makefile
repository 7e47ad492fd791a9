# pare - minimal, hardened, signed, reproducible OCI images from Debian packages.
#
#   make            build ./pare (strict warnings)
#   make deps       install the Debian packages needed to build and test (only what is missing)
#   make check      deps + build + all tests, then the same tests on an ASan/UBSan build
#   make run        deps + build + lock and build the shipped recipes from this machine's apt sources
#   make fresh-check  make run + make check in a fresh Debian 12 chroot (root, mmdebstrap; slow)
#   make e2e        tests that need the live Debian archive
#   make fuzz       longer libFuzzer runs (clang)
#   make install    pare, its man pages and bash completion under PREFIX (/usr/local); DESTDIR honoured
#   make uninstall  remove what make install put there

CC      ?= cc
PKG_CONFIG ?= pkg-config
PKGS    := libsolv libsolvext libarchive libssl libcrypto libcjson libgit2 libcurl yaml-0.1 libsodium zlib libdeflate yajl
BUILD   ?= build
WERROR  ?= -Werror
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
PARE_CFLAGS := -std=gnu11 -Wall -Wextra $(WERROR) -Wshadow -Wformat=2 -Wvla \
	-Wno-missing-field-initializers -D_FILE_OFFSET_BITS=64 \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) $(SANFLAGS)
# The libraries lazy/ loads on first use (lazy/lazy.h): compiled against, never linked.
LAZY_PKGS := libsolv libsolvext libarchive libgit2 libcurl
PARE_LIBS := $(shell $(PKG_CONFIG) --libs $(filter-out $(LAZY_PKGS),$(PKGS)) 2>/dev/null) -ldl -lpthread
# The flags above are computed when make reads this file: targets that install
# the packages first (run, check, e2e) build through a second $(MAKE), which
# reads it again once pkg-config and the -dev packages are there.
PKGS_OK := $(shell $(PKG_CONFIG) --exists $(PKGS) 2>/dev/null && echo yes)

MODULES := lazy common oci resolver sbom builder signer registry cve audit rebuild inventory evidence cli
LIB_SRCS := $(filter-out cli/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(wildcard tests/unit/unit-*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HEADERS := $(foreach m,$(MODULES),$(wildcard $(m)/*.h))

ifeq ($(BUILD),build)
PARE_BIN := pare
else
PARE_BIN := $(BUILD)/pare
endif

.PHONY: all deps check test asan run e2e fuzz mutants clean bench pkgs-missing fresh-check install uninstall FORCE
all: $(PARE_BIN) $(UNIT_BINS)

ifneq ($(PKGS_OK),yes)
$(LIB_OBJS) $(BUILD)/cli/main.o: pkgs-missing
endif
pkgs-missing:
	@echo "make: pkg-config does not find all of: $(PKGS) (run 'make deps' first)" >&2; exit 2

# $(BUILD)/flags holds the compiler and flags the objects were built with: when they
# change (make asan's sanitizers, say), every object is rebuilt.
BUILD_FLAGS := $(CC) $(PARE_CFLAGS) $(CFLAGS)
$(BUILD)/flags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(BUILD_FLAGS)' | cmp -s - $@ || echo '$(BUILD_FLAGS)' >$@
FORCE:

$(BUILD)/%.o: %.c $(HEADERS) $(BUILD)/flags
	@mkdir -p $(dir $@)
	$(CC) $(PARE_CFLAGS) $(CFLAGS) -c -o $@ $<

# The soname of each library lazy/ loads: the one this build compiled against (its -dev
# package's libNAME.so link, in pkg-config's libdir).
$(BUILD)/lazy/sonames.h: $(BUILD)/flags
	@mkdir -p $(dir $@)
	@for p in $(LAZY_PKGS); do \
		f=$$($(PKG_CONFIG) --variable=libdir $$p)/$$p.so; \
		n=$$(objdump -p "$$f" 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }'); \
		[ -n "$$n" ] || { echo "make: no soname in $$f (objdump -p)" >&2; exit 2; }; \
		echo "#define LAZY_SONAME_$${p#lib} \"$$n\""; \
	done >$@.tmp && mv $@.tmp $@
$(BUILD)/lazy/load.o: $(BUILD)/lazy/sonames.h
$(BUILD)/lazy/load.o: PARE_CFLAGS += -I$(BUILD)/lazy

$(BUILD)/libpare.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(PARE_BIN): $(BUILD)/cli/main.o $(BUILD)/libpare.a
	$(CC) $(PARE_CFLAGS) $(CFLAGS) -o $@ $^ $(PARE_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libpare.a tests/unit/tap.h
	@mkdir -p $(dir $@)
	$(CC) $(PARE_CFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libpare.a $(PARE_LIBS)

# Debian packages: build dependencies, then what the tests need (tests/DEPS).
# npm only when no npm is on PATH: a Node.js from elsewhere (its nodejs package
# bundles npm and conflicts with Debian's) serves as well.
DEPS := build-essential pkg-config libsolv-dev libsolvext-dev libarchive-dev libssl-dev \
	libcjson-dev libgit2-dev libcurl4-openssl-dev libyaml-dev libsodium-dev zlib1g-dev libdeflate-dev libyajl-dev gpgv gpg \
	clang libclang-rt-14-dev
deps:
	@need=""; for p in $(DEPS) $$(cat tests/DEPS 2>/dev/null | grep -v '^#'); do \
		case $$p in npm) command -v npm >/dev/null && continue;; esac; \
		dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed' || need="$$need $$p"; \
	done; \
	if [ -n "$$need" ]; then \
		echo "make deps: installing$$need"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$need; \
	fi
	@sh tests/get-cosign 2>/dev/null || true
	@sh tests/get-npm-tools >/dev/null || echo "make deps: no npm packages (tests/NPM); the schema checks that need them skip"

test: all
	tests/run --pare $(CURDIR)/pare

# The sanitizer build lives in build/asan; the tests run against it with
# leak detection on (LeakSanitizer is part of ASan on Linux).  fuzzer-no-link adds
# libFuzzer's coverage instrumentation (no libFuzzer: within noise for the suite), so
# the fuzz targets (tests/fuzz) link this build's library instead of compiling their own.
asan:
	$(MAKE) BUILD=build/asan CC=clang OPT=-O1 \
		SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

# The builds use every core (a plain `make` stays serial unless given -j).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# The fixture repositories (tests/fixtures/mkrepo, mkhostile: no pare in them) are built
# once, in build/fixtures, for both suites.  The two builds are one make, so they share the
# JOBS job slots: the ASan build's serial stretches (archive, links) fill with plain objects.
check: deps
	$(MAKE) -j$(JOBS) all asan
	rm -rf build/test-results build/fixtures
	-PARE_FIXTURES=$(CURDIR)/build/fixtures \
		tests/run --pare $(CURDIR)/pare --units $(CURDIR)/build/tests --suite plain
	-PARE_FIXTURES=$(CURDIR)/build/fixtures \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run --pare $(CURDIR)/build/asan/pare --units $(CURDIR)/build/asan/tests --suite asan
	rm -rf build/fixtures
	tests/summary

run: deps
	$(MAKE) -j$(JOBS) all
	./pare lock
	./pare build --all --outroot out

e2e: deps
	$(MAKE) all
	tests/run --pare $(CURDIR)/pare --e2e

fuzz: deps
	$(MAKE) -C tests/fuzz

# Install.  The man pages (pare(1), pare-COMMAND(1)) and the bash completion are
# made by the binary from its own command table, so a new command or option
# appears in them without editing anything here.  PARE_EXE: install that binary
# instead of building one (tests/t-install.sh installs the build under test).
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/pare
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PARE_EXE ?= $(PARE_BIN)
DOCS    := README.md $(wildcard docs/*.md)

$(BUILD)/man/pare.1: $(PARE_EXE)
	@rm -rf $(BUILD)/man.tmp && mkdir -p $(BUILD)/man.tmp
	$(abspath $(PARE_EXE)) help --man >$(BUILD)/man.tmp/pare.1
	for c in $$($(abspath $(PARE_EXE)) help --commands); do \
		$(abspath $(PARE_EXE)) help --man $$c >$(BUILD)/man.tmp/pare-$$c.1 || exit 1; done
	rm -rf $(BUILD)/man && mv $(BUILD)/man.tmp $(BUILD)/man

$(BUILD)/pare.bash: $(PARE_EXE)
	$(abspath $(PARE_EXE)) help --bash-completion >$@.tmp && mv $@.tmp $@

install: $(PARE_EXE) $(BUILD)/man/pare.1 $(BUILD)/pare.bash
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR)/docs
	install -m 0755 $(PARE_EXE) $(DESTDIR)$(BINDIR)/pare
	install -m 0644 $(BUILD)/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(BUILD)/pare.bash $(DESTDIR)$(BASHCOMPDIR)/pare
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(filter docs/%,$(DOCS)) $(DESTDIR)$(DOCDIR)/docs/

# Removes exactly the names make install writes (the man pages listed by the
# binary's table), then the directories pare owns if they are left empty.
uninstall: $(BUILD)/man/pare.1
	rm -f $(DESTDIR)$(BINDIR)/pare $(DESTDIR)$(BASHCOMPDIR)/pare \
		$(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard $(BUILD)/man/*.1))) \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(DOCS))
	-rmdir $(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR) 2>/dev/null

# make run, then make check, in a fresh bookworm chroot (tests/fresh-check; root).
fresh-check:
	tests/fresh-check

# hand-made mutants of security-critical code (tests/mutants.txt); not part of check
mutants: deps
	tests/mutants

clean:
	rm -rf build pare
