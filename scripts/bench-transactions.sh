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

if [[ -n "${BENCH_DIALTONED:-}" ]]; then
    DIALTONED=$BENCH_DIALTONED
    [[ -x "$DIALTONED" ]] || { echo "bench-transactions.sh: $DIALTONED is not executable" >&2; exit 1; }
else
    echo "== building dialtoned (release, $SCRATCH)"
    mkdir -p "$SCRATCH"
    if ! swift build -c release --scratch-path "$SCRATCH" --product dialtoned >"$SCRATCH/bench-transactions-build.log" 2>&1; then
        tail -40 "$SCRATCH/bench-transactions-build.log" >&2
        echo "bench-transactions.sh: swift build failed" >&2
        exit 1
    fi
    DIALTONED=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/dialtoned
fi

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
sipp_step() { # port rate calls label [scenario]
    local port=$1 rate=$2 calls=$3 label=$4 scenario=${5:-$SCENARIO} stat="$WORK/$4.csv" rc=0
    rm -f "$stat"
    ( cd "$WORK" && exec sipp "127.0.0.1:$port" -sf "$scenario" -t u1 -i 127.0.0.1 -m "$calls" -r "$rate" \
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

# One step at `rate` against 127.0.0.1:port; prints its row; returns 0 when sustained.
try_rate() { # name port rate [pid-to-sample]
    local name=$1 port=$2 rate=$3 calls line rc created ok failed retrans callrate verdict
    calls=$((rate * STEP_SECONDS))
    PEAK_RSS=0
    SAMPLE_PID=${4:-}
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
    TRIED="$TRIED $rate"
    if [[ $verdict == sustained ]]; then sleep 1; return 0; fi
    sleep 2  # let a saturated peer drain before the next step
    return 1
}

# Rates rounded to 100/s.
round100() { awk -v r="$1" 'BEGIN { printf "%d", int(r / 100 + 0.5) * 100 }'; }

# Climbs against 127.0.0.1:port by FACTOR until a step fails, then bisects BISECT times between the
# last sustained and the first failed rate; sets BEST (highest sustained rate, 0 if none), BEST_RSS
# (peak VmRSS of the sampled pid at BEST) and TRIED (the rates tried, in order).
climb() { # name port [pid-to-sample]
    local name=$1 port=$2 rate good=0 bad=0 mid round
    BEST=0; BEST_RSS=0; TRIED=
    printf "%-10s %8s %8s %8s %7s %8s %10s  %s\n" "$name" "target/s" "calls" "ok" "failed" "retrans" "measured/s" "verdict"
    rate=$START_RATE
    while (( rate <= MAX_RATE )); do
        if try_rate "$name" "$port" "$rate" "${3:-}"; then
            good=$rate; BEST=$rate; BEST_RSS=$PEAK_RSS
        else
            bad=$rate; break
        fi
        rate=$(round100 "$(awk -v r="$rate" -v f="$FACTOR" 'BEGIN { print r * f }')")
    done
    (( bad > 0 )) || return 0
    for (( round = 0; round < BISECT; round++ )); do
        mid=$(round100 $(( (good + bad) / 2 )))
        (( mid > good && mid < bad )) || break
        if try_rate "$name" "$port" "$mid" "${3:-}"; then
            good=$mid; BEST=$mid; BEST_RSS=$PEAK_RSS
        else
            bad=$mid
        fi
    done
    LIMIT_NOTE="first failed step: $bad/s"
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
LIMIT_NOTE="no step failed up to $MAX_RATE/s"
climb dialtoned "$PORT" "$DPID"
OURS=$BEST
OURS_RSS=$BEST_RSS
OURS_TRIED=$TRIED
OURS_NOTE=$LIMIT_NOTE
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
LIMIT_NOTE="no step failed up to $MAX_RATE/s"
climb kamailio "$PORT"
PEER=$BEST
PEER_TRIED=$TRIED
PEER_NOTE=$LIMIT_NOTE
kill -TERM "$KPID"; wait "$KPID" 2>/dev/null || true

# --- 10,000 server transactions in flight (dialtoned) -----------------------------------------
# A fresh daemon, so the figure is the transactions' memory and not what the OPTIONS climb left in
# the allocator. Each MESSAGE is answered 405 by its transaction, which then waits Timer J (32 s).
PORT=$(free_port)
"$DIALTONED" --listen "udp:127.0.0.1:$PORT" --max-transactions $((INFLIGHT * 2)) >"$WORK/inflight.log" 2>&1 &
IPID=$!
PIDS+=("$IPID")
for _ in $(seq 1 100); do grep -q ready "$WORK/inflight.log" && break; sleep 0.1; done
grep -q ready "$WORK/inflight.log" || { cat "$WORK/inflight.log" >&2; echo "bench-transactions.sh: dialtoned did not start" >&2; exit 1; }
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
kill -TERM "$IPID" 2>/dev/null || true; wait "$IPID" 2>/dev/null || true

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
RATIO=$(awk -v o="$OURS" -v p="$PEER" 'BEGIN { if (p > 0) printf "%.2f", o / p; else print "inf" }')
echo "bench-transactions: ours=$OURS peer=$PEER ratio=$RATIO"
