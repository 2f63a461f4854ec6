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
#   make image BOARD=…      root filesystem (initramfs) and kernel in build/images/<board>/
#   make qemu-test BOARD=…  boots the image under QEMU and checks dialtoned answers SIP OPTIONS

SHELL := /bin/bash
SWIFT ?= swift
SCRATCH ?= .build
FUZZ_SECONDS ?= 60
# Short fuzz runs inside `make test` (seconds per target).
TEST_FUZZ_SECONDS ?= 20

# Debian packages: build (libssl-dev, libnl-route-3-dev, pkg-config), benchmarks and tests (libosip2-dev, valgrind).
DEB_PACKAGES := pkg-config libssl-dev libosip2-dev libnl-3-dev libnl-route-3-dev valgrind baresip-core \
	debootstrap qemu-user-static \
	cpio kmod xz-utils binutils qemu-system-arm qemu-system-x86 sipsak iproute2 \
	sip-tester kamailio dnsmasq-base openssl
BOARD ?= qemu-virt-arm64

.PHONY: all deps build test unit-test fuzz fuzz-smoke bench bench-parser bench-transactions bench-register bench-proxy bench-ua-footprint bench-wan-recovery bench-ua-call-setup run clean toolchain cross cross-test image image-binaries qemu-test

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
test: deps build fuzz-smoke cross-test
	$(MAKE) --no-print-directory qemu-test BOARD=qemu-virt-arm64
	$(MAKE) --no-print-directory unit-test

unit-test: build
	$(SWIFT) test --scratch-path $(SCRATCH) --disable-xctest

fuzz-smoke: deps
	scripts/fuzz.sh $(TEST_FUZZ_SECONDS)

fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

bench: bench-parser bench-transactions bench-register bench-proxy bench-ua-footprint bench-wan-recovery bench-ua-call-setup

bench-transactions: deps
	scripts/bench-transactions.sh

bench-parser: deps
	scripts/bench-parser.sh

bench-register: deps
	scripts/bench-register.sh

bench-proxy: deps
	scripts/bench-proxy.sh

bench-ua-footprint: deps
	scripts/bench-ua-footprint.sh

bench-ua-call-setup: deps
	scripts/bench-ua-call-setup.sh

# Needs root (two network namespaces joined by a veth pair, 192.0.2.0/24).
bench-wan-recovery: deps
	scripts/bench-wan-recovery.sh

# The daemon on the development embedded default: SIP on 127.0.0.1:5060 (UDP, TCP), the built-in
# registrar and stateful proxy for 101/102@127.0.0.1 (board/dev/dialtone-run.json). Ctrl-C stops it.
run: build
	mkdir -p build/run
	$(SCRATCH)/debug/dialtoned --config board/dev/dialtone-run.json

# aarch64 cross toolchain: Debian trixie swiftlang 6.0.3 in a chroot (toolchain/README.md).
toolchain: deps
	scripts/toolchain.sh

cross: toolchain
	scripts/cross.sh build

cross-test: toolchain
	scripts/cross.sh test

# Host-native release build when the board's ARCH is the host's, else the aarch64 cross build.
image-binaries: deps
	@if scripts/board.sh host-native $(BOARD); then \
	  $(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-image; \
	else \
	  $(MAKE) --no-print-directory cross; \
	fi

# build/images/$(BOARD)/: vmlinuz, initrd.cpio.gz, sizes.txt, manifest.txt
image: image-binaries
	scripts/image.sh $(BOARD)

# Boots the image under QEMU (TCG) with the WAN in a network namespace; needs root (netns, tap).
qemu-test: image
	scripts/qemu-test.sh $(BOARD)

clean:
	-scripts/toolchain.sh umount
	rm -rf .build .build-* build
