#!/usr/bin/env bash
# make image BOARD=… — root filesystem for a board, packed as a gzip cpio initramfs beside the
# board's kernel in build/images/<board>/ (vmlinuz, initrd.cpio.gz, manifest.txt, sizes.txt).
#
# Contents: busybox-static and the kernel of the board's Debian architecture (apt-get download into
# a cache, dpkg-deb -x; the system's apt sources are never touched), dialtoned and dialtone, every
# shared library they need (DT_NEEDED followed recursively, resolved inside SYSROOT), rootfs-overlay/,
# the board's kernel modules with their dependencies (modules.dep by depmod -b).
#
# Variables (environment):
#   BIN_DIR        where dialtoned and dialtone are. Default: .build-image/release for a board of the
#                  host's architecture (swift build -c release --static-swift-stdlib --scratch-path
#                  .build-image), build/cross/<ARCH> otherwise.
#   SYSROOT        where their shared libraries are resolved. Default: / for a native board,
#                  build/toolchain/sysroot otherwise.
#   DIALTONE_CACHE downloaded .deb files are kept in $DIALTONE_CACHE/debs (default ~/.cache/dialtone).
#   DIALTONE_APT_CONFIG  an existing private apt configuration to use (must list the board's
#                  architecture in APT::Architectures). Default: the cross toolchain's
#                  (build/toolchain/apt/apt.conf) when it is for the board's DEBIAN_SUITE, else our
#                  own under build/apt/<suite>/ (IMAGE_OWN_APT=1: always our own).
#   DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR  for our own apt configuration.
#   APT_MAX_AGE_DAYS  refresh our package lists when older than this (default 7).
#   IMAGE_STRIP    1 (default): strip the Dialtone binaries in the image (llvm-strip, the target's
#                  strip, or the Swift toolchain's llvm-objcopy).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=SCRIPTDIR/board.sh
. "$here/board.sh"

die() { printf 'image: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'image: %s\n' "$*" >&2; }

[[ $# -eq 1 ]] || die "usage: scripts/image.sh BOARD (boards: $(board_list | tr '\n' ' '))"
board_load "$1" || exit 1
board=$BOARD_NAME

for tool in dpkg-deb apt-get apt-cache readelf cpio gzip depmod find sort; do
    command -v "$tool" >/dev/null || die "$tool not found (make deps installs cpio and kmod)"
done

# --- inputs ------------------------------------------------------------------------------------
if [[ $BOARD_ARCH == "$(uname -m)" ]]; then
    BIN_DIR=${BIN_DIR:-$repo/.build-image/release}
    SYSROOT=${SYSROOT:-/}
else
    BIN_DIR=${BIN_DIR:-$repo/build/cross/$BOARD_ARCH}
    SYSROOT=${SYSROOT:-$repo/build/toolchain/sysroot}
fi
[[ -d $SYSROOT ]] || die "sysroot $SYSROOT does not exist (set SYSROOT=…; make toolchain builds it)"
SYSROOT=$(cd "$SYSROOT" && pwd)
[[ $SYSROOT == / ]] && SR="" || SR=$SYSROOT      # prefix for paths inside the sysroot
DIALTONE_CACHE=${DIALTONE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dialtone}
debcache=$DIALTONE_CACHE/debs/$BOARD_DEBIAN_SUITE
out=$repo/build/images/$board
work=$repo/build/images/.work/$board
rootfs=$work/rootfs
mkdir -p "$debcache" "$out" "$work"

case $BOARD_ARCH in
    aarch64) elf_machine="AArch64" ;;
    x86_64) elf_machine="Advanced Micro Devices X86-64" ;;
    arm | armv7*) elf_machine="ARM" ;;
    riscv64) elf_machine="RISC-V" ;;
    *) die "board $board: no ELF machine known for ARCH=$BOARD_ARCH (add it to scripts/image.sh)" ;;
esac
elf_machine_of() { readelf -h "$1" 2>/dev/null | sed -n 's/^ *Machine: *//p'; }

