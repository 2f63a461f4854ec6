#!/usr/bin/env bash
# Stateful proxy benchmark (issue 5, item 7): calls per second from a SIPp caller through the proxy
# to a SIPp callee, each call INVITE, 100, 180, 200, ACK, BYE, 200 (Bench/bench-proxy/uac.xml and
# uas.xml), first through dialtoned (mode stateful-proxy, record-route on), then through Kamailio
# (tm + rr: record_route, loose_route, t_relay; Bench/bench-proxy/kamailio.cfg), same scenarios,
# same machine, one after the other in this run.
#
# Both proxies find the callee by a location lookup, as a real call would: before the climb, the
# callee's port sends REGISTER sip:callee@127.0.0.1 with Contact <sip:callee@127.0.0.1:UASPORT>
# (Bench/bench-proxy/register-uas.xml, from that same port, so Contact and source agree), and the
# caller calls sip:callee@127.0.0.1. The 100 comes from the proxy, 180 and 200 from the callee;
# ACK and BYE follow the Record-Route of the 200 (the proxy stays in the path).
#
# A step starts a callee SIPp for exactly its calls (-m), then the caller at the step's rate; it is
# sustained when both SIPp exit 0, every call succeeds on both sides, neither counted a failed call
# or a retransmission (the callee retransmits its 200 until the ACK arrives), and the caller's
# measured rate is at least 90% of the target. The ladder (climb from BENCH_START by BENCH_FACTOR,
# then BENCH_BISECT bisections, rates rounded to 100/s) is the one of bench-transactions
# (scripts/bench-lib.sh); then the highest sustained rate must hold for BENCH_CONFIRM_SECONDS (40),
# longer than the 32 s a proxy keeps transactions after a call (Timer M, J), else the rate steps
# down by BENCH_FACTOR until one holds. The reported rate is the one that held. Kamailio runs at
# its best (../shared/docs/peers.md): -x tlsf, -m 1024 (the stateful proxy needs about 150 KB of
# shared memory per call/s), two UDP workers (-n 2), maxbuffer=4194304; SIPp gets -buff_size 4194304. Two cores carry the proxy and both SIPp, so the
# rates are the whole box's limit for that proxy.
#
#   scripts/bench-proxy.sh
#   (env: BENCH_START=1000 BENCH_FACTOR=1.25 BENCH_MAX=50000 BENCH_BISECT=2 BENCH_STEP_SECONDS=5,
#    BENCH_DRAIN_SECONDS=35 (pause after a failed step), BENCH_CONFIRM_SECONDS=40 (0: none),
#    BENCH_SKIP_OURS=1 (Kamailio only), BENCH_SCRATCH (build directory), BENCH_DIALTONED (a
#    dialtoned binary to use instead of building))
#
# Everything on 127.0.0.1; every process started here is stopped by its pid; every loop is bounded.
# Last line exactly: bench-proxy: ours=<calls/s> peer=<calls/s> ratio=<ours/peer>
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_NAME=bench-proxy.sh
SCRATCH=${BENCH_SCRATCH:-.build-bench}
START_RATE=${BENCH_START:-1000}
FACTOR=${BENCH_FACTOR:-1.25}
MAX_RATE=${BENCH_MAX:-50000}
BISECT=${BENCH_BISECT:-2}
STEP_SECONDS=${BENCH_STEP_SECONDS:-5}
SKIP_OURS=${BENCH_SKIP_OURS:-}
CALLEE=callee
DIR=$ROOT/Bench/bench-proxy
KAMAILIO_CFG=$DIR/kamailio.cfg
UAC_SCENARIO=$DIR/uac.xml
UAS_SCENARIO=$DIR/uas.xml
REGISTER_SCENARIO=$DIR/register-uas.xml
# Every call leaves a BYE server transaction for Timer J (32 s) and INVITE/ACK state for Timer L;
# the cap must hold rate × 32 s of them or the climb would measure the cap (503), not the proxy.
MAX_TRANSACTIONS=${BENCH_MAX_TRANSACTIONS:-5000000}

