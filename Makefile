# Dialtone — build, test, benchmark.
#
#   make deps     install the Debian packages the build and the tests need (idempotent, quiet)
#   make build    debug build of every target
#   make test     deps + build + every test (unit, conformance, CLI, short fuzz runs)
#   make bench    every benchmark; each prints `NAME: ours=X peer=Y ratio=Z` last
#   make fuzz     libFuzzer targets for FUZZ_SECONDS each (default 60)
#   make run      the daemon on the embedded default (arrives with the SIP endpoint issue)
#   make toolchain  aarch64 cross toolchain (Debian trixie swiftlang 6.0.3 in a chroot, arm64 sysroot)
#   make cross      dialtoned and dialtone for aarch64 into build/cross/aarch64/
#   make cross-test the test targets built for aarch64 and run under qemu-aarch64-static

SHELL := /bin/bash
SWIFT ?= swift
SCRATCH ?= .build
FUZZ_SECONDS ?= 60
# Short fuzz runs inside `make test` (seconds per target).
TEST_FUZZ_SECONDS ?= 20

# Debian packages: build (libssl-dev, pkg-config), benchmarks and tests (libosip2-dev, valgrind).
DEB_PACKAGES := pkg-config libssl-dev libosip2-dev valgrind \
	debootstrap qemu-user-static

.PHONY: all deps build test unit-test fuzz fuzz-smoke bench bench-parser run clean toolchain cross cross-test

all: build

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build --scratch-path $(SCRATCH)

# Short fuzz runs first, so the test runner's summary is the last thing printed.
test: deps build fuzz-smoke cross-test unit-test

unit-test: build
	$(SWIFT) test --scratch-path $(SCRATCH) --disable-xctest

fuzz-smoke: deps
	scripts/fuzz.sh $(TEST_FUZZ_SECONDS)

fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

bench: bench-parser

bench-parser: deps
	scripts/bench-parser.sh

run: build
	$(SCRATCH)/debug/dialtoned

# aarch64 cross toolchain: Debian trixie swiftlang 6.0.3 in a chroot (toolchain/README.md).
toolchain: deps
	scripts/toolchain.sh

cross: toolchain
	scripts/cross.sh build

cross-test: toolchain
	scripts/cross.sh test

clean:
	-scripts/toolchain.sh umount
	rm -rf .build .build-* build