for b in dialtoned dialtone; do
    f=$BIN_DIR/$b
    [[ -f $f ]] || die "$f not found (BIN_DIR=$BIN_DIR; build it first: 'make cross' for $BOARD_ARCH, or swift build -c release --static-swift-stdlib --scratch-path .build-image for the host)"
    m=$(elf_machine_of "$f")
    [[ $m == "$elf_machine" ]] || die "$f is built for '$m', board $board needs '$elf_machine'"
done

# --- Debian packages for the board's architecture -------------------------------------------------
# apt_setup: which private apt configuration to use (never the system's sources):
#   DIALTONE_APT_CONFIG if set; else the cross toolchain's (scripts/toolchain.sh), when it is for the
#   board's suite and has lists (IMAGE_OWN_APT=1 skips it); else our own under build/apt/<suite>/
#   (own lists, cache and an empty dpkg status).
apt_setup() {
    if [[ -n ${DIALTONE_APT_CONFIG:-} ]]; then
        [[ -f $DIALTONE_APT_CONFIG ]] || die "DIALTONE_APT_CONFIG=$DIALTONE_APT_CONFIG does not exist"
        export APT_CONFIG=$DIALTONE_APT_CONFIG
        APT_OWN=0
        return
    fi
    local tc=$repo/build/toolchain/apt
    if [[ ${IMAGE_OWN_APT:-0} != 1 && -f $tc/apt.conf && -f $tc/sources.list ]] \
        && grep -Eq "^deb .* $BOARD_DEBIAN_SUITE main" "$tc/sources.list" \
        && APT_CONFIG=$tc/apt.conf apt-cache show --no-all-versions "busybox-static:$BOARD_DEB_ARCH" >/dev/null 2>&1; then
        export APT_CONFIG=$tc/apt.conf
        APT_OWN=0
        note "using the cross toolchain's apt configuration ($BOARD_DEBIAN_SUITE)"
        return
    fi
    apt_use_own
}

# apt_use_own [force] — our own configuration; lists refreshed when missing, older than
# APT_MAX_AGE_DAYS, or when forced.
apt_use_own() {
    local d=$repo/build/apt/$BOARD_DEBIAN_SUITE
    local mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    local secmirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
    local host_arch
    host_arch=$(dpkg --print-architecture)
    mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/etc/sources.list.d" "$d/etc/preferences.d"
    [[ -f $d/status ]] || : > "$d/status"
    {
        echo "deb $mirror $BOARD_DEBIAN_SUITE main"
        echo "deb $mirror $BOARD_DEBIAN_SUITE-updates main"
        case $BOARD_DEBIAN_SUITE in
            sid | unstable) ;;
            *) echo "deb $secmirror $BOARD_DEBIAN_SUITE-security main" ;;
        esac
    } > "$d/etc/sources.list"
    cat > "$d/apt.conf" <<EOF
APT::Architecture "$host_arch";
APT::Architectures { "$host_arch"; "$BOARD_DEB_ARCH"; };
Dir::State "$d";
Dir::State::Lists "$d/lists";
Dir::State::status "$d/status";
Dir::Cache "$d/cache";
Dir::Cache::archives "$d/cache/archives";
Dir::Etc::SourceList "$d/etc/sources.list";
Dir::Etc::SourceParts "$d/etc/sources.list.d";
Dir::Etc::Preferences "$d/etc/preferences";
Dir::Etc::PreferencesParts "$d/etc/preferences.d";
Acquire::Languages "none";
EOF
    export APT_CONFIG=$d/apt.conf
    APT_OWN=1
    local stamp=$d/lists/.updated age=${APT_MAX_AGE_DAYS:-7}
    if [[ ${1:-} == force || ! -f $stamp || -n $(find "$stamp" -mtime "+$age" 2>/dev/null) ]]; then
        apt_update || die "apt-get update failed: $(tail -3 "$work/apt-update.log")"
    fi
}
apt_update() {
    note "apt-get update ($BOARD_DEBIAN_SUITE, $BOARD_DEB_ARCH; private lists in build/apt/)"
    apt-get update -qq >/dev/null 2>"$work/apt-update.log" || return 1
    touch "$repo/build/apt/$BOARD_DEBIAN_SUITE/lists/.updated"
}

# deb_field PKG:ARCH FIELD — a field of the candidate version.
deb_field() {
    apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n "s/^$2: //p" | head -n1
}

