# Shared by the SIPp benchmarks (scripts/bench-transactions.sh, bench-register.sh, bench-proxy.sh);
# sourced, not run. The caller sets, before sourcing:
#   BENCH_NAME                         script name for messages (e.g. bench-register.sh)
#   START_RATE FACTOR MAX_RATE BISECT  the rate ladder (see climb)
#   STEP_SECONDS                       seconds of load per step
#   SCENARIO                           the SIPp scenario try_rate runs (unless STEP_FN says otherwise)
# and may set, at any time:
#   SIPP_ARGS=(…)   extra SIPp arguments for try_rate's steps (e.g. -key expires 3600, -au/-ap)
#   STEP_FN         a function "port rate calls label" that runs one step and writes
#                   $WORK/<label>.result like sipp_step does (default: sipp_step with SCENARIO);
#                   it may set STEP_NOTE, appended to the step's verdict
#   SIPP_TIMEOUT    SIPp's -timeout for a step (default STEP_SECONDS + 20)
#   DRAIN_SECONDS   pause after a step that was not sustained (default 2)
#   CONFIRM_SECONDS length of confirm's step (0, the default: confirm does nothing)
# Everything on 127.0.0.1; every process started here is stopped by its pid (bench_cleanup, on EXIT);
# every loop is bounded in count and time.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PIDS=()
SIPP_ARGS=()
WORK=

bench_die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

bench_require() { # tool…
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || bench_die "$tool not installed (make deps)"
    done
}

bench_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.3
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    if [[ -n "$WORK" ]]; then rm -rf "$WORK"; fi
}

# Makes $WORK (removed on exit, unless BENCH_KEEP is set) and installs the cleanup trap.
bench_setup() { # prefix
    WORK=$(mktemp -d "/tmp/$1.XXXXXX")
    if [[ -n "${BENCH_KEEP:-}" ]]; then
        trap 'W=$WORK; WORK=; bench_cleanup; echo "$BENCH_NAME: kept $W" >&2' EXIT
    else
        trap bench_cleanup EXIT
    fi
}

# Sets DIALTONED: $BENCH_DIALTONED, else a release build in $SCRATCH.
bench_build_dialtoned() {
    if [[ -n "${BENCH_DIALTONED:-}" ]]; then
        DIALTONED=$BENCH_DIALTONED
        [[ -x "$DIALTONED" ]] || bench_die "$DIALTONED is not executable"
        return 0
    fi
    # BENCH_STATIC_STDLIB=1: the Swift runtime linked in, as the router image ships it (make image).
    local scratch=$SCRATCH flags=()
    if [[ "${BENCH_STATIC_STDLIB:-0}" == 1 ]]; then scratch="$SCRATCH-static"; flags=(--static-swift-stdlib); fi
    echo "== building dialtoned (release${flags:+, static Swift runtime}, $scratch)"
    mkdir -p "$scratch"
    local log="$scratch/${BENCH_NAME%.sh}-build.log"
    if ! swift build -c release "${flags[@]}" --scratch-path "$scratch" --product dialtoned >"$log" 2>&1; then
        tail -40 "$log" >&2
        bench_die "swift build failed"
    fi
    DIALTONED=$(swift build -c release "${flags[@]}" --scratch-path "$scratch" --show-bin-path)/dialtoned
}

# A free UDP port on 127.0.0.1 (bash's /dev/udp cannot bind; pick in a high range and check ss).
free_port() {
    local p tries=0
    while (( tries < 200 )); do
        p=$(( 20000 + RANDOM % 30000 ))
        if ! ss -Hunl "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
        tries=$((tries + 1))
    done
    echo "$BENCH_NAME: no free port" >&2; return 1
}

# Waits (at most `tenths` × 100 ms) until something listens on udp 127.0.0.1:port.
wait_udp_bound() { # port tenths
    local i
    for (( i = 0; i < $2; i++ )); do
        ss -Hunl "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    return 1
}