source "$ROOT/scripts/bench-lib.sh"
bench_require sipp kamailio ss ps
bench_setup bench-proxy
KAMAILIO_SHM=1024
[[ -n "$SKIP_OURS" ]] || bench_build_dialtoned

cat >"$WORK/dialtoned.json" <<EOF
{
  "sip": { "listen": ["udp:127.0.0.1:5060"], "max-transactions": $MAX_TRANSACTIONS },
  "server": {
    "mode": "stateful-proxy",
    "domains": ["127.0.0.1"],
    "record-route": true,
    "registrar": { "authenticate": false, "max-bindings": 1000000 },
    "accounts": []
  }
}
EOF

# Registers the callee AOR from UAS_PORT at the proxy on 127.0.0.1:port.
register_callee() { # port label
    local rc ok
    SAMPLE_PID=
    sipp_step "$1" 10 1 "$2" "$REGISTER_SCENARIO" -p "$UAS_PORT" -s "$CALLEE"
    read -r rc _ ok _ <"$WORK/$2.result"
    [[ $rc == 0 && $ok == 1 ]] || { cat "$WORK/$2.out" >&2; bench_die "the callee could not register at 127.0.0.1:$1"; }
}

# STEP_FN: a callee SIPp for `calls` calls on UAS_PORT, then the caller at `rate` against the proxy;
# the step's result merges both (failed calls and retransmissions of either side count).
proxy_step() { # port rate calls label
    local port=$1 rate=$2 calls=$3 label=$4 timeout=$((STEP_SECONDS + 20))
    local urc ucreated uok ufailed uretrans urate crc ccreated cok cfailed cretrans crate
    rm -f "$WORK/$label-uas.csv"
    ( cd "$WORK" && exec sipp -sf "$UAS_SCENARIO" -t u1 -i 127.0.0.1 -p "$UAS_PORT" -m "$calls" -s "$CALLEE" \
        -nostdin -buff_size 4194304 -timeout "$timeout" -timeout_error \
        -max_recv_loops 10000 -max_sched_loops 10000 \
        -trace_stat -stf "$WORK/$label-uas.csv" -fd 1 >"$WORK/$label-uas.out" 2>&1 ) &
    local upid=$!
    PIDS+=("$upid")
    if ! wait_udp_bound "$UAS_PORT" 50; then
        kill -KILL "$upid" 2>/dev/null || true; wait "$upid" 2>/dev/null || true
        echo "9 0 0 0 0 0" >"$WORK/$label.result"; STEP_NOTE="callee did not start"; return 0
    fi
    sipp_step "$port" "$rate" "$calls" "$label" "$UAC_SCENARIO" -s "$CALLEE"
    read -r crc ccreated cok cfailed cretrans crate <"$WORK/$label.result"
    # The callee ends with its last call (or its own timeout); bounded wait, then killed by pid.
    local saved=${SAMPLE_PID:-}
    SAMPLE_PID=
    sipp_wait "$upid" $(( (timeout + 10) * 10 ))
    SAMPLE_PID=$saved
    read -r urc ucreated uok ufailed uretrans urate <<<"$(sipp_result "$SIPP_RC" "$WORK/$label-uas.csv")"
    if [[ "$urc" != 0 || "$uok" != "$calls" || "$ufailed" != 0 || "$uretrans" != 0 ]]; then
        STEP_NOTE="callee: exit $urc, $uok ok, $ufailed failed, $uretrans retransmissions"
        [[ "$crc" != 0 ]] || crc=uas$urc
    fi
    local failed=$cfailed retrans=$cretrans
    [[ "$cfailed$ufailed" =~ ^[0-9]+$ ]] && failed=$((cfailed + ufailed))
    [[ "$cretrans$uretrans" =~ ^[0-9]+$ ]] && retrans=$((cretrans + uretrans))
    echo "$crc $ccreated $cok $failed $retrans $crate" >"$WORK/$label.result"
}
STEP_FN=proxy_step
# After a step that was not sustained, the proxy still holds the failed calls' transactions (final
# response timers up to 32 s, Timer J 32 s): the next (bisection) step waits until they are gone,
# else it measures the leftovers (Kamailio sustained 3,500/s fresh but not right after 3,900/s).
DRAIN_SECONDS=${BENCH_DRAIN_SECONDS:-35}
# The highest rate of the 5 s ladder must then hold for 40 s, longer than the 32 s the proxy keeps
# an INVITE client transaction after a 2xx (RFC 6026 Timer M) or a BYE server transaction (Timer J):
# a cap on those only shows once a step outlasts them (see confirm in bench-lib.sh).
CONFIRM_SECONDS=${BENCH_CONFIRM_SECONDS:-40}

