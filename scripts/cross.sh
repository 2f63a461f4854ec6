#!/usr/bin/env bash
# Cross builds for aarch64-linux-gnu with Debian's Swift 6.0.3 (the toolchain of scripts/toolchain.sh;
# run `make toolchain` first).
#
#   scripts/cross.sh build   release build of dialtoned and dialtone (static Swift stdlib, shared C
#                            libraries), stripped copies in build/cross/aarch64/
#   scripts/cross.sh test    builds the test targets for aarch64 and runs the Swift Testing bundle
#                            under qemu-aarch64-static -L SYSROOT
#
# SwiftPM runs in the chroot with its own scratch path (.build-cross, or CROSS_SCRATCH); the
# repository is bind-mounted at its own absolute path, so #filePath (fixtures) is the same in the
# chroot where the tests are compiled and on the host where they run.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
eval "$(scripts/toolchain.sh env)"
SCRATCH=${CROSS_SCRATCH:-.build-cross}
OUT="$REPO/build/cross/aarch64"
QEMU=${QEMU_AARCH64:-qemu-aarch64-static}

log() { printf 'cross: %s\n' "$*" >&2; }
die() { printf 'cross: error: %s\n' "$*" >&2; exit 1; }

[ -f "$SDKS/$SDK.artifactbundle/$TRIPLE/swift-sdk.json" ] || die "no toolchain: run make toolchain first"

# pkg-config (SwiftPM reads the .pc files itself) must see the target's files, not the chroot's.
export DIALTONE_CHROOT_ENV="PKG_CONFIG_SYSROOT_DIR=$SYSROOT PKG_CONFIG_LIBDIR=$SYSROOT/usr/lib/aarch64-linux-gnu/pkgconfig:$SYSROOT/usr/share/pkgconfig PKG_CONFIG_PATH=$SYSROOT/usr/lib/aarch64-linux-gnu/pkgconfig:$SYSROOT/usr/share/pkgconfig"
SWIFTPM=(--scratch-path "$SCRATCH" --swift-sdks-path "$SDKS" --swift-sdk "$SDK")

swift_in_chroot() { scripts/toolchain.sh exec -- swift "$@"; }

cmd_build() {
  local t0=$SECONDS product
  for product in dialtoned dialtone; do
    log "building $product (release, $TRIPLE, --static-swift-stdlib)"
    swift_in_chroot build -c release "${SWIFTPM[@]}" --static-swift-stdlib --product "$product"
  done
  local bin="$SCRATCH/$TRIPLE/release"
  mkdir -p "$OUT"
  for product in dialtoned dialtone; do
    [ -x "$bin/$product" ] || die "$bin/$product was not built"
    scripts/toolchain.sh exec -- aarch64-linux-gnu-strip -o "$OUT/$product.tmp" "$bin/$product"
    mv -f "$OUT/$product.tmp" "$OUT/$product"
  done
  log "built in $((SECONDS - t0)) s:"
  local f
  for product in dialtoned dialtone; do
    f="$OUT/$product"
    printf 'cross:   %-40s %8d bytes stripped (%d unstripped)\n' "${f#"$REPO"/}" "$(stat -c %s "$f")" \
      "$(stat -c %s "$bin/$product")" >&2
  done
}

cmd_test() {
  local t0=$SECONDS
  log "building the tests for $TRIPLE (debug)"
  swift_in_chroot build --build-tests "${SWIFTPM[@]}"
  local bin="$REPO/$SCRATCH/$TRIPLE/debug"
  local bundle
  bundle=$(find "$bin" -maxdepth 1 -name '*PackageTests.xctest' -type f | head -n 1)
  [ -n "$bundle" ] || die "no *PackageTests.xctest in $bin"
  local built=$((SECONDS - t0))

  command -v "$QEMU" >/dev/null || die "$QEMU not found (Debian package qemu-user-static)"
  # The CLI tests spawn the package's executables: wrappers run them under qemu too (the host has
  # no binfmt registration for aarch64, and needs none).
  local wrappers="$REPO/build/cross/test-bin-aarch64"
  mkdir -p "$wrappers"
  local exe
  for exe in dialtone dialtoned; do
    [ -x "$bin/$exe" ] || continue
    printf '#!/bin/sh\nexec %s -L %s %s "$@"\n' "$(command -v "$QEMU")" "$SYSROOT" "$bin/$exe" >"$wrappers/$exe"
    chmod +x "$wrappers/$exe"
  done
  log "running $(basename "$bundle") under $QEMU -L $SYSROOT"
  local rc=0
  # Skipped under qemu-user only: glibc's posix_spawn learns of a failed exec through memory shared
  # with a CLONE_VFORK child, which qemu-user runs as a plain fork child, so spawning a missing
  # executable "succeeds" (the child exits 127). The native `make test` runs it.
  local skip=(--skip 'missingExecutableThrows')
  DIALTONE_BIN_DIR="$wrappers" "$QEMU" -L "$SYSROOT" "$bundle" --testing-library swift-testing "${skip[@]}" "$@" || rc=$?
  log "tests built in $built s, run in $((SECONDS - t0 - built)) s, exit $rc"
  return "$rc"
}

case "${1:-}" in
  build) shift; cmd_build "$@" ;;
  test) shift; cmd_test "$@" ;;
  *) die "usage: scripts/cross.sh build|test" ;;
esac
