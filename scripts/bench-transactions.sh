#!/usr/bin/env bash
# Transaction benchmark (issue 4, item 7): SIPp sends OPTIONS at rising rates to dialtoned, then to
# Kamailio answering statelessly with sl_send_reply (Bench/bench-transactions/kamailio.cfg), same
# scenario (Tests/Fixtures/sipp/options.xml), same machine, one after the other in this run.
# A step is sustained when SIPp exits 0 with every call successful, 0 failed calls, 0 retransmissions,
# and its measured call rate (CallRate(C)) is at least 90% of the target. Climbing stops at the first
# step that is not sustained. Kamailio runs at its best (../shared/docs/peers.md): -x tlsf, -m 256,
# two UDP workers (-n 2), maxbuffer=4194304; SIPp gets -buff_size 4194304 for both.
#
#   scripts/bench-transactions.sh
#   (env: BENCH_RATES="1000 2000 4000 8000 16000 32000", BENCH_STEP_SECONDS=5, BENCH_SCRATCH)
#
# Also prints dialtoned's RSS (VmRSS, peak sampled every 200 ms) at its highest sustained step.
# Everything on 127.0.0.1; every process started here is stopped by its pid; every loop is bounded.
# Last line exactly: bench-transactions: ours=<tps> peer=<tps> ratio=<ours/peer>
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SCRATCH=${BENCH_SCRATCH:-.build-bench}
RATES=${BENCH_RATES:-"1000 2000 4000 8000 16000 32000"}
STEP_SECONDS=${BENCH_STEP_SECONDS:-5}
SCENARIO=$ROOT/Tests/Fixtures/sipp/options.xml
KAMAILIO_CFG=$ROOT/Bench/bench-transactions/kamailio.cfg

for tool in sipp kamailio; do
    command -v "$tool" >/dev/null || { echo "bench-transactions.sh: $tool not installed (make deps)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/bench-transactions.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.3
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== building dialtoned (release, $SCRATCH)"
mkdir -p "$SCRATCH"
if ! swift build -c release --scratch-path "$SCRATCH" --product dialtoned >"$SCRATCH/bench-transactions-build.log" 2>&1; then
    tail -40 "$SCRATCH/bench-transactions-build.log" >&2
    echo "bench-transactions.sh: swift build failed" >&2
    exit 1
fi
DIALTONED=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/dialtoned

# A free UDP port on 127.0.0.1 (bash's /dev/udp cannot bind; pick in a high range and check ss).
free_port() {
    local p tries=0
    while (( tries < 200 )); do
        p=$(( 20000 + RANDOM % 30000 ))
        if ! ss -Hunl "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
        tries=$((tries + 1))
    done
    echo "bench-transactions.sh: no free port" >&2; return 1
}

# One SIPp OPTIONS run (not in a subshell, so RSS samples and pids reach this shell); writes
# "exit created ok failed retrans callrate" to $WORK/<label>.result.
sipp_step() { # port rate calls label
    local port=$1 rate=$2 calls=$3 label=$4 stat="$WORK/$4.csv" rc=0
    rm -f "$stat"
    ( cd "$WORK" && exec sipp "127.0.0.1:$port" -sf "$SCENARIO" -t u1 -i 127.0.0.1 -m "$calls" -r "$rate" \
        -nostdin -buff_size 4194304 -timeout $((STEP_SECONDS + 20)) -timeout_error \
        -max_recv_loops 10000 -max_sched_loops 10000 \
        -trace_stat -stf "$stat" -fd 1 >"$WORK/$label.out" 2>&1 ) &
    local spid=$!
    PIDS+=("$spid")
    # Bounded wait: SIPp's own timeout plus a margin, then killed by pid (peers.md).
    local waited=0 limit=$(( (STEP_SECONDS + 30) * 10 ))
    while kill -0 "$spid" 2>/dev/null && (( waited < limit )); do
        if [[ -n "${SAMPLE_PID:-}" ]]; then sample_rss "$SAMPLE_PID"; fi
        sleep 0.1; waited=$((waited + 1))
    done
    kill -KILL "$spid" 2>/dev/null || true
    wait "$spid" || rc=$?
    awk -F';' -v rc="$rc" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        { last = $0 }
        END {
            n = split(last, v, ";")
            printf "%s %s %s %s %s %s\n", rc, v[col["TotalCallCreated"]], v[col["SuccessfulCall(C)"]],
                v[col["FailedCall(C)"]], v[col["Retransmissions(C)"]], v[col["CallRate(C)"]]
        }' "$stat" >"$WORK/$label.result" 2>/dev/null || echo "$rc ? ? ? ? ?" >"$WORK/$label.result"
    [[ -s "$WORK/$label.result" ]] || echo "$rc ? ? ? ? ?" >"$WORK/$label.result"
}

PEAK_RSS=0
sample_rss() { # pid
    local kb
    kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0)
    if [[ -n "$kb" ]] && (( kb > PEAK_RSS )); then PEAK_RSS=$kb; fi
}

