#!/usr/bin/env bash
# The aarch64-linux-gnu cross toolchain, from Debian packages only (see toolchain/README.md):
#
#   build/toolchain/chroot/   Debian trixie (amd64, debootstrap minbase) running Debian's swiftlang 6.0.3
#   build/toolchain/sdk/dialtone-aarch64.artifactbundle/
#                             Swift SDK bundle; its sysroot/ holds the arm64 -dev packages of every C
#                             library the daemon links (and their runtime libraries) plus the arm64
#                             Swift runtime from swiftlang:arm64 / libswiftlang:arm64
#   build/toolchain/sysroot   symlink to that sysroot (for qemu-aarch64-static -L and the image)
#   build/toolchain/apt/      private apt configuration (amd64 + arm64, trixie); never /etc/apt
#   $DIALTONE_CACHE           downloaded .deb files and index files (default ~/.cache/dialtone)
#
# Usage:
#   scripts/toolchain.sh [setup]      set up or refresh (idempotent: a second run changes nothing)
#   scripts/toolchain.sh exec -- CMD  run CMD in the chroot, the repository bind-mounted at its own
#                                     absolute path (cwd = repository) and the git package mirror too
#   scripts/toolchain.sh env          print SYSROOT=, SDKS=, SDK=, CHROOT= for other scripts
#   scripts/toolchain.sh umount       unmount anything left mounted under build/toolchain
#
# Mounts are made in a private mount namespace (unshare -m) when possible, so they vanish with the
# process even if it is killed, and are never visible to `rm -rf build` on the host; a trap unmounts
# them as well (and is the only cleanup where unshare is not available).
#
# Environment: DIALTONE_CACHE (download cache), DIALTONE_DEBIAN_MIRROR, DIALTONE_SECURITY_MIRROR,
# DIALTONE_TOOLCHAIN_REFRESH=1 (fetch fresh index files and rebuild what changed).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
WORK="$REPO/build/toolchain"
CACHE=${DIALTONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dialtone}
MIRROR=${DIALTONE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DIALTONE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SUITE=trixie
CHROOT="$WORK/chroot"
SDK_NAME=dialtone-aarch64
TRIPLE=aarch64-unknown-linux-gnu
SDKS="$WORK/sdk"
BUNDLE="$SDKS/$SDK_NAME.artifactbundle"
SYSROOT="$BUNDLE/$TRIPLE/sysroot"

# Host tools this script needs (Debian bookworm package names). Installed when missing.
HOST_PACKAGES=(debootstrap qemu-user-static)

# Packages installed in the chroot (amd64): the compiler and what SwiftPM needs around it.
CHROOT_PACKAGES=(swiftlang libc6-dev libstdc++-14-dev git pkgconf binutils-aarch64-linux-gnu)

# arm64 packages unpacked into the sysroot, with their whole dependency closure (runtime libraries
# included: the image takes its shared libraries from here). Every C library the daemon links today
# (libcrypto from libssl-dev) and those later issues need.
SYSROOT_PACKAGES=(
  libc6-dev libgcc-14-dev libstdc++-14-dev linux-libc-dev zlib1g-dev
  libssl-dev
  libspandsp-dev libspeexdsp-dev libasound2-dev libnl-3-dev libnl-route-3-dev libmicrohttpd-dev
  libbcg729-dev libopus-dev
)

# Bump when the way the chroot or the sysroot is assembled changes, so existing ones are rebuilt.
CHROOT_RECIPE=1
SYSROOT_RECIPE=2

log() { printf 'toolchain: %s\n' "$*" >&2; }
die() { printf 'toolchain: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Mounts

MOUNTED=()   # mount points made by this process, innermost last

mount_bind() { # SRC DEST [ro]
  mkdir -p "$2"
  mount --bind "$1" "$2"
  MOUNTED+=("$2")
  if [ "${3:-}" = ro ]; then mount -o remount,bind,ro "$2"; fi
}

mount_proc() { # DEST
  mkdir -p "$1"
  mount -t proc proc "$1"
  MOUNTED+=("$1")
}

unmount_all() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTED[$i]}" 2>/dev/null || umount -l "${MOUNTED[$i]}" 2>/dev/null ||
      log "warning: could not unmount ${MOUNTED[$i]}"
  done
  MOUNTED=()
}

