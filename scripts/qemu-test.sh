#!/usr/bin/env bash
# make qemu-test BOARD=… — boots build/images/<board>/ under QEMU (TCG, no KVM) and checks dialtoned
# from the outside.
#
#   WAN      a tap device inside a network namespace this script creates (192.0.2.0/24, TEST-NET-1):
#            host side HOST_IP (192.0.2.1), guest GUEST_IP (192.0.2.2) set by rcS from the kernel
#            command line. No QEMU user networking. The test's SIP peer (sipsak) runs in that namespace.
#   phones   virtio-serial ports named after the board's FXS_PORTS (fxs0, fxs1), each backed by a
#            host Unix socket in the run directory.
#   control  one more virtio-serial port, "dialtone.ctl", on a pair of FIFOs: the guest's qemu-ctl
#            agent answers one line per command (see rootfs-overlay/etc/init.d/qemu-ctl). It stops
#            dialtoned through its init script and powers the guest off, which runs rcK.
#
# Phases (each with its own time limit, named when it runs out):
#   kernel    QEMU start until rcS prints "dialtone-init: rcS start"
#   init      until the init script prints "Starting dialtoned: ok" and the control agent is ready
#             (boot=<s> is measured here, from QEMU start)
#   sip       SIP OPTIONS from the namespace until a 200 answers (sip-ready=<s>, from QEMU start)
#   reload    "service dialtoned reload" (SIGHUP): same pid afterwards, still answers 200
#   crash     "crash dialtoned" (SIGKILL): the supervisor restarts it (new pid), answers 200 again
#   stop      "service dialtoned stop" over the control port: dialtoned must exit by itself with
#             status 0, and then no longer answer
#   poweroff  "poweroff" over the control port: QEMU must exit ("reboot: Power down")
# Everything started here is stopped by pid; the namespace is deleted on exit. Logs stay in
# build/qemu-test/<board>/. The last line is always
#   qemu-test <board>: boot=<s> sip-ready=<s> result=pass|fail      ("-" for what was not reached)
#
# Environment: BOOT_TIMEOUT (kernel, 120), INIT_TIMEOUT (60), SIP_TIMEOUT (60), STOP_TIMEOUT (30),
# POWEROFF_TIMEOUT (60), RESTART_TIMEOUT (reload and crash, 30) in seconds; HOST_IP, GUEST_IP; QEMU_EXTRA_ARGS; IMAGE_DIR.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=SCRIPTDIR/board.sh
. "$here/board.sh"

board=${1:-}
boot_s="-" sip_s="-" result=fail
final_line_printed=0
final_line() {
    ((final_line_printed)) && return
    final_line_printed=1
    echo "qemu-test ${board:-?}: boot=$boot_s sip-ready=$sip_s result=$result"
}
usage_fail() { echo "qemu-test: $*" >&2; final_line; exit 2; }