# "exit created ok failed retrans callrate" from a SIPp -trace_stat file (its last row).
sipp_result() { # rc statfile
    local line
    line=$(awk -F';' -v rc="$1" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        { last = $0 }
        END {
            if (last == "") exit 1
            n = split(last, v, ";")
            printf "%s %s %s %s %s %s\n", rc, v[col["TotalCallCreated"]], v[col["SuccessfulCall(C)"]],
                v[col["FailedCall(C)"]], v[col["Retransmissions(C)"]], v[col["CallRate(C)"]]
        }' "$2" 2>/dev/null) || line=
    echo "${line:-$1 ? ? ? ? ?}"
}

# Waits for a SIPp started in the background (bounded: `tenths` × 100 ms, sampling RSS of
# $SAMPLE_PID meanwhile), kills it by pid if it is still running, and sets SIPP_RC to its status.
sipp_wait() { # pid tenths
    local waited=0 rc=0
    while kill -0 "$1" 2>/dev/null && (( waited < $2 )); do
        if [[ -n "${SAMPLE_PID:-}" ]]; then sample_rss "$SAMPLE_PID"; fi
        sleep 0.1; waited=$((waited + 1))
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" || rc=$?
    SIPP_RC=$rc
}

# One SIPp run (not in a subshell, so RSS samples and pids reach this shell); writes
# "exit created ok failed retrans callrate" to $WORK/<label>.result. Extra arguments after the
# scenario go to SIPp as they are.
sipp_step() { # port rate calls label [scenario [sipp args…]]
    local port=$1 rate=$2 calls=$3 label=$4 scenario=${5:-$SCENARIO} stat="$WORK/$4.csv"
    local timeout=${SIPP_TIMEOUT:-$((STEP_SECONDS + 20))}
    shift 5 2>/dev/null || shift $#
    rm -f "$stat"
    ( cd "$WORK" && exec sipp "127.0.0.1:$port" -sf "$scenario" -t u1 -i 127.0.0.1 -m "$calls" -r "$rate" \
        -nostdin -buff_size 4194304 -timeout "$timeout" -timeout_error \
        -max_recv_loops 10000 -max_sched_loops 10000 \
        -trace_stat -stf "$stat" -fd 1 "$@" >"$WORK/$label.out" 2>&1 ) &
    local spid=$!
    PIDS+=("$spid")
    # Bounded wait: SIPp's own timeout plus a margin, then killed by pid (peers.md).
    sipp_wait "$spid" $(( (timeout + 10) * 10 ))
    sipp_result "$SIPP_RC" "$stat" >"$WORK/$label.result"
}

PEAK_RSS=0
sample_rss() { # pid
    local kb
    kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0)
    if [[ -n "$kb" ]] && (( kb > PEAK_RSS )); then PEAK_RSS=$kb; fi
}

# VmRSS of one process, in kB.
vmrss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# "pss_kB rss_kB processes" summed over a process and its children (Kamailio is one main process
# and its forked workers; PSS shares the shared memory and the libraries fairly among them).
tree_memory_kb() { # pid
    local pids p pss=0 rss=0 n=0 a b
    pids="$1 $(ps -o pid= --ppid "$1" 2>/dev/null | tr '\n' ' ')"
    for p in $pids; do
        read -r a b < <(awk '/^Pss:/ { s += $2 } /^Rss:/ { r += $2 } END { print s + 0, r + 0 }' \
            "/proc/$p/smaps_rollup" 2>/dev/null || echo "0 0")
        pss=$((pss + ${a:-0})); rss=$((rss + ${b:-0})); n=$((n + 1))
    done
    echo "$pss $rss $n"
}