# Mount points under DIR in the current mount namespace (deepest first).
mounts_under() {
  awk -v d="$1" '{ p = $5; gsub(/\\040/, " ", p); if (p == d || index(p, d "/") == 1) print p }' \
    /proc/self/mountinfo | sort -r
}

# Refuses to go on (before any rm -rf) while something is mounted under DIR.
assert_no_mounts() {
  local left
  left=$(mounts_under "$1")
  [ -z "$left" ] || die "still mounted under $1 (run scripts/toolchain.sh umount): $left"
}

# Re-runs this script in a private mount namespace, unless already there or unshare is refused.
enter_namespace() {
  [ -n "${DIALTONE_TOOLCHAIN_NS:-}" ] && return 0
  if unshare --mount --propagation private true 2>/dev/null; then
    DIALTONE_TOOLCHAIN_NS=1 exec unshare --mount --propagation private "$REPO/scripts/toolchain.sh" "$@"
  fi
  log "unshare unavailable: mounting in the host namespace (a trap unmounts)"
}

# ---------------------------------------------------------------------------------------------
# Host side

ensure_host_tools() {
  local missing=() p
  for p in "${HOST_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing host packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Writes FILE from stdin only when the content differs (keeps mtimes, so nothing "changes").
write_if_changed() {
  local tmp
  tmp=$(mktemp)   # not beside $1: creating it there would touch the folder
  cat >"$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; else chmod 644 "$tmp"; mv -f "$tmp" "$1"; fi
}

subst() {
  sed -e "s|@WORK@|$WORK|g" -e "s|@CACHE@|$CACHE|g" -e "s|@MIRROR@|$MIRROR|g" \
    -e "s|@SECURITY_MIRROR@|$SECURITY_MIRROR|g" "$1"
}

setup_apt() {
  mkdir -p "$WORK/apt/state" "$WORK/apt/cache" "$WORK/apt/empty.d" "$WORK/apt/log" \
    "$CACHE/apt/lists/partial" "$CACHE/debs/partial" "$CACHE/debootstrap"
  [ -f "$WORK/apt/state/status" ] || : >"$WORK/apt/state/status"
  [ -f "$WORK/apt/preferences" ] || : >"$WORK/apt/preferences"
  subst "$REPO/toolchain/apt/apt.conf.in" | write_if_changed "$WORK/apt/apt.conf"
  subst "$REPO/toolchain/apt/apt-arm64.conf.in" | write_if_changed "$WORK/apt/apt-arm64.conf"
  subst "$REPO/toolchain/apt/sources.list.in" | write_if_changed "$WORK/apt/sources.list"
}

apt_host() { APT_CONFIG="$WORK/apt/apt.conf" apt-get -q "$@"; }
apt_arm64() { APT_CONFIG="$WORK/apt/apt-arm64.conf" apt-get -q "$@"; }

lists_present() {
  compgen -G "$CACHE/apt/lists/*_dists_${SUITE}_InRelease" >/dev/null &&
    compgen -G "$CACHE/apt/lists/*_dists_${SUITE}_main_binary-arm64_Packages*" >/dev/null &&
    compgen -G "$CACHE/apt/lists/*_dists_${SUITE}_main_binary-amd64_Packages*" >/dev/null
}

update_lists() {
  log "fetching $SUITE index files (amd64, arm64)"
  apt_host update >"$WORK/apt/log/update.log" 2>&1 || { cat "$WORK/apt/log/update.log" >&2; die "apt-get update failed"; }
}

# Index files are fetched once and then reused (so a second run downloads nothing). When the
# mirror has moved on and a cached index names a file that is gone, the callers refresh and retry.
ensure_lists() {
  if [ "${DIALTONE_TOOLCHAIN_REFRESH:-}" = 1 ] && [ -z "${LISTS_REFRESHED:-}" ]; then
    update_lists
    LISTS_REFRESHED=1
  elif ! lists_present; then
    update_lists
  fi
}

# Runs "$@"; on failure refreshes the index files once and runs it again.
with_fresh_lists_on_failure() {
  "$@" && return 0
  [ -n "${LISTS_REFRESHED:-}" ] && return 1
  log "retrying with fresh index files"
  update_lists
  LISTS_REFRESHED=1
  "$@"
}

lists_fingerprint() {
  cat "$CACHE"/apt/lists/*_InRelease | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------------------------------------
# Chroot

in_chroot() {
  chroot "$CHROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/libexec/swift/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    ${CHROOT_ENV[@]+"${CHROOT_ENV[@]}"} "$@"
}

debootstrap_tarball() {
  local tarball="$CACHE/debootstrap/$SUITE-amd64-minbase.tgz"
  if [ ! -s "$tarball" ]; then
    log "downloading the $SUITE minbase system (debootstrap --make-tarball)"
    local tmp="$WORK/debootstrap-tmp"
    rm -rf "$tmp" "$tarball.part"
    debootstrap --make-tarball="$tarball.part" --variant=minbase --arch=amd64 "$SUITE" "$tmp" "$MIRROR" \
      >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap --make-tarball failed"; }
    mv "$tarball.part" "$tarball"
    rm -rf "$tmp"
  fi
  echo "$tarball"
}

# The chroot is rebuilt when its recipe changes or on DIALTONE_TOOLCHAIN_REFRESH=1, not when the
# index files change (the compiler it holds is pinned by the suite; the sysroot follows the lists).
chroot_stamp() {
  local tarball="$CACHE/debootstrap/$SUITE-amd64-minbase.tgz"
  { echo "recipe=$CHROOT_RECIPE mirror=$MIRROR suite=$SUITE"; echo "${CHROOT_PACKAGES[*]}"
    if [ -f "$tarball" ]; then stat -c '%s' "$tarball"; fi; } | sha256sum | cut -c1-16
}

ensure_chroot() {
  local stamp
  stamp=$(chroot_stamp)
  if [ -f "$CHROOT/.dialtone-chroot" ] && [ "$(cat "$CHROOT/.dialtone-chroot")" = "$stamp" ] &&
    [ "${DIALTONE_TOOLCHAIN_REFRESH:-}" != 1 ]; then
    return 0
  fi
  local tarball
  tarball=$(debootstrap_tarball)
  assert_no_mounts "$CHROOT"
  log "creating the $SUITE chroot"
  rm -rf "$CHROOT"
  debootstrap --unpack-tarball="$tarball" --variant=minbase --arch=amd64 "$SUITE" "$CHROOT" "$MIRROR" \
    >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
  subst "$REPO/toolchain/apt/sources.list.in" >"$CHROOT/etc/apt/sources.list"
  rm -f "$CHROOT"/etc/apt/sources.list.d/*
  cat >"$CHROOT/etc/apt/apt.conf.d/90dialtone" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::Sandbox::User "root";
APT::Keep-Downloaded-Packages "true";
Acquire::Languages "none";
EOF
  log "installing ${CHROOT_PACKAGES[*]} in the chroot"
  mount_proc "$CHROOT/proc"
  mount_bind /dev "$CHROOT/dev"
  # The chroot's apt reads the cached index files and keeps its .deb files in the cache.
  mount_bind "$CACHE/apt/lists" "$CHROOT/var/lib/apt/lists"
  mount_bind "$CACHE/debs" "$CHROOT/var/cache/apt/archives"
  local install=(apt-get -q -y install "${CHROOT_PACKAGES[@]}")
  with_fresh_lists_on_failure in_chroot "${install[@]}" >"$WORK/chroot-install.log" 2>&1 ||
    { tail -30 "$WORK/chroot-install.log" >&2; die "installing packages in the chroot failed"; }
  unmount_all
  rm -f "$CHROOT"/var/cache/apt/*.bin
  # Git: the same url.*.insteadOf redirections as the host (a local package mirror); the mirror
  # itself is bind-mounted at the same path by `exec`.
  {
    echo "[safe]"
    echo "	directory = *"
    git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null | while read -r key value; do
      local base=${key#url.}
      base=${base%.insteadof}
      printf '[url "%s"]\n\tinsteadOf = %s\n' "$base" "$value"
    done
  } >"$CHROOT/etc/gitconfig"
  chroot_stamp >"$CHROOT/.dialtone-chroot"
}

swift_version_in_chroot() {
  chroot "$CHROOT" dpkg-query -W -f='${Version}' swiftlang
}

# Local directories the host's git redirects github.com to (bind-mounted into the chroot).
git_mirrors() {
  git config --system --get-regexp '^url\..*\.insteadof$' 2>/dev/null | while read -r key _; do
    local base=${key#url.}
    base=${base%.insteadof}
    base=${base%/}
    case "$base" in /*) [ -d "$base" ] && echo "$base" ;; esac
  done | sort -u
}

# ---------------------------------------------------------------------------------------------
# Sysroot and SDK bundle

# "name=version:arch" of every arm64 package in the closure, from a dry run (no download).
sysroot_closure() {
  apt_arm64 -s install "${SYSROOT_PACKAGES[@]}" 2>&1 |
    awk '/^Inst /{ v = $3; sub(/^\(/, "", v); a = ""
                   for (i = 4; i <= NF; i++) if ($i ~ /^\[[a-z0-9]+\]\)$/) { a = $i; gsub(/[][)]/, "", a) }
                   print $2 " " v " " a }'
}

deb_file() { # NAME VERSION ARCH
  echo "$CACHE/debs/${1}_${2//:/%3a}_${3}.deb"
}

sysroot_stamp() {
  { echo "recipe=$SYSROOT_RECIPE"; echo "${SYSROOT_PACKAGES[*]}"; lists_fingerprint; swift_version_in_chroot; } |
    sha256sum | cut -c1-16
}

fetch_sysroot_debs() {
  apt_arm64 -y --download-only install "${SYSROOT_PACKAGES[@]}" >"$WORK/apt/log/sysroot-download.log" 2>&1
}

fetch_swift_arm64() { # VERSION
  local missing=() p
  for p in swiftlang libswiftlang; do
    [ -s "$(deb_file "$p" "$1" arm64)" ] || missing+=("$p:arm64=$1")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  (cd "$CACHE/debs" && apt_host download "${missing[@]}") >"$WORK/apt/log/swift-download.log" 2>&1
}

build_sysroot() {
  local stamp
  stamp=$(sysroot_stamp)
  if [ -f "$SYSROOT/.dialtone-sysroot" ] && [ "$(cat "$SYSROOT/.dialtone-sysroot")" = "$stamp" ]; then
    return 0
  fi
  local swift_version
  swift_version=$(swift_version_in_chroot)
  log "fetching the arm64 packages (sysroot closure, swiftlang:arm64 $swift_version)"
  with_fresh_lists_on_failure fetch_sysroot_debs ||
    { tail -20 "$WORK/apt/log/sysroot-download.log" >&2; die "downloading the arm64 packages failed"; }
  with_fresh_lists_on_failure fetch_swift_arm64 "$swift_version" ||
    { tail -20 "$WORK/apt/log/swift-download.log" >&2; die "downloading swiftlang:arm64 failed"; }
  stamp=$(sysroot_stamp)

  local new="$SYSROOT.new"
  assert_no_mounts "$BUNDLE"
  rm -rf "$new"
  mkdir -p "$new/usr/lib" "$new/usr/bin" "$new/usr/sbin"
  # merged /usr, as on trixie
  ln -s usr/lib "$new/lib"
  ln -s usr/bin "$new/bin"
  ln -s usr/sbin "$new/sbin"
  local n=0 name version arch deb
  while read -r name version arch; do
    deb=$(deb_file "$name" "$version" "$arch")
    [ -s "$deb" ] || die "missing $deb after download"
    dpkg-deb -x "$deb" "$new"
    n=$((n + 1))
  done < <(sysroot_closure)
  [ "$n" -gt 0 ] || die "empty sysroot closure (see $WORK/apt/log)"
  # The arm64 Swift runtime and resource directories (modules, static libraries, clang headers).
  dpkg-deb -x "$(deb_file libswiftlang "$swift_version" arm64)" "$new"
  local tmp="$WORK/swiftlang-arm64"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  dpkg-deb --fsys-tarfile "$(deb_file swiftlang "$swift_version" arm64)" |
    tar -x -C "$tmp" ./usr/libexec/swift/lib/swift ./usr/libexec/swift/lib/swift_static ./usr/libexec/swift/lib/clang
  mkdir -p "$new/usr/libexec/swift/lib"
  cp -a "$tmp/usr/libexec/swift/lib/." "$new/usr/libexec/swift/lib/"
  rm -rf "$tmp"
  fix_sysroot "$new"
  echo "$stamp" >"$new/.dialtone-sysroot"
  echo "$n packages + libswiftlang:arm64 + swiftlang:arm64 (resource dirs) $swift_version" >"$new/.dialtone-contents"
  sysroot_closure >>"$new/.dialtone-contents"
  mkdir -p "$(dirname "$SYSROOT")"
  rm -rf "$SYSROOT"
  mv "$new" "$SYSROOT"
  log "sysroot: $n arm64 packages, $(du -sh "$SYSROOT" | cut -f1)"
}

fix_sysroot() { # DIR
  local root=$1 link target
  # A package that ships files under /lib (not /usr/lib) would have replaced the symlink.
  for d in lib bin sbin; do
    if [ -d "$root/$d" ] && [ ! -L "$root/$d" ]; then
      cp -a "$root/$d/." "$root/usr/$d/"
      rm -rf "${root:?}/$d"
      ln -s "usr/$d" "$root/$d"
    fi
  done
  # Absolute symlinks would point out of the sysroot: make them relative.
  while IFS= read -r -d '' link; do
    target=$(readlink "$link")
    case "$target" in
      /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$root$target")" "$link" ;;
    esac
  done < <(find "$root" -type l -print0)
  # Not for this target: Embedded Swift modules, the arm64 compiler's own plugins and package
  # manifest modules (the compiler that runs is the amd64 one in the chroot), documentation.
  rm -rf "$root"/usr/libexec/swift/lib/swift/{embedded,host,pm,migrator,FrameworkABIBaseline} \
    "$root"/usr/libexec/swift/lib/swift_static/embedded \
    "$root"/usr/share/{doc,man,info,locale,lintian,bug}
  # Debian's swift_static still names ICU libraries it does not ship (-static-executable fails).
  local lnk="$root/usr/libexec/swift/lib/swift_static/linux/static-executable-args.lnk"
  [ -f "$lnk" ] && sed -i '/^-licu/d' "$lnk"
}

write_sdk_bundle() {
  mkdir -p "$BUNDLE/$TRIPLE"
  write_if_changed "$BUNDLE/info.json" <<EOF
{
  "schemaVersion": "1.0",
  "artifacts": {
    "$SDK_NAME": {
      "type": "swiftSDK",
      "version": "$(swift_version_in_chroot)",
      "variants": [{ "path": "$TRIPLE" }]
    }
  }
}
EOF
  write_if_changed "$BUNDLE/$TRIPLE/swift-sdk.json" <<EOF
{
  "schemaVersion": "4.0",
  "targetTriples": {
    "$TRIPLE": {
      "sdkRootPath": "sysroot",
      "swiftResourcesPath": "sysroot/usr/libexec/swift/lib/swift",
      "swiftStaticResourcesPath": "sysroot/usr/libexec/swift/lib/swift_static",
      "includeSearchPaths": [],
      "librarySearchPaths": [],
      "toolsetPaths": ["toolset.json"]
    }
  }
}
EOF
  write_if_changed "$BUNDLE/$TRIPLE/toolset.json" <<EOF
{
  "schemaVersion": "1.0",
  "swiftCompiler": { "extraCLIOptions": ["-use-ld=lld"] }
}
EOF
  # Only to quiet the driver's "Could not read SDKSettings.json" warning (a Darwin notion).
  echo '{"Version":"13.0","CanonicalName":"debian-trixie-arm64"}' | write_if_changed "$SYSROOT/SDKSettings.json"
  if [ "$(readlink "$WORK/sysroot" 2>/dev/null)" != "sdk/$SDK_NAME.artifactbundle/$TRIPLE/sysroot" ]; then
    ln -sfn "sdk/$SDK_NAME.artifactbundle/$TRIPLE/sysroot" "$WORK/sysroot"
  fi
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_setup() {
  local t0=$SECONDS
  mkdir -p "$WORK"
  exec 9>>"$WORK/.lock"
  flock 9
  trap unmount_all EXIT
  trap 'exit 130' INT TERM
  ensure_host_tools
  setup_apt
  ensure_lists
  ensure_chroot
  build_sysroot
  write_sdk_bundle
  log "ready in $((SECONDS - t0)) s: swiftlang $(swift_version_in_chroot) in $CHROOT, sysroot $WORK/sysroot"
}

toolchain_ready() {
  [ -f "$CHROOT/.dialtone-chroot" ] && [ -f "$SYSROOT/.dialtone-sysroot" ] && [ -f "$BUNDLE/$TRIPLE/swift-sdk.json" ]
}

# exec -- CMD...: the repository at its own path (so #filePath and every absolute path agree in
# and out of the chroot), the git mirrors read-only, /proc and /dev. Extra environment for CMD is
# taken from DIALTONE_CHROOT_ENV (space-separated NAME=VALUE words).
cmd_exec() {
  [ "${1:-}" = "--" ] && shift
  [ $# -gt 0 ] || die "exec: no command"
  toolchain_ready || die "no toolchain in $WORK: run make toolchain (scripts/toolchain.sh) first"
  exec 9>>"$WORK/.lock"
  flock -s 9
  trap unmount_all EXIT
  trap 'exit 130' INT TERM
  mount_proc "$CHROOT/proc"
  mount_bind /dev "$CHROOT/dev"
  mount_bind "$REPO" "$CHROOT$REPO"
  local m
  while read -r m; do
    [ -n "$m" ] && mount_bind "$m" "$CHROOT$m" ro
  done < <(git_mirrors)
  CHROOT_ENV=()
  if [ -n "${DIALTONE_CHROOT_ENV:-}" ]; then read -r -a CHROOT_ENV <<<"$DIALTONE_CHROOT_ENV"; fi
  local rc=0
  in_chroot /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$REPO" "$@" || rc=$?
  unmount_all
  return "$rc"
}

cmd_env() {
  echo "REPO=$REPO"
  echo "WORK=$WORK"
  echo "CHROOT=$CHROOT"
  echo "SYSROOT=$SYSROOT"
  echo "SDKS=$SDKS"
  echo "SDK=$SDK_NAME"
  echo "TRIPLE=$TRIPLE"
  echo "CACHE=$CACHE"
}

cmd_umount() {
  local m
  while read -r m; do
    [ -n "$m" ] || continue
    log "unmounting $m"
    umount "$m" 2>/dev/null || umount -l "$m"
  done < <(mounts_under "$WORK")
}

main() {
  local cmd=${1:-setup}
  [ $# -gt 0 ] && shift
  case "$cmd" in
    setup) [ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mount)"
           enter_namespace setup "$@"; cmd_setup "$@" ;;
    exec) [ "$(id -u)" -eq 0 ] || die "needs root (chroot, mount)"
          enter_namespace exec "$@"; cmd_exec "$@" ;;
    env) cmd_env ;;
    umount) cmd_umount ;;
    *) die "unknown command $cmd (setup | exec -- CMD | env | umount)" ;;
  esac
}

main "$@"