[[ $# -eq 1 ]] || usage_fail "usage: scripts/qemu-test.sh BOARD (boards: $(board_list | tr '\n' ' '))"
board_load "$board" || { final_line; exit 2; }

BOOT_TIMEOUT=${BOOT_TIMEOUT:-120}
INIT_TIMEOUT=${INIT_TIMEOUT:-60}
SIP_TIMEOUT=${SIP_TIMEOUT:-60}
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
POWEROFF_TIMEOUT=${POWEROFF_TIMEOUT:-60}
RESTART_TIMEOUT=${RESTART_TIMEOUT:-30}
HOST_IP=${HOST_IP:-192.0.2.1}
GUEST_IP=${GUEST_IP:-192.0.2.2}
for ip in "$HOST_IP" "$GUEST_IP"; do
    [[ $ip =~ ^192\.0\.2\.([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 1 && BASH_REMATCH[1] <= 254)) \
        || usage_fail "HOST_IP/GUEST_IP must be in 192.0.2.0/24 (TEST-NET-1), got $ip"
done
image=${IMAGE_DIR:-$repo/build/images/$board}
kernel=$image/vmlinuz
initrd=$image/initrd.cpio.gz
[[ -f $kernel && -f $initrd ]] || usage_fail "no image in $image (make image BOARD=$board)"
[[ $(id -u) -eq 0 ]] || usage_fail "needs root (network namespace and tap device)"
for tool in "$BOARD_QEMU_SYSTEM" sipsak ip mkfifo timeout; do
    command -v "$tool" >/dev/null || usage_fail "$tool not found (make deps)"
done

run=$repo/build/qemu-test/$board
rm -rf "$run"
mkdir -p "$run"
console=$run/console.log
ns=dialtone-qt-$$
tap=dtap$$
tap=${tap:0:15}
qemu_pid=""
ns_made=0
ctl_in="" ctl_out=""

cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    if [[ -n $qemu_pid ]] && kill -0 "$qemu_pid" 2>/dev/null; then
        kill -TERM "$qemu_pid" 2>/dev/null
        for ((i = 0; i < 50; i++)); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$qemu_pid" 2>/dev/null && kill -KILL "$qemu_pid" 2>/dev/null
        wait "$qemu_pid" 2>/dev/null
    fi
    [[ -n $ctl_in ]] && exec {ctl_in}>&-
    [[ -n $ctl_out ]] && exec {ctl_out}<&-
    if ((ns_made)); then
        ip netns del "$ns" 2>/dev/null || echo "qemu-test: warning: could not delete netns $ns" >&2
    fi
    rm -f "$run"/*.sock "$run"/ctl.in "$run"/ctl.out
    final_line
    exit "$rc"
}
trap cleanup EXIT
trap 'echo "qemu-test: interrupted" >&2; exit 130' INT TERM

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
secs() { local ms=$1; printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
t0=$(now_ms)   # reset when QEMU starts
elapsed() { secs $(($(now_ms) - t0)); }

fail() {   # fail PHASE MESSAGE
    echo "qemu-test: FAIL in phase '$1' after $(elapsed) s: $2" >&2
    if [[ -s $console ]]; then
        echo "qemu-test: last console lines ($console):" >&2
        tail -n 20 "$console" | sed 's/^/    | /' >&2
    fi
    [[ -s $run/qemu.log ]] && { echo "qemu-test: QEMU said:" >&2; sed 's/^/    | /' "$run/qemu.log" >&2; }
    result=fail
    exit 1
}
qemu_alive() { kill -0 "$qemu_pid" 2>/dev/null; }
fail_qemu_exited() {   # fail_qemu_exited PHASE WHEN
    local st
    wait "$qemu_pid"; st=$?
    qemu_pid=""
    fail "$1" "QEMU exited (status $st) $2"
}

# wait_console PHASE TIMEOUT TEXT [FAILTEXT] — until TEXT appears on the console.
wait_console() {
    local phase=$1 limit=$2 text=$3 failtext=${4:-} deadline
    deadline=$(($(now_ms) + limit * 1000))
    while :; do
        grep -qF -- "$text" "$console" 2>/dev/null && return 0
        if [[ -n $failtext ]] && grep -qF -- "$failtext" "$console" 2>/dev/null; then
            fail "$phase" "console shows '$(grep -F -- "$failtext" "$console" | head -n1)'"
        fi
        qemu_alive || fail_qemu_exited "$phase" "before '$text' appeared on the console"
        (($(now_ms) < deadline)) || fail "$phase" "timeout after ${limit} s waiting for '$text' on the console"
        sleep 0.1
    done
}

# ctl_expect PHASE TIMEOUT PREFIX — reads control-port lines until one starts with PREFIX; sets CTL_LINE.
ctl_buf=""
ctl_expect() {
    local phase=$1 limit=$2 prefix=$3 deadline part rc
    deadline=$(($(now_ms) + limit * 1000))
    CTL_LINE=""
    while :; do
        (($(now_ms) < deadline)) || fail "$phase" "timeout after ${limit} s waiting for '$prefix' on the control port"
        if IFS= read -r -t 1 -u "$ctl_out" part; then
            part=$ctl_buf$part ctl_buf=""
            part=${part%$'\r'}
            echo "< $part" >> "$run/ctl.log"
            [[ $part == "$prefix"* ]] && { CTL_LINE=$part; return 0; }
        else
            rc=$?
            ((rc > 128)) && ctl_buf+=$part   # timed out inside a line: keep what came
        fi
        qemu_alive || fail_qemu_exited "$phase" "while waiting for '$prefix' on the control port"
    done
}
ctl_send() { echo "> $1" >> "$run/ctl.log"; printf '%s\n' "$1" >&"$ctl_in"; }

# sip_options — one OPTIONS from the namespace; 0 when a 200 answers.
sip_options() {
    local out rc
    out=$(ip netns exec "$ns" timeout 5 sipsak -vv -s "sip:ping@$GUEST_IP:5060" -H "$HOST_IP" \
        --timer-t1=250 2>&1)
    rc=$?
    printf '%s\n(sipsak exit status %d)\n' "$out" "$rc" >> "$run/sipsak.log"
    ((rc == 0)) && grep -q '^ *SIP/2.0 200' <<< "$out"
}

# --- network namespace with the WAN tap ------------------------------------------------------------
# Namespaces left by a run that was killed outright (named after its pid, which is gone) go first.
for old in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^dialtone-qt-[0-9]+$'); do
    if ! kill -0 "${old#dialtone-qt-}" 2>/dev/null; then
        ip netns del "$old" 2>/dev/null && echo "qemu-test: removed stale network namespace $old"
    fi
done
ip netns add "$ns" || fail setup "cannot create network namespace $ns"
ns_made=1
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev "$tap" mode tap || fail setup "cannot create tap $tap in $ns"
ip -n "$ns" addr add "$HOST_IP/24" dev "$tap"
ip -n "$ns" link set "$tap" up

# --- QEMU --------------------------------------------------------------------------------------------
mkfifo "$run/ctl.in" "$run/ctl.out"
exec {ctl_in}<>"$run/ctl.in" {ctl_out}<>"$run/ctl.out"   # read-write opens of a FIFO never block

serial_bus=${BOARD_QEMU_SERIAL_BUS:-virtio-serial-pci}
nic=${BOARD_QEMU_NIC:-virtio-net-pci}
args=(
    -machine "$BOARD_QEMU_MACHINE" -accel tcg -cpu "$BOARD_QEMU_CPU" -m "$BOARD_QEMU_MEMORY"
    -nodefaults -no-reboot -display none -monitor none
    -kernel "$kernel" -initrd "$initrd"
    -append "console=$BOARD_CONSOLE panic=-1 dialtone.wan_ip=$GUEST_IP/24 dialtone.wan_gw=$HOST_IP${BOARD_KERNEL_ARGS:+ ${BOARD_KERNEL_ARGS//,/ }}"
    -serial "file:$console"
    -netdev "tap,id=wan,ifname=$tap,script=no,downscript=no"
    -device "$nic,netdev=wan,mac=52:54:00:00:02:02"
    -device "$serial_bus,id=vser0"
)
IFS=, read -r -a fxs_ports <<< "$BOARD_FXS_PORTS"
for p in "${fxs_ports[@]}"; do
    args+=(-chardev "socket,id=$p,path=$run/$p.sock,server=on,wait=off"
        -device "virtserialport,bus=vser0.0,chardev=$p,name=$p")
done
args+=(-chardev "pipe,id=ctl,path=$run/ctl" -device "virtserialport,bus=vser0.0,chardev=ctl,name=dialtone.ctl")
IFS=, read -r -a extra_devices <<< "${BOARD_QEMU_DEVICES:-}"
for d in "${extra_devices[@]}"; do [[ -n $d ]] && args+=(-device "$d"); done
# shellcheck disable=SC2206
args+=(${QEMU_EXTRA_ARGS:-})
printf '%q ' ip netns exec "$ns" "$BOARD_QEMU_SYSTEM" "${args[@]}" > "$run/qemu.cmd"; echo >> "$run/qemu.cmd"

: > "$console"
t0=$(now_ms)
# `ip netns exec` execs QEMU in place, so $! is QEMU's pid.
ip netns exec "$ns" "$BOARD_QEMU_SYSTEM" "${args[@]}" < /dev/null > "$run/qemu.log" 2>&1 &
qemu_pid=$!
echo "qemu-test $board: QEMU pid $qemu_pid, netns $ns, tap $tap ($HOST_IP) <-> guest $GUEST_IP; logs in $run"

# --- phases ------------------------------------------------------------------------------------------
wait_console kernel "$BOOT_TIMEOUT" "dialtone-init: rcS start"
echo "qemu-test $board: rcS started at $(elapsed) s"
wait_console init "$INIT_TIMEOUT" "Starting dialtoned: ok" "Starting dialtoned: FAILED"
boot_s=$(elapsed)
echo "qemu-test $board: dialtoned started by its init script at $boot_s s"
grep -F "dialtone-init: modules:" "$console" | grep -q FAILED \
    && fail init "$(grep -F 'dialtone-init: modules:' "$console")"
fxs_line=$(grep -F "dialtone-init: fxs:" "$console" | head -n1)
for p in "${fxs_ports[@]}"; do
    [[ $fxs_line == *" $p=/dev/vport"* ]] || fail init "phone port $p not found in the guest ($fxs_line)"
done
grep -qF "dialtone-init: wan: $BOARD_WAN_IF $GUEST_IP/24" "$console" \
    || fail init "WAN $BOARD_WAN_IF not configured with $GUEST_IP/24 ($(grep -F 'dialtone-init: wan:' "$console"))"
ctl_expect init "$INIT_TIMEOUT" "ready"

# sip_wait PHASE TIMEOUT — SIP OPTIONS until a 200 answers.
sip_wait() {
    local phase=$1 limit=$2 deadline tries=0
    deadline=$(($(now_ms) + limit * 1000))
    until sip_options; do
        tries=$((tries + 1))
        (($(now_ms) < deadline)) || fail "$phase" "no 200 to SIP OPTIONS from sip:ping@$GUEST_IP:5060 within ${limit} s ($tries tries; see $run/sipsak.log)"
        qemu_alive || fail_qemu_exited "$phase" "before SIP OPTIONS were answered"
        sleep 0.2
    done
}
# daemon_pid PHASE — dialtoned's pid from the init script's status.
daemon_pid() {
    ctl_send "service dialtoned status"
    ctl_expect "$1" "$STOP_TIMEOUT" "service dialtoned status"
    [[ $CTL_LINE =~ running\ \(pid\ ([0-9]+)\) ]] || fail "$1" "dialtoned not running: $CTL_LINE"
    DAEMON_PID=${BASH_REMATCH[1]}
}

sip_wait sip "$SIP_TIMEOUT"
sip_s=$(elapsed)
echo "qemu-test $board: SIP OPTIONS answered 200 at $sip_s s"

daemon_pid reload
pid_before=$DAEMON_PID
ctl_send "service dialtoned reload"
ctl_expect reload "$RESTART_TIMEOUT" "service dialtoned reload"
[[ $CTL_LINE == *"rc=0: Reloading dialtoned: ok"* ]] || fail reload "$CTL_LINE"
sip_wait reload "$RESTART_TIMEOUT"
daemon_pid reload
((DAEMON_PID == pid_before)) || fail reload "dialtoned pid changed from $pid_before to $DAEMON_PID on reload (it died on SIGHUP?)"
echo "qemu-test $board: reload (SIGHUP) kept pid $DAEMON_PID and SIP answers"

crash_t=$(now_ms)
ctl_send "crash dialtoned"
ctl_expect crash "$RESTART_TIMEOUT" "crash dialtoned"
[[ $CTL_LINE == "crash dialtoned: killed pid $pid_before" ]] || fail crash "$CTL_LINE"
wait_console crash "$RESTART_TIMEOUT" "dialtoned[supervisor]: exited with status 137"
sip_wait crash "$RESTART_TIMEOUT"
daemon_pid crash
((DAEMON_PID != pid_before)) || fail crash "dialtoned still has pid $pid_before after SIGKILL"
echo "qemu-test $board: after SIGKILL the supervisor restarted dialtoned (pid $DAEMON_PID), SIP answers again after $(secs $(($(now_ms) - crash_t))) s"

ctl_send "service dialtoned stop"
ctl_expect stop "$STOP_TIMEOUT" "service dialtoned stop"
reply=$CTL_LINE
echo "qemu-test $board: $reply"
[[ $reply == "service dialtoned stop rc=0: Stopping dialtoned: ok (exit status 0)"* ]] \
    || fail stop "dialtoned did not stop cleanly: $reply"
if sip_options; then fail stop "dialtoned still answers SIP OPTIONS after it was stopped"; fi

ctl_send "poweroff"
ctl_expect poweroff "$POWEROFF_TIMEOUT" "poweroff: ok"
deadline=$(($(now_ms) + POWEROFF_TIMEOUT * 1000))
while qemu_alive; do
    (($(now_ms) < deadline)) || fail poweroff "QEMU still running ${POWEROFF_TIMEOUT} s after poweroff"
    sleep 0.1
done
wait "$qemu_pid"; qrc=$?
qemu_pid=""
grep -q "reboot: Power down" "$console" || fail poweroff "QEMU exited (status $qrc) without a clean 'reboot: Power down'"
grep -qF "dialtone-init: rcK done" "$console" || fail poweroff "rcK did not run at poweroff"
echo "qemu-test $board: powered off at $(elapsed) s"
result=pass
exit 0
