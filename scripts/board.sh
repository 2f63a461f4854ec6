#!/usr/bin/env bash
# Board definitions: board/<name>/board.conf.
#
# Format (one for the Makefile and the scripts): one `KEY=value` per line, `#` starts a comment line.
# Keys are upper case; values have no spaces and no quotes; lists are comma-separated
# (FXS_PORTS=fxs0,fxs1). So the file is valid shell and a valid Makefile fragment, but the scripts do
# not `source` it: they parse it here, reject anything else, and check the required keys.
#
# Command line:
#   scripts/board.sh list                 board names, one a line
#   scripts/board.sh get BOARD KEY        one value (empty if the key is optional and unset)
#   scripts/board.sh check BOARD          validate; prints the definition
#   scripts/board.sh host-native BOARD    exit 0 when the board's ARCH is the host's (native binaries)
# As a library (`. scripts/board.sh`): board_load BOARD sets BOARD_NAME, BOARD_DIR and BOARD_<KEY>.

BOARD_REQUIRED_KEYS="ARCH SWIFT_TRIPLE DEB_ARCH MULTIARCH DEBIAN_SUITE KERNEL_PACKAGE QEMU_SYSTEM QEMU_MACHINE QEMU_CPU QEMU_MEMORY CONSOLE FXS_PORTS FXS_TRANSPORT WAN_IF DEFAULT_REGION"
BOARD_OPTIONAL_KEYS="KERNEL_MODULES QEMU_NIC QEMU_SERIAL_BUS QEMU_DEVICES HOSTNAME KERNEL_ARGS"

board_root() {
    local here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    printf '%s\n' "${DIALTONE_BOARD_ROOT:-$here/board}"
}

board_die() { printf 'board: %s\n' "$*" >&2; return 1; }

# board_load NAME: parse board/NAME/board.conf into BOARD_* variables.
board_load() {
    local name=$1 root file line key value n=0 k
    [[ -n $name ]] || { board_die "no board given (BOARD=…; boards: $(board_list | tr '\n' ' '))"; return 1; }
    [[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || { board_die "bad board name '$name'"; return 1; }
    root=$(board_root)
    file=$root/$name/board.conf
    [[ -f $file ]] || { board_die "unknown board '$name' (no $file; boards: $(board_list | tr '\n' ' '))"; return 1; }
    for k in $BOARD_REQUIRED_KEYS $BOARD_OPTIONAL_KEYS; do unset "BOARD_$k"; done
    while IFS= read -r line || [[ -n $line ]]; do
        n=$((n + 1))
        [[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
        if [[ ! $line =~ ^([A-Z][A-Z0-9_]*)=([A-Za-z0-9_.,:/+@=-]*)$ ]]; then
            board_die "$file:$n: not KEY=value (no spaces or quotes in values; lists comma-separated): $line"
            return 1
        fi
        key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
        case " $BOARD_REQUIRED_KEYS $BOARD_OPTIONAL_KEYS " in
            *" $key "*) ;;
            *) board_die "$file:$n: unknown key $key"; return 1 ;;
        esac
        printf -v "BOARD_$key" '%s' "$value"
    done < "$file"
    for k in $BOARD_REQUIRED_KEYS; do
        local v="BOARD_$k"
        [[ -n ${!v-} ]] || { board_die "$file: missing $k"; return 1; }
    done
    [[ $BOARD_QEMU_MEMORY =~ ^[0-9]+$ ]] || { board_die "$file: QEMU_MEMORY must be MiB"; return 1; }
    # shellcheck disable=SC2034  # read by the scripts that source this file
    BOARD_NAME=$name BOARD_DIR=$root/$name BOARD_FILE=$file
}

board_list() {
    local d
    for d in "$(board_root)"/*/board.conf; do
        [[ -f $d ]] && basename "$(dirname "$d")"
    done
}

# Host architecture in the boards' ARCH spelling (uname -m).
board_host_arch() { uname -m; }

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    cmd=${1:-}
    case $cmd in
        list) board_list ;;
        get)
            [[ $# -eq 3 ]] || { echo "usage: $0 get BOARD KEY" >&2; exit 2; }
            board_load "$2"
            v="BOARD_$3"
            case " $BOARD_REQUIRED_KEYS $BOARD_OPTIONAL_KEYS NAME DIR FILE " in
                *" $3 "*) printf '%s\n' "${!v-}" ;;
                *) echo "board: unknown key $3" >&2; exit 2 ;;
            esac
            ;;
        check)
            [[ $# -eq 2 ]] || { echo "usage: $0 check BOARD" >&2; exit 2; }
            board_load "$2"
            for k in $BOARD_REQUIRED_KEYS $BOARD_OPTIONAL_KEYS; do
                v="BOARD_$k"; [[ -n ${!v-} ]] && printf '%s=%s\n' "$k" "${!v}"
            done
            ;;
        host-native)
            [[ $# -eq 2 ]] || { echo "usage: $0 host-native BOARD" >&2; exit 2; }
            board_load "$2"
            [[ $BOARD_ARCH == "$(board_host_arch)" ]]
            ;;
        *) echo "usage: $0 list | get BOARD KEY | check BOARD | host-native BOARD" >&2; exit 2 ;;
    esac
fi
