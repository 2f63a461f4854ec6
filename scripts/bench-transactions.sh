#!/usr/bin/env bash
# Transaction benchmark (issue 4, item 7): SIPp sends OPTIONS at rising rates to dialtoned, then to
# Kamailio answering statelessly with sl_send_reply (Bench/bench-transactions/kamailio.cfg), same
# scenario (Tests/Fixtures/sipp/options.xml), same machine, one after the other in this run.
# A step is sustained when SIPp exits 0 with every call successful, 0 failed calls, 0 retransmissions,
# and its measured call rate (CallRate(C)) is at least 90% of the target. The same procedure for both
# peers: climb from BENCH_START by BENCH_FACTOR (x1.25 by default) until the first step that is not
# sustained, then bisect BENCH_BISECT times between the last sustained and the first failed rate
# (rates rounded to 100/s). Kamailio runs at its best (../shared/docs/peers.md): -x tlsf, -m 256,
# two UDP workers (-n 2), maxbuffer=4194304; SIPp gets -buff_size 4194304 for both.
#
#   scripts/bench-transactions.sh
#   (env: BENCH_START=2000 BENCH_FACTOR=1.25 BENCH_MAX=150000 BENCH_BISECT=2 BENCH_STEP_SECONDS=5,
#    BENCH_SCRATCH (build directory), BENCH_DIALTONED (a dialtoned binary to use instead of building))
#
# Also prints dialtoned's RSS (VmRSS, peak sampled every 100 ms) at its highest sustained step, and
# the RSS with 10,000 server transactions in flight: a fresh dialtoned gets 10,000 MESSAGE requests
# (Tests/Fixtures/sipp/message-rejected.xml) at BENCH_INFLIGHT_RATE/s (2,500 by default), each
# answered 405 by a non-INVITE server transaction that then stays in Completed for Timer J (32 s over
# UDP); once SIPp has all 10,000 answers (well within 32 s of the first), SIGUSR1 makes dialtoned log
# its statistics, whose serverTransactions count proves how many are alive, and VmRSS is read.
# Everything on 127.0.0.1; every process started here is stopped by its pid; every loop is bounded.
# The ladder, SIPp runs and process handling are scripts/bench-lib.sh's, shared with bench-register
# and bench-proxy.
# Last line exactly: bench-transactions: ours=<tps> peer=<tps> ratio=<ours/peer>
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SCRATCH=${BENCH_SCRATCH:-.build-bench}
START_RATE=${BENCH_START:-2000}
FACTOR=${BENCH_FACTOR:-1.25}
MAX_RATE=${BENCH_MAX:-150000}
BISECT=${BENCH_BISECT:-2}
STEP_SECONDS=${BENCH_STEP_SECONDS:-5}
INFLIGHT=10000
INFLIGHT_RATE=${BENCH_INFLIGHT_RATE:-2500}
SCENARIO=$ROOT/Tests/Fixtures/sipp/options.xml
INFLIGHT_SCENARIO=$ROOT/Tests/Fixtures/sipp/message-rejected.xml
KAMAILIO_CFG=$ROOT/Bench/bench-transactions/kamailio.cfg

BENCH_NAME=bench-transactions.sh
source "$ROOT/scripts/bench-lib.sh"
bench_require sipp kamailio ss ps
bench_setup bench-transactions
bench_build_dialtoned

# --- dialtoned -------------------------------------------------------------------------------
PORT=$(free_port)
start_dialtoned "$WORK/dialtoned.log" --listen "udp:127.0.0.1:$PORT"
DPID=$STARTED_PID
IDLE_RSS=$(vmrss_kb "$DPID")
echo "== dialtoned $("$DIALTONED" --version 2>/dev/null || true) on udp:127.0.0.1:$PORT (pid $DPID, idle VmRSS ${IDLE_RSS} kB)"
climb dialtoned "$PORT" "$DPID"
OURS=$BEST
OURS_RSS=$BEST_RSS
OURS_TRIED=$TRIED
OURS_NOTE=$LIMIT_NOTE
stop_pid "$DPID"