# One step at `rate` against 127.0.0.1:port; prints its row; returns 0 when sustained: exit 0,
# every call successful, 0 failed, 0 retransmissions, measured rate at least 90% of the target.
try_rate() { # name port rate [pid-to-sample]
    local name=$1 port=$2 rate=$3 calls line rc created ok failed retrans callrate verdict
    calls=$((rate * STEP_SECONDS))
    PEAK_RSS=0
    SAMPLE_PID=${4:-}
    STEP_NOTE=
    if [[ -n "${STEP_FN:-}" ]]; then
        "$STEP_FN" "$port" "$rate" "$calls" "$name-$rate"
    else
        sipp_step "$port" "$rate" "$calls" "$name-$rate" "$SCENARIO" "${SIPP_ARGS[@]}"
    fi
    SAMPLE_PID=
    line=$(cat "$WORK/$name-$rate.result")
    read -r rc created ok failed retrans callrate <<<"$line"
    verdict=sustained
    if [[ "$rc" != 0 || "$ok" != "$calls" || "$failed" != 0 || "$retrans" != 0 ]]; then
        verdict="not sustained (exit $rc, $failed failed, $retrans retransmissions)"
    elif ! awk -v m="$callrate" -v t="$rate" 'BEGIN { exit !(m + 0 >= 0.9 * t) }'; then
        verdict="not sustained (rate below 90% of target)"
    fi
    if [[ -n "$STEP_NOTE" ]]; then verdict="$verdict; $STEP_NOTE"; fi
    printf "%-10s %8s %8s %8s %7s %8s %10s  %s\n" "" "$rate" "$calls" "$ok" "$failed" "$retrans" "$callrate" "$verdict"
    TRIED="$TRIED $rate"
    if [[ $verdict == sustained ]]; then sleep 1; return 0; fi
    sleep "${DRAIN_SECONDS:-2}"  # let a saturated peer drain before the next step
    return 1
}

# Rates rounded to 100/s.
round100() { awk -v r="$1" 'BEGIN { printf "%d", int(r / 100 + 0.5) * 100 }'; }