OURS=0; OURS_TRIED=; OURS_NOTE="not run"; OURS_RSS=0; IDLE_RSS=0
if [[ -z "$SKIP_OURS" ]]; then
    PORT=$(free_port); UAS_PORT=$(free_port)
    start_dialtoned "$WORK/dialtoned.log" --config "$WORK/dialtoned.json" --listen "udp:127.0.0.1:$PORT"
    DPID=$STARTED_PID
    IDLE_RSS=$(vmrss_kb "$DPID")
    register_callee "$PORT" dialtoned-register
    echo "== dialtoned $("$DIALTONED" --version 2>/dev/null || true) stateful proxy on udp:127.0.0.1:$PORT (pid $DPID, idle VmRSS $IDLE_RSS kB); callee on $UAS_PORT"
    climb dialtoned "$PORT" "$DPID"
    confirm dialtoned "$PORT" "$DPID"
    OURS=$BEST; OURS_TRIED=$TRIED; OURS_NOTE=$LIMIT_NOTE; OURS_RSS=$BEST_RSS
    kill -USR1 "$DPID" 2>/dev/null || true; sleep 0.3
    echo "   $(grep 'statistics:' "$WORK/dialtoned.log" | tail -1 || echo '(no statistics line)')"
    stop_pid "$DPID"
fi

PORT=$(free_port); UAS_PORT=$(free_port)
start_kamailio "$KAMAILIO_CFG" "$PORT" kamailio
KPID=$STARTED_PID
register_callee "$PORT" kamailio-register
echo "== $(kamailio -v 2>/dev/null | head -1) stateful proxy on udp:127.0.0.1:$PORT (pid $KPID, -x tlsf -m $KAMAILIO_SHM -n 2); callee on $UAS_PORT"
climb kamailio "$PORT"
confirm kamailio "$PORT"
PEER=$BEST; PEER_TRIED=$TRIED; PEER_NOTE=$LIMIT_NOTE
read -r KPSS KRSS KPROCS <<<"$(tree_memory_kb "$KPID")"
stop_kamailio "$KPID"

echo
echo "dialtoned rates tried:$OURS_TRIED ($OURS_NOTE); VmRSS at $OURS calls/s: $OURS_RSS kB (idle $IDLE_RSS kB)"
echo "kamailio  rates tried:$PEER_TRIED ($PEER_NOTE); PSS summed over $KPROCS processes after the climb: $KPSS kB"
echo "Rates are calls per second (INVITE, 100, 180, 200, ACK, BYE, 200 through the proxy, callee found by"
echo "location lookup), the highest step sustained for ${STEP_SECONDS}s with 0 failed calls and 0 retransmissions"
echo "on caller and callee (climb from $START_RATE/s by x$FACTOR, then $BISECT bisection steps), then held for"
echo "${CONFIRM_SECONDS}s (stepping down by x$FACTOR until one holds)."
echo "bench-proxy: ours=$OURS peer=$PEER ratio=$(ratio "$OURS" "$PEER")"
