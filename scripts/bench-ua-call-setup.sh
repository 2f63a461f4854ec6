#!/usr/bin/env bash
# Call set-up processing of Dialtone's SIP user agent against baresip 1.0.0, side by side in one
# run (Bench/bench-ua-call-setup/main.swift, a Swift executable on DialtoneTestKit, does the work):
#
#   Kamailio as the ISP (Tests/Fixtures/kamailio/isp.cfg, domain isp.test) holds the registrations of
#   dialtoned's line1 (alice) and of baresip's account carol; one SIPp answerer
#   (Tests/Fixtures/sipp/answer-uas.xml: INVITE -> 180 -> 200 with SDP, ACK; BYE -> 200) takes every
#   call of both. Each side makes BENCH_WARMUP (5) unmeasured calls, then BENCH_CALLS (200) measured
#   ones, one after another, straight to sip:uas@127.0.0.1:<SIPp port>: placed, established, hung
#   up, ended.
#     ours: `call`/`hangup` on dialtoned's control socket (the protocol of `dialtone call`), its log
#           lines "call N: established" / "call N: ended";
#     peer: baresip's ctrl_tcp `dial`/`hangup`, its CALL_ESTABLISHED / CALL_CLOSED events.
#   Figures per side: CPU µs per call (utime+stime of the process from /proc/PID/stat over the
#   measured calls), set-up wall time median and p90 (command sent -> established seen), VmRSS after.
#
#   scripts/bench-ua-call-setup.sh
#   (env: BENCH_CALLS=200 BENCH_WARMUP=5, BENCH_SCRATCH (build directory, default .build-bench),
#    BENCH_DIALTONED (a dialtoned binary to use instead of building))
#
# Builds dialtoned, dialtone and bench-ua-call-setup in release. Everything on 127.0.0.1; every
# process is started by the bench and stopped by its pid; every wait is bounded.
# Last line exactly: bench-ua-call-setup: ours=<dialtoned CPU µs/call> peer=<baresip CPU µs/call> ratio=<ours/peer>
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_NAME=bench-ua-call-setup.sh
SCRATCH=${BENCH_SCRATCH:-.build-bench}
CALLS=${BENCH_CALLS:-200}
WARMUP=${BENCH_WARMUP:-5}
[[ "$CALLS" =~ ^[0-9]+$ && "$CALLS" -ge 1 ]] || { echo "$BENCH_NAME: BENCH_CALLS must be a positive number" >&2; exit 2; }
[[ "$WARMUP" =~ ^[0-9]+$ ]] || { echo "$BENCH_NAME: BENCH_WARMUP must be a number" >&2; exit 2; }

source "$ROOT/scripts/bench-lib.sh"
bench_require kamailio kamcmd baresip sipp
bench_build_dialtoned

# dialtone (the final `dialtone calls` check) and the bench itself, in the same release build.
build_product() { # product
    local log="$SCRATCH/${BENCH_NAME%.sh}-build.log"
    if ! swift build -c release --scratch-path "$SCRATCH" --product "$1" >"$log" 2>&1; then
        tail -40 "$log" >&2
        bench_die "swift build --product $1 failed"
    fi
}
echo "== building dialtone and bench-ua-call-setup (release, $SCRATCH)"
mkdir -p "$SCRATCH"
build_product dialtone
build_product bench-ua-call-setup
BIN=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)

exec "$BIN/bench-ua-call-setup" --calls "$CALLS" --warmup "$WARMUP" --dialtoned "$DIALTONED" --dialtone "$BIN/dialtone"