# Climbs against 127.0.0.1:port from START_RATE by FACTOR until a step fails, then bisects BISECT
# times between the last sustained and the first failed rate; sets BEST (highest sustained rate, 0
# if none), BEST_RSS (peak VmRSS of the sampled pid at BEST), TRIED (the rates tried, in order) and
# LIMIT_NOTE.
climb() { # name port [pid-to-sample]
    local name=$1 port=$2 rate good=0 bad=0 mid round next steps=0
    BEST=0; BEST_RSS=0; TRIED=
    LIMIT_NOTE="no step failed up to $MAX_RATE/s"
    printf "%-10s %8s %8s %8s %7s %8s %10s  %s\n" "$name" "target/s" "calls" "ok" "failed" "retrans" "measured/s" "verdict"
    rate=$START_RATE
    # At most 100 steps; each step at least 100/s above the last (rounding must not stall the ladder).
    while (( rate <= MAX_RATE && steps < 100 )); do
        steps=$((steps + 1))
        if try_rate "$name" "$port" "$rate" "${3:-}"; then
            good=$rate; BEST=$rate; BEST_RSS=$PEAK_RSS
        else
            bad=$rate; break
        fi
        next=$(round100 "$(awk -v r="$rate" -v f="$FACTOR" 'BEGIN { print r * f }')")
        (( next > rate )) || next=$((rate + 100))
        rate=$next
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

# Re-runs BEST for CONFIRM_SECONDS: state with long timers (an INVITE client transaction's Timer
# M, Timer J, Timer L: 32 s) only reaches its steady amount in a step longer than them, so a cap on
# it stays hidden in short steps. When that step is not sustained, steps down by FACTOR (at least
# 100/s) until one is (at most 10 tries). Updates BEST, BEST_RSS, TRIED and LIMIT_NOTE.
CONFIRM_SECONDS=${CONFIRM_SECONDS:-0}
confirm() { # name port [pid-to-sample]
    local name=$1 port=$2 rate=$BEST saved=$STEP_SECONDS tries=0 next
    (( rate > 0 && CONFIRM_SECONDS > 0 )) || return 0
    STEP_SECONDS=$CONFIRM_SECONDS
    echo "           (confirming for ${CONFIRM_SECONDS}s)"
    while (( rate > 0 && tries < 10 )); do
        tries=$((tries + 1))
        if try_rate "$name" "$port" "$rate" "${3:-}"; then
            BEST=$rate; BEST_RSS=$PEAK_RSS
            LIMIT_NOTE="$LIMIT_NOTE; $rate/s held for ${CONFIRM_SECONDS}s"
            STEP_SECONDS=$saved
            return 0
        fi
        next=$(round100 "$(awk -v r="$rate" -v f="$FACTOR" 'BEGIN { print r / f }')")
        (( next < rate )) || next=$((rate - 100))
        rate=$next
    done
    BEST=0; BEST_RSS=0
    LIMIT_NOTE="$LIMIT_NOTE; no rate held for ${CONFIRM_SECONDS}s"
    STEP_SECONDS=$saved
}

# Starts dialtoned with the given arguments, output to `log`; sets STARTED_PID once it printed
# `ready` (at most 10 s).
start_dialtoned() { # log args…
    local log=$1 i
    shift
    "$DIALTONED" "$@" >"$log" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    for (( i = 0; i < 100; i++ )); do
        grep -q ready "$log" 2>/dev/null && return 0
        kill -0 "$STARTED_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$log" >&2
    bench_die "dialtoned did not start"
}

# Starts Kamailio at its best (peers.md: -x tlsf, -n 2 UDP workers, -m shared memory) on
# udp:127.0.0.1:port with `cfg` and any extra arguments (-A defines); sets STARTED_PID once it
# answers an OPTIONS (at most 25 tries). Needs Tests/Fixtures/sipp/options.xml answered 200.
KAMAILIO_SHM=${KAMAILIO_SHM:-1024}
start_kamailio() { # cfg port label [kamailio args…]
    local cfg=$1 port=$2 label=$3 i line ready=0
    shift 3
    mkdir -p "$WORK/$label"
    kamailio -f "$cfg" -DD -E -x tlsf -m "$KAMAILIO_SHM" -M 16 -n 2 -l "udp:127.0.0.1:$port" \
        -Y "$WORK/$label" -P "$WORK/$label/kamailio.pid" "$@" >"$WORK/$label.log" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    for (( i = 0; i < 25; i++ )); do
        SAMPLE_PID=
        STEP_SECONDS_SAVED_K=$STEP_SECONDS; STEP_SECONDS=1
        sipp_step "$port" 10 1 "$label-ready" "$ROOT/Tests/Fixtures/sipp/options.xml"
        STEP_SECONDS=$STEP_SECONDS_SAVED_K
        line=$(cat "$WORK/$label-ready.result")
        if [[ ${line%% *} == 0 ]]; then ready=1; break; fi
        kill -0 "$STARTED_PID" 2>/dev/null || break
        sleep 0.2
    done
    (( ready )) || { tail -20 "$WORK/$label.log" >&2; bench_die "kamailio did not answer"; }
}

# Stops a process this script started: SIGTERM, then SIGKILL after 5 s; waits for it.
stop_pid() { # pid
    local i
    kill -TERM "$1" 2>/dev/null || true
    for (( i = 0; i < 50; i++ )); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# Stops Kamailio (main pid): its workers are found first, so none is left behind if the main
# process has to be killed.
stop_kamailio() { # pid
    local workers w
    workers=$(ps -o pid= --ppid "$1" 2>/dev/null | tr '\n' ' ')
    stop_pid "$1"
    for w in $workers; do
        # Only a worker still orphaned (parent 1) or still Kamailio's, not a reused pid.
        case "$(ps -o ppid= -p "$w" 2>/dev/null | tr -d ' ')" in
            1|"$1") kill -KILL "$w" 2>/dev/null || true ;;
        esac
    done
}

ratio() { awk -v o="$1" -v p="$2" 'BEGIN { if (p > 0) printf "%.2f", o / p; else print "inf" }'; }

# ---- User agent benchmarks (scripts/bench-ua-footprint.sh, bench-wan-recovery.sh) ---------------
# Kamailio as the ISP (Tests/Fixtures/kamailio/isp.cfg, filled here the way
# Sources/DialtoneTestKit/KamailioISP.swift fills it) and baresip as the peer user agent.

# Writes `dir`/kamailio.cfg from isp.cfg and the db_text folder `dir`/db (`version`, `subscriber`
# with HA1 = MD5(user:realm:password), HA1b = MD5(user@domain:realm:password); realm = domain; the
# challenges name no algorithm, which baresip 1.0.0 needs). Sets ISP_CFG and ISP_CTL (the ctl
# module's unix socket for kamcmd).
isp_prepare() { # dir listen-address port domain user:password…
    local dir=$1 address=$2 port=$3 domain=$4 entry user pass n=0 left
    shift 4
    mkdir -p "$dir/db"
    ISP_CFG=$dir/kamailio.cfg
    ISP_CTL=$dir/ctl.sock
    (( ${#ISP_CTL} < 100 )) || bench_die "ctl socket path too long: $ISP_CTL"
    sed -e "s|@LISTEN_ADDRESS@|$address|g" -e "s|@LISTEN_PORT@|$port|g" -e "s|@DOMAIN@|$domain|g" \
        -e "s|@REALM@|$domain|g" -e "s|@DB_DIR@|$dir/db|g" -e "s|@CTL_SOCKET@|$ISP_CTL|g" \
        -e "s|@MIN_EXPIRES@|60|g" -e "s|@MAX_EXPIRES@|3600|g" -e "s|@DEFAULT_EXPIRES@|3600|g" \
        -e "s|@ALGORITHM@||g" -e "s|@STALE_CHALLENGE_FLAGS@|17|g" -e "s|@CHALLENGE_FLAGS@|1|g" \
        -e "s|@WORKERS@|2|g" "$ROOT/Tests/Fixtures/kamailio/isp.cfg" >"$ISP_CFG"
    left=$(grep -v '^#' "$ISP_CFG" | grep -oE '@[A-Z0-9_]{2,}@' | head -1 || true)
    [[ -z "$left" ]] || bench_die "isp.cfg placeholder $left has no value"
    printf 'id(int,auto) table_name(string) table_version(int) \n0:version:1\n0:subscriber:7\n' >"$dir/db/version"
    printf 'id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string) \n' >"$dir/db/subscriber"
    for entry in "$@"; do
        user=${entry%%:*}; pass=${entry#*:}; n=$((n + 1))
        printf '%s:%s:%s:%s:%s:%s\n' "$n" "$user" "$domain" "$pass" \
            "$(printf '%s' "$user:$domain:$pass" | md5sum | cut -d' ' -f1)" \
            "$(printf '%s' "$user@$domain:$domain:$pass" | md5sum | cut -d' ' -f1)" >>"$dir/db/subscriber"
    done
}

# kamcmd on the ISP's ctl socket, bounded to 2 s.
isp_rpc() { timeout 2 kamcmd -s "unix:$ISP_CTL" "$@"; }

# Starts the ISP Kamailio (ISP_CFG; -x tlsf as peers.md says, 64 MB shared memory as the test kit),
# optionally inside a network namespace; sets STARTED_PID once its ctl socket answers and its UDP
# port is bound (at most 10 s).
start_isp() { # dir port [namespace]
    local dir=$1 port=$2 ns=${3:-} i
    local -a pre=()
    [[ -z "$ns" ]] || pre=(ip netns exec "$ns")
    # `ip netns exec` execs the command: the pid started is Kamailio's main process.
    "${pre[@]}" kamailio -f "$ISP_CFG" -DD -E -x tlsf -m 64 -M 8 -Y "$dir" -P "$dir/kamailio.pid" >"$dir/kamailio.log" 2>&1 &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
    for (( i = 0; i < 100; i++ )); do
        if isp_rpc core.uptime >/dev/null 2>&1 && "${pre[@]}" ss -Hunl "sport = :$port" 2>/dev/null | grep -q .; then
            return 0
        fi
        kill -0 "$STARTED_PID" 2>/dev/null || break
        sleep 0.1
    done
    tail -20 "$dir/kamailio.log" >&2
    bench_die "the ISP Kamailio did not start"
}

# The ISP's usrloc contacts, one a line: "aor address call-id cseq" (kamcmd ul.dump).
isp_contacts() {
    isp_rpc ul.dump 2>/dev/null | awk '
        function flush() { if (addr != "") print aor, addr, cid, cseq; addr = ""; cid = "-"; cseq = "-" }
        { sub(/^[ \t]+/, "") }
        /^AoR: / { flush(); aor = $2; next }
        /^Address: / { flush(); addr = $2; next }
        /^Call-ID: / { cid = $2; next }
        /^CSeq: / { cseq = $2; next }
        END { flush() }'
}

# baresip's modules folder.
baresip_modules() {
    local d
    for d in /usr/lib/baresip/modules /usr/lib/x86_64-linux-gnu/baresip/modules \
             /usr/lib/aarch64-linux-gnu/baresip/modules /usr/local/lib/baresip/modules; do
        [[ -r "$d/account.so" ]] && { echo "$d"; return 0; }
    done
    return 1
}

# Writes a baresip configuration folder `dir` (config, accounts, a 1 s 8 kHz mono WAV of silence)
# without a sound card, as peers.md and Sources/DialtoneTestKit/Baresip.swift do: aufile as the
# source, aubridge as the player, g711, SIP on `listen` (address:port), net_interface `netif` when
# given. Accounts are full lines of baresip's accounts file.
baresip_prepare() { # dir listen netif account-line…
    local dir=$1 listen=$2 netif=$3 modules line
    shift 3
    modules=$(baresip_modules) || bench_die "baresip modules folder not found"
    mkdir -p "$dir"
    # RIFF/WAVE, PCM 16-bit, 8000 Hz, mono, 8000 samples of silence (little-endian header).
    { printf 'RIFF\x24\x3e\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x00\x3e\x00\x00'
      head -c 16000 /dev/zero; } >"$dir/audio.wav"
    {
        echo "poll_method epoll"
        echo "sip_listen $listen"
        [[ -z "$netif" ]] || echo "net_interface $netif"
        echo "dns_server 127.0.0.1:53"
        echo "audio_player aubridge,bench"
        echo "audio_alert aubridge,bench"
        echo "audio_source aufile,$dir/audio.wav"
        echo "module_path $modules"
        for line in g711 aufile aubridge uuid; do echo "module $line.so"; done
        echo "module_app account.so"
    } >"$dir/config"
    printf '%s\n' "$@" >"$dir/accounts"
}

# Milliseconds since the epoch (bash 5's EPOCHREALTIME).
now_ms() { local t=${EPOCHREALTIME/./}; echo $(( t / 1000 )); }

# Median of integers.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

# How many lines dialtoned's status.json (flat objects, one per line) shows with Status "Up".
ua_lines_up() { # status.json
    local n
    n=$(grep -oE '"Status"[[:space:]]*:[[:space:]]*"Up"' "$1" 2>/dev/null | wc -l) || n=0
    echo "${n:-0}"
}

# Alias, Status, Contact and Registrations of every line of status.json, on one line.
ua_status_summary() { # status.json
    grep -oE '"(Alias|Status|Contact|Registrations)"[[:space:]]*:[[:space:]]*("[^"]*"|[0-9.]+)' "$1" 2>/dev/null \
        | sed -E 's/"([A-Za-z]+)"[[:space:]]*:[[:space:]]*/\1=/' | tr '\n' ' ' || true
}

# A port free for both UDP and TCP on the host (Kamailio's isp.cfg listens on both).
free_port_udp_tcp() {
    local p tries=0
    while (( tries < 200 )); do
        p=$(free_port) || return 1
        if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then echo "$p"; return 0; fi
        tries=$((tries + 1))
    done
    echo "$BENCH_NAME: no free UDP+TCP port" >&2; return 1
}