# --- Kamailio ---------------------------------------------------------------------------------
PORT=$(free_port)
KAMAILIO_SHM=256
start_kamailio "$KAMAILIO_CFG" "$PORT" kamailio
KPID=$STARTED_PID
echo "== $(kamailio -v 2>/dev/null | head -1) on udp:127.0.0.1:$PORT (pid $KPID, -x tlsf -m 256 -n 2)"
climb kamailio "$PORT"
PEER=$BEST
PEER_TRIED=$TRIED
PEER_NOTE=$LIMIT_NOTE
stop_kamailio "$KPID"

# --- 10,000 server transactions in flight (dialtoned) -----------------------------------------
# A fresh daemon, so the figure is the transactions' memory and not what the OPTIONS climb left in
# the allocator. Each MESSAGE is answered 405 by its transaction, which then waits Timer J (32 s).
PORT=$(free_port)
start_dialtoned "$WORK/inflight.log" --listen "udp:127.0.0.1:$PORT" --max-transactions $((INFLIGHT * 2))
IPID=$STARTED_PID
sleep 0.3
PEAK_RSS=0; sample_rss "$IPID"; INFLIGHT_IDLE=$PEAK_RSS
STEP_SECONDS_SAVED=$STEP_SECONDS
STEP_SECONDS=$(( INFLIGHT / INFLIGHT_RATE + 1 ))
t0=$(date +%s%N)
SAMPLE_PID=; sipp_step "$PORT" "$INFLIGHT_RATE" "$INFLIGHT" inflight "$INFLIGHT_SCENARIO"
t1=$(date +%s%N)
STEP_SECONDS=$STEP_SECONDS_SAVED
read -r irc _ iok ifailed iretrans irate <<<"$(cat "$WORK/inflight.result")"
kill -USR1 "$IPID" 2>/dev/null || true
STATS=
for _ in $(seq 1 50); do
    STATS=$(grep -m1 'statistics:' "$WORK/inflight.log" || true)
    [[ -n "$STATS" ]] && break
    sleep 0.1
done
PEAK_RSS=0; sample_rss "$IPID"; INFLIGHT_RSS=$PEAK_RSS
ALIVE=$(sed -n 's/.*serverTransactions=\([0-9]*\).*/\1/p' <<<"$STATS")
ELAPSED_MS=$(( (t1 - t0) / 1000000 ))
stop_pid "$IPID"

echo
echo "dialtoned rates tried:$OURS_TRIED ($OURS_NOTE)"
echo "kamailio  rates tried:$PEER_TRIED ($PEER_NOTE)"
echo "Rates are the highest step sustained for ${STEP_SECONDS}s with 0 failed, 0 retransmissions (climb from"
echo "$START_RATE/s by x$FACTOR, then $BISECT bisection steps)."
echo "dialtoned VmRSS at its highest sustained rate ($OURS/s): ${OURS_RSS} kB (idle: ${IDLE_RSS} kB)"
echo "in-flight run: $iok/$INFLIGHT MESSAGE answered 405 (exit $irc, $ifailed failed, $iretrans retransmissions) in ${ELAPSED_MS} ms;"
echo "  dialtoned reported serverTransactions=${ALIVE:-?} right after (SIGUSR1)"
if [[ "${ALIVE:-0}" -ge "$INFLIGHT" ]]; then
    echo "RSS with 10,000 transactions in flight: ${INFLIGHT_RSS} kB (idle ${INFLIGHT_IDLE} kB; $(( (INFLIGHT_RSS - INFLIGHT_IDLE) * 1024 / ALIVE )) bytes per transaction)"
else
    echo "RSS with 10,000 transactions in flight: not measured: only ${ALIVE:-?} alive (VmRSS ${INFLIGHT_RSS} kB, idle ${INFLIGHT_IDLE} kB)"
fi
RATIO=$(ratio "$OURS" "$PEER")
echo "bench-transactions: ours=$OURS peer=$PEER ratio=$RATIO"