# Climbs the rates against 127.0.0.1:port; sets BEST (highest sustained rate, 0 if none) and BEST_RSS.
climb() { # name port [pid-to-sample]
    local name=$1 port=$2 rate calls line rc created ok failed retrans callrate verdict
    BEST=0; BEST_RSS=0
    printf "%-10s %8s %8s %8s %7s %8s %10s  %s\n" "$name" "target/s" "calls" "ok" "failed" "retrans" "measured/s" "verdict"
    for rate in $RATES; do
        calls=$((rate * STEP_SECONDS))
        PEAK_RSS=0
        SAMPLE_PID=${3:-}
        sipp_step "$port" "$rate" "$calls" "$name-$rate"
        SAMPLE_PID=
        line=$(cat "$WORK/$name-$rate.result")
        read -r rc created ok failed retrans callrate <<<"$line"
        verdict=sustained
        if [[ "$rc" != 0 || "$ok" != "$calls" || "$failed" != 0 || "$retrans" != 0 ]]; then
            verdict="not sustained (exit $rc, $failed failed, $retrans retransmissions)"
        elif ! awk -v m="$callrate" -v t="$rate" 'BEGIN { exit !(m + 0 >= 0.9 * t) }'; then
            verdict="not sustained (rate below 90% of target)"
        fi
        printf "%-10s %8s %8s %8s %7s %8s %10s  %s\n" "" "$rate" "$calls" "$ok" "$failed" "$retrans" "$callrate" "$verdict"
        [[ $verdict == sustained ]] || break
        BEST=$rate
        BEST_RSS=$PEAK_RSS
        sleep 1
    done
}

# --- dialtoned -------------------------------------------------------------------------------
PORT=$(free_port)
"$DIALTONED" --listen "udp:127.0.0.1:$PORT" >"$WORK/dialtoned.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
for _ in $(seq 1 100); do grep -q ready "$WORK/dialtoned.log" && break; sleep 0.1; done
grep -q ready "$WORK/dialtoned.log" || { cat "$WORK/dialtoned.log" >&2; echo "bench-transactions.sh: dialtoned did not start" >&2; exit 1; }
PEAK_RSS=0; sample_rss "$DPID"; IDLE_RSS=$PEAK_RSS
echo "== dialtoned $("$DIALTONED" --version 2>/dev/null || true) on udp:127.0.0.1:$PORT (pid $DPID, idle VmRSS ${IDLE_RSS} kB)"
climb dialtoned "$PORT" "$DPID"
OURS=$BEST
OURS_RSS=$BEST_RSS
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null || true

# --- Kamailio ---------------------------------------------------------------------------------
PORT=$(free_port)
mkdir -p "$WORK/kamailio"
kamailio -f "$KAMAILIO_CFG" -DD -E -x tlsf -m 256 -M 16 -n 2 -l "udp:127.0.0.1:$PORT" \
    -Y "$WORK/kamailio" -P "$WORK/kamailio/kamailio.pid" >"$WORK/kamailio.log" 2>&1 &
KPID=$!
PIDS+=("$KPID")
ready=0
for _ in $(seq 1 25); do
    SAMPLE_PID=; sipp_step "$PORT" 10 1 kamailio-ready
    line=$(cat "$WORK/kamailio-ready.result")
    if [[ ${line%% *} == 0 ]]; then ready=1; break; fi
    kill -0 "$KPID" 2>/dev/null || break
    sleep 0.2
done
(( ready )) || { tail -20 "$WORK/kamailio.log" >&2; echo "bench-transactions.sh: kamailio did not answer" >&2; exit 1; }
echo "== $(kamailio -v 2>/dev/null | head -1) on udp:127.0.0.1:$PORT (pid $KPID, -x tlsf -m 256 -n 2)"
climb kamailio "$PORT"
PEER=$BEST
kill -TERM "$KPID"; wait "$KPID" 2>/dev/null || true

echo
echo "dialtoned VmRSS at its highest sustained rate ($OURS/s): ${OURS_RSS} kB (idle: ${IDLE_RSS} kB)"
echo "RSS with 10,000 transactions in flight: awaits the transaction layer (dialtoned answers"
echo "statelessly today and holds no transaction state; the figure above is under load, not in-flight state)."
echo "Rates are the highest step of [$RATES]/s sustained for ${STEP_SECONDS}s with 0 failed, 0 retransmissions."
RATIO=$(awk -v o="$OURS" -v p="$PEER" 'BEGIN { if (p > 0) printf "%.2f", o / p; else print "inf" }')
echo "bench-transactions: ours=$OURS peer=$PEER ratio=$RATIO"