# deb_fetch PKG:ARCH — prints the cached .deb path, downloading it if needed; fails with a message.
deb_fetch() {
    local spec=$1 ver arch pkg file
    pkg=${spec%%:*} arch=${spec#*:}
    ver=$(deb_field "$spec" Version)
    [[ -n $ver ]] || { note "package $spec not found in $BOARD_DEBIAN_SUITE (APT_CONFIG=$APT_CONFIG)"; return 1; }
    file=$debcache/${pkg}_${ver//:/%3a}_${arch}.deb
    if [[ ! -s $file ]]; then
        note "downloading $pkg $ver ($arch)"
        (cd "$debcache" && apt-get download -qq "$pkg:$arch=$ver" >/dev/null 2>"$work/apt-download.log") \
            || { note "apt-get download $spec failed: $(tail -3 "$work/apt-download.log")"; return 1; }
    fi
    [[ -s $file ]] || { note "expected $file after apt-get download"; return 1; }
    printf '%s\n' "$file"
}

# kernel_package NAME:ARCH — follows a metapackage (linux-image-arm64) to the package holding the image.
kernel_package() {
    local spec=$1 dep
    for _ in 1 2 3 4; do
        dep=$(deb_field "$spec" Depends | tr ',|' '\n\n' | sed 's/^ *//; s/ .*//; s/:.*//' \
            | grep -E '^linux-image-[0-9]' | head -n1 || true)
        [[ -n $dep ]] || break
        spec=$dep:${spec#*:}
    done
    printf '%s\n' "$spec"
}

# deb_extract DEB — extracts once into the work cache (older versions of the package are removed
# from it: a kernel tree is ~400 MB); prints the directory.
deb_extract() {
    local deb=$1 dir name old family
    name=$(basename "$deb" .deb)
    dir=$repo/build/images/.work/extract/$name
    if [[ ! -f $dir/.done ]]; then
        family=${name%%_*}
        [[ $family == linux-image-* ]] && family='linux-image-*'   # one kernel per architecture
        for old in "$repo/build/images/.work/extract/"${family}_*; do
            [[ -d $old && $old != "$dir" && ${old##*_} == "${name##*_}" ]] && rm -rf "$old"
        done
        rm -rf "$dir"; mkdir -p "$dir"
        dpkg-deb -x "$deb" "$dir"
        touch "$dir/.done"
    fi
    printf '%s\n' "$dir"
}

fetch_packages() {
    kpkg=$(kernel_package "$BOARD_KERNEL_PACKAGE:$BOARD_DEB_ARCH") \
        && kdeb=$(deb_fetch "$kpkg") \
        && bbdeb=$(deb_fetch "busybox-static:$BOARD_DEB_ARCH")
}
apt_setup
if ! fetch_packages; then
    # Stale lists (a superseded version is gone from the mirror): refresh our own and retry once.
    if [[ $APT_OWN == 1 ]]; then
        apt_update && fetch_packages
    elif [[ -z ${DIALTONE_APT_CONFIG:-} ]]; then
        note "retrying with our own apt configuration"
        apt_use_own force && fetch_packages
    else
        false
    fi || die "cannot get $BOARD_KERNEL_PACKAGE and busybox-static for $BOARD_DEB_ARCH (logs: $work/apt-*.log)"
fi
kdir=$(deb_extract "$kdeb")
bbdir=$(deb_extract "$bbdeb")

kmoddir=""
for m in "$kdir"/lib/modules/* "$kdir"/usr/lib/modules/*; do [[ -d $m ]] && kmoddir=$m && break; done
[[ -n $kmoddir ]] || die "no lib/modules in $(basename "$kdeb")"
kver=$(basename "$kmoddir")
vmlinuz=""
for v in "$kdir"/boot/vmlinuz-"$kver" "$kdir"/boot/vmlinux-"$kver" "$kdir"/boot/Image-"$kver"; do
    [[ -f $v ]] && vmlinuz=$v && break
done
[[ -n $vmlinuz ]] || die "no kernel image for $kver in $(basename "$kdeb")"
busybox=""
for b in "$bbdir/bin/busybox" "$bbdir/usr/bin/busybox"; do [[ -x $b ]] && busybox=$b && break; done
[[ -n $busybox ]] || die "no busybox in $(basename "$bbdeb")"

# --- root filesystem ---------------------------------------------------------------------------
rm -rf "$rootfs"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,usr/lib/"$BOARD_MULTIARCH",etc,dev,proc,sys,run,tmp,var,root,mnt}
ln -s usr/lib "$rootfs/lib"
ln -s ../run "$rootfs/var/run"
chmod 1777 "$rootfs/tmp"

# busybox: the kernel runs /init; the applet links are made at boot (busybox --install -s in rcS),
# because a foreign-architecture busybox cannot be asked for its applet list here.
cp "$busybox" "$rootfs/bin/busybox"
ln -s bin/busybox "$rootfs/init"
ln -s busybox "$rootfs/bin/sh"
ln -s ../bin/busybox "$rootfs/sbin/init"

# Dialtone binaries, stripped for the image.
strip_cmd=()
if [[ ${IMAGE_STRIP:-1} == 1 ]]; then
    swiftbin=$(dirname "$(readlink -f "$(command -v swift 2>/dev/null || echo /nonexistent/swift)")")
    if command -v llvm-strip >/dev/null; then strip_cmd=(llvm-strip --strip-all)
    elif command -v "$BOARD_MULTIARCH-strip" >/dev/null; then strip_cmd=("$BOARD_MULTIARCH-strip" --strip-all)
    elif [[ -x $swiftbin/llvm-objcopy ]]; then strip_cmd=("$swiftbin/llvm-objcopy" --strip-all)
    elif [[ $BOARD_ARCH == "$(uname -m)" ]] && command -v strip >/dev/null; then strip_cmd=(strip --strip-all)
    else note "no strip tool for $BOARD_ARCH (llvm-strip, llvm-objcopy); binaries go in as they are"
    fi
fi
for b in dialtoned dialtone; do
    install -m 0755 "$BIN_DIR/$b" "$rootfs/usr/bin/$b"
    if ((${#strip_cmd[@]})); then "${strip_cmd[@]}" "$rootfs/usr/bin/$b"; fi
done

# --- shared libraries: follow DT_NEEDED inside the sysroot ------------------------------------------
# sr_resolve PATH: PATH inside the sysroot with every symlink followed inside the sysroot (absolute
# links are taken relative to the sysroot, not to the host's /).
sr_resolve() {
    local rest=${1#/} resolved="" comp link hops=0
    while [[ -n $rest ]]; do
        comp=${rest%%/*}
        if [[ $rest == */* ]]; then rest=${rest#*/}; else rest=""; fi
        case $comp in
            "" | .) continue ;;
            ..) resolved=${resolved%/*}; continue ;;
        esac
        if [[ -L $SR$resolved/$comp ]]; then
            ((hops++ < 64)) || return 1
            link=$(readlink "$SR$resolved/$comp")
            [[ $link == /* ]] && resolved=""
            rest=${link#/}${rest:+/$rest}
        else
            resolved=$resolved/$comp
        fi
    done
    printf '%s\n' "${resolved:-/}"
}

needed_of() { readelf -dW "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }
runpath_of() { readelf -dW "$1" 2>/dev/null | sed -n 's/.*(\(RUNPATH\|RPATH\)).*\[\(.*\)\]$/\2/p' | tr ':' '\n'; }
interp_of() { readelf -lW "$1" 2>/dev/null | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p'; }

# Library directories of the sysroot: ld.so.conf.d, then the multiarch and plain defaults.
libdirs=()
for conf in "$SR"/etc/ld.so.conf.d/*.conf; do
    [[ -f $conf ]] || continue
    while read -r l _; do [[ $l == /* ]] && libdirs+=("$l"); done < "$conf"
done
libdirs+=("/lib/$BOARD_MULTIARCH" "/usr/lib/$BOARD_MULTIARCH" /lib /usr/lib /lib64 /usr/lib64)

declare -A lib_src=()      # soname -> resolved path inside the sysroot
declare -A lib_from=()     # soname -> who needed it first
queue=()                   # (path inside sysroot) of objects still to scan, "image:" prefix for ours

# find_lib NAME REQUIRER_IMAGE_OR_SYSROOT_PATH RUNPATHS… — prints the sysroot path or nothing.
find_lib() {
    local name=$1 origin=$2; shift 2
    local d cand real
    for d in "$@" "${libdirs[@]}"; do
        d=${d//\$ORIGIN/$origin}; d=${d//\$\{ORIGIN\}/$origin}
        [[ $d == /* ]] || continue
        cand=$d/$name
        real=$(sr_resolve "$cand") || continue
        [[ -f $SR$real ]] || continue
        [[ $(elf_machine_of "$SR$real") == "$elf_machine" ]] || continue
        printf '%s\n' "$real"
        return 0
    done
    return 1
}

scan() {   # scan FILE_ON_DISK ORIGIN_DIR_IN_SYSROOT LABEL
    local file=$1 origin=$2 label=$3 n real
    local -a rp=()
    mapfile -t rp < <(runpath_of "$file")
    while read -r n; do
        [[ -n $n ]] || continue
        [[ -n ${lib_src[$n]+x} ]] && continue
        real=$(find_lib "$n" "$origin" "${rp[@]}") \
            || die "$label needs $n, not found in $SYSROOT (searched: ${rp[*]} ${libdirs[*]})"
        lib_src[$n]=$real
        lib_from[$n]=$label
        queue+=("$real")
    done < <(needed_of "$file")
}

interp=""
for b in dialtoned dialtone; do
    scan "$BIN_DIR/$b" "/usr/bin" "$b"
    i=$(interp_of "$BIN_DIR/$b")
    [[ -z $interp || -z $i || $i == "$interp" ]] || die "dialtoned and dialtone ask for different loaders ($interp, $i)"
    [[ -n $i ]] && interp=$i
done
if [[ -n $interp ]]; then
    n=$(basename "$interp")
    if [[ -z ${lib_src[$n]+x} ]]; then
        real=$(sr_resolve "$interp") || die "loader $interp: symlink loop in $SYSROOT"
        [[ -f $SR$real ]] || die "loader $interp not in $SYSROOT"
        lib_src[$n]=$real; lib_from[$n]="PT_INTERP"; queue+=("$real")
    fi
fi
while ((${#queue[@]})); do
    obj=${queue[0]}; queue=("${queue[@]:1}")
    scan "$SR$obj" "$(dirname "$obj")" "$(basename "$obj")"
done

# Every library goes to /usr/lib/<multiarch>/<soname> (a default path of the loader, so no
# ld.so.cache is needed); the loader also stays reachable at its PT_INTERP path.
libdest=usr/lib/$BOARD_MULTIARCH
: > "$work/libs.txt"
for n in $(printf '%s\n' "${!lib_src[@]}" | LC_ALL=C sort); do
    install -m 0755 "$SR${lib_src[$n]}" "$rootfs/$libdest/$n"
    printf '%s\t%s\t%s\n' "$n" "${lib_src[$n]}" "${lib_from[$n]}" >> "$work/libs.txt"
done
if [[ -n $interp ]]; then
    # Path of the loader inside the image, with /lib → usr/lib and /lib64 → usr/lib64.
    ipath=${interp#/}
    case $ipath in
        lib64/*) [[ -e $rootfs/lib64 ]] || ln -s usr/lib64 "$rootfs/lib64"; ipath=usr/$ipath ;;
        lib/*) ipath=usr/$ipath ;;
    esac
    if [[ ! -e $rootfs/$ipath ]]; then
        mkdir -p "$rootfs/$(dirname "$ipath")"
        rel=$(realpath -m --relative-to="$rootfs/$(dirname "$ipath")" "$rootfs/$libdest/$(basename "$interp")")
        ln -s "$rel" "$rootfs/$ipath"
    fi
fi

# --- overlay and board files ---------------------------------------------------------------------
(cd "$repo/rootfs-overlay" && find . -mindepth 1 ! -name .keep ! -name README.md -print0 \
    | cpio -0 -pdm --quiet "$rootfs")
mkdir -p "$rootfs/etc/dialtone"
cp "$BOARD_FILE" "$rootfs/etc/dialtone/board.conf"
echo "${BOARD_HOSTNAME:-dialtone}" > "$rootfs/etc/hostname"
rev=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
printf 'BOARD=%s\nREVISION=%s\nKERNEL=%s\n' "$board" "$rev" "$kver" > "$rootfs/etc/dialtone/release"

# --- kernel modules: the board's list plus what they depend on -----------------------------------
kbase=$work/kmod
rm -rf "$kbase"; mkdir -p "$kbase/lib/modules"
ln -s "$kmoddir" "$kbase/lib/modules/$kver"
[[ -f $kmoddir/modules.dep ]] || depmod -b "$kbase" "$kver" 2>/dev/null \
    || die "depmod failed on $(basename "$kdeb")"
norm() { NORM=${1##*/}; NORM=${NORM%%.ko*}; NORM=${NORM//-/_}; }   # module name as the kernel spells it
declare -A moddep=() modpath=()
while IFS= read -r line; do
    path=${line%%:*}; deps=${line#*:}
    norm "$path"; modpath[$NORM]=$path
    moddep[$path]=$deps
done < "$kmoddir/modules.dep"
declare -A builtin=()
if [[ -f $kmoddir/modules.builtin ]]; then
    while IFS= read -r path; do norm "$path"; builtin[$NORM]=1; done < "$kmoddir/modules.builtin"
fi
declare -A want=()
: > "$rootfs/etc/modules"
IFS=, read -r -a board_mods <<< "${BOARD_KERNEL_MODULES:-}"
for m in "${board_mods[@]}"; do
    [[ -n $m ]] || continue
    norm "$m"; k=$NORM
    if [[ -n ${builtin[$k]+x} ]]; then
        note "module $m is built into $kver"
        continue
    fi
    p=${modpath[$k]:-}
    [[ -n $p ]] || die "board $board: module $m is neither a module nor built into kernel $kver"
    echo "$m" >> "$rootfs/etc/modules"
    want[$p]=1
    for d in ${moddep[$p]}; do want[$d]=1; done
done
moddest=$rootfs/usr/lib/modules/$kver
mkdir -p "$moddest"
for f in modules.builtin modules.builtin.modinfo modules.order; do
    [[ -f $kmoddir/$f ]] && cp "$kmoddir/$f" "$moddest/"
done
for p in "${!want[@]}"; do
    mkdir -p "$moddest/$(dirname "$p")"
    case $p in
        *.ko.xz) xz -dc "$kmoddir/$p" > "$moddest/${p%.xz}" ;;
        *.ko.zst) zstd -qdc "$kmoddir/$p" > "$moddest/${p%.zst}" ;;
        *.ko.gz) gzip -dc "$kmoddir/$p" > "$moddest/${p%.gz}" ;;
        *) cp "$kmoddir/$p" "$moddest/$p" ;;
    esac
done
if [[ -f $moddest/modules.order ]]; then   # keep modules.order consistent with what is in the image
    sed -i 's/\.ko\.\(xz\|zst\|gz\)$/.ko/' "$moddest/modules.order"
    grep -Fxf <(cd "$moddest" && find kernel -name '*.ko' 2>/dev/null | sort) "$moddest/modules.order" > "$moddest/modules.order.new" || true
    mv "$moddest/modules.order.new" "$moddest/modules.order"
fi
depmod -b "$rootfs" "$kver" || die "depmod -b $rootfs $kver failed"

# --- pack ------------------------------------------------------------------------------------------
# Fixed timestamps and sorted names: the same inputs give the same archive. /dev/console is added as
# a hand-made newc entry so that neither root nor mknod is needed to build the image.
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}
find "$rootfs" -exec touch -h -d "@$epoch" {} +
newc_entry() {   # NAME MODE(octal) RDEVMAJOR RDEVMINOR — a data-less newc entry
    local name=$1 mode=$2 maj=$3 min=$4 namesize pad
    namesize=$((${#name} + 1))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        0 $((8#$mode)) 0 0 1 "$epoch" 0 0 0 "$maj" "$min" "$namesize" 0
    printf '%s\0' "$name"
    pad=$(((4 - (110 + namesize) % 4) % 4))
    head -c "$pad" /dev/zero
}
initrd=$out/initrd.cpio.gz
{
    (cd "$rootfs" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet --reproducible)
    newc_entry dev/console 020600 5 1
    newc_entry 'TRAILER!!!' 0 0 0
} | gzip -n -9 > "$initrd.tmp"
mv "$initrd.tmp" "$initrd"
# An uncompressed arm64 Image (Debian trixie ships it so) is stored gzipped: QEMU and U-Boot's
# booti take either, and the size then says what a flash partition would need.
if [[ $(head -c 2 "$vmlinuz" | od -An -tx1 | tr -d ' ') != 1f8b ]] && [[ $BOARD_ARCH == aarch64 ]]; then
    gzip -n -9 -c "$vmlinuz" > "$out/vmlinuz"
else
    cp "$vmlinuz" "$out/vmlinuz"
fi
echo "$kver" > "$out/kernel.version"
cp "$BOARD_FILE" "$out/board.conf"

# --- manifest and size breakdown ------------------------------------------------------------------
(cd "$rootfs" && find . -mindepth 1 \( -type f -o -type l \) -printf '%s\t%p\n' | LC_ALL=C sort -k2) > "$out/manifest.txt"
category_of() {
    case $1 in
        ./usr/bin/dialtoned | ./usr/bin/dialtone) echo dialtone ;;
        ./"$libdest"/libswift* | ./"$libdest"/libFoundation* | ./"$libdest"/lib_Foundation* \
            | ./"$libdest"/libdispatch* | ./"$libdest"/libBlocksRuntime* | ./"$libdest"/lib_Testing* \
            | ./"$libdest"/libXCTest*) echo swift ;;
        ./"$libdest"/*) echo clib ;;
        ./bin/busybox) echo busybox ;;
        ./usr/lib/modules/*) echo modules ;;
        *) echo rest ;;
    esac
}
declare -A raw=() listfile=()
for c in dialtone swift clib busybox modules rest; do raw[$c]=0; listfile[$c]=$work/files.$c; : > "${listfile[$c]}"; done
while IFS=$'\t' read -r size path; do
    c=$(category_of "$path")
    raw[$c]=$((raw[$c] + size))
    printf '%s\n' "$path" >> "${listfile[$c]}"
done < "$out/manifest.txt"
gz_of() { (cd "$rootfs" && cpio -o -H newc -R 0:0 --quiet < "$1" | gzip -n -9 | wc -c); }
mb() { awk -v b="$1" 'BEGIN { printf "%7.2f MB", b / 1000000 }'; }
kernel_size=$(stat -c %s "$out/vmlinuz")
initrd_size=$(stat -c %s "$initrd")
{
    echo "image $board: $out (kernel $kver)"
    printf '  %-28s %s  %s\n' "part" "    unpacked" "     gzipped"
    total_raw=0
    for c in dialtone swift clib busybox modules rest; do
        case $c in
            dialtone) label="Dialtone binaries" ;;
            swift) label="Swift runtime (.so)" ;;
            clib) label="C libraries" ;;
            busybox) label="rest: busybox" ;;
            modules) label="rest: kernel modules" ;;
            rest) label="rest: overlay, links, dirs" ;;
        esac
        printf '  %-28s %s  %s\n' "$label" "$(mb "${raw[$c]}")" "$(mb "$(gz_of "${listfile[$c]}")")"
        total_raw=$((total_raw + raw[$c]))
    done
    printf '  %-28s %s  %s\n' "total initramfs" "$(mb "$total_raw")" "$(mb "$initrd_size")"
    printf '  %-28s %s\n' "kernel (vmlinuz)" "$(mb "$kernel_size")"
    printf '  %-28s %s\n' "total (kernel + initramfs)" "$(mb $((kernel_size + initrd_size)))"
    echo "  shared libraries (needed by):"
    while IFS=$'\t' read -r n _ from; do
        printf '    %-24s %s  %s\n' "$n" "$(mb "$(stat -c %s "$rootfs/$libdest/$n")")" "$from"
    done < "$work/libs.txt"
    echo "  modules: $(cd "$moddest" && find . -name '*.ko' -printf '%f ' | sed 's/\.ko//g')"
} | tee "$out/sizes.txt"
