#!/usr/bin/env bash
# Registrar benchmark (issue 5, item 7): SIPp sends REGISTER at rising rates to dialtoned's registrar,
# then to Kamailio's (registrar + usrloc in memory, db_mode 0; Bench/bench-register/kamailio.cfg),
# same scenarios, same machine, one after the other in this run; first without authentication, then
# with digest authentication (MD5, qop=auth; both servers offer only MD5 so that SIPp and they do the
# same work). A step is sustained when SIPp exits 0 with every call successful, 0 failed calls, 0
# retransmissions, and its measured call rate is at least 90% of the target; the ladder (climb from
# BENCH_START by BENCH_FACTOR, then BENCH_BISECT bisections, rates rounded to 100/s) is the one of
# bench-transactions (scripts/bench-lib.sh). Kamailio runs at its best (../shared/docs/peers.md):
# -x tlsf, -m 1024, two UDP workers (-n 2), maxbuffer=4194304; SIPp gets -buff_size 4194304.
#
#   without auth (Bench/bench-register/register.xml): every call registers its own address-of-record
#     sip:u<n>@127.0.0.1 (n = SIPp's call number) with expires 3600, so a step of N calls leaves N
#     bindings; the next step starts again at u1 with new Call-IDs (a re-registration replacing the
#     binding) and adds the users beyond. dialtoned: no accounts (any user may register), authenticate
#     false. Kamailio: save("location") without auth.
#   digest (Bench/bench-register/register-digest.xml): REGISTER, 401, REGISTER with credentials, 200:
#     one registration per call is two REGISTER requests. One account (SIPp 3.6.1 can only answer
#     challenges for one, -au/-ap), so every call refreshes the same binding with a new Call-ID.
#     dialtoned: accounts [{bench, password}], algorithms ["MD5"]. Kamailio: pv_www_authenticate with
#     the password in the script (no database lookup: the cheapest backend), www_challenge with
#     qop=auth; BENCH_KAMAILIO_AUTH=db uses auth_db + db_text (a one-row subscriber table with HA1)
#     instead, as in peers.md.
#   RSS with 100,000 bindings: a fresh server of each kind gets 100,000 REGISTERs for distinct users
#     (expires 3600) at BENCH_RSS_RATE/s (2,000 by default: below both servers' highest clean rate,
#     so no retransmission adds work); after BENCH_RSS_SETTLE seconds (35: past Timer J, so
#     dialtoned's 32 s server transactions are gone and only the bindings remain) the memory is read:
#     dialtoned's VmRSS (/proc/<pid>/status; one process), Kamailio's PSS summed over its processes
#     (/proc/<pid>/smaps_rollup of the main process and its workers; PSS divides the shared memory
#     segment and the libraries among them, so the sum counts each page once). The RSS
#     sum and dialtoned's PSS are printed too.
#
# Rates are registrations per second (calls/s), the same unit for both servers.
#
#   scripts/bench-register.sh
#   (env: BENCH_START=2000 BENCH_FACTOR=1.25 BENCH_MAX=150000 BENCH_BISECT=2 BENCH_STEP_SECONDS=5,
#    BENCH_RSS_RATE=2000 BENCH_RSS_SETTLE=35 BENCH_RSS_BINDINGS=100000, BENCH_KAMAILIO_AUTH=pv|db,
#    BENCH_ONLY=plain|digest|rss (one part only), BENCH_SKIP_OURS=1 (Kamailio only),
#    BENCH_SCRATCH (build directory), BENCH_DIALTONED (a dialtoned binary to use instead of building))
#
# Everything on 127.0.0.1; every process started here is stopped by its pid; every loop is bounded.
# Last lines exactly:
#   bench-register-rss: ours=<KiB VmRSS> peer=<KiB PSS> ratio=<ours/peer>
#   bench-register: ours=<registrations/s> peer=<registrations/s> ratio=<ours/peer>
#   bench-register-digest: ours=<registrations/s> peer=<registrations/s> ratio=<ours/peer>
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_NAME=bench-register.sh
SCRATCH=${BENCH_SCRATCH:-.build-bench}
START_RATE=${BENCH_START:-2000}
FACTOR=${BENCH_FACTOR:-1.25}
MAX_RATE=${BENCH_MAX:-150000}
BISECT=${BENCH_BISECT:-2}
STEP_SECONDS=${BENCH_STEP_SECONDS:-5}
RSS_RATE=${BENCH_RSS_RATE:-2000}
RSS_SETTLE=${BENCH_RSS_SETTLE:-35}
RSS_BINDINGS=${BENCH_RSS_BINDINGS:-100000}
KAMAILIO_AUTH=${BENCH_KAMAILIO_AUTH:-pv}
ONLY=${BENCH_ONLY:-}
SKIP_OURS=${BENCH_SKIP_OURS:-}
EXPIRES=3600
ACCOUNT=bench
PASSWORD=bench-secret-5
DIR=$ROOT/Bench/bench-register
KAMAILIO_CFG=$DIR/kamailio.cfg
PLAIN_SCENARIO=$DIR/register.xml
DIGEST_SCENARIO=$DIR/register-digest.xml
# dialtoned keeps each 200 to a REGISTER in a server transaction for Timer J (32 s over UDP), so
# the cap must hold rate × 32 s of them or the climb would measure the cap (503), not the registrar.
MAX_TRANSACTIONS=${BENCH_MAX_TRANSACTIONS:-5000000}

source "$ROOT/scripts/bench-lib.sh"
bench_require sipp kamailio ss ps
bench_setup bench-register
KAMAILIO_SHM=1024
[[ -n "$SKIP_OURS" ]] || bench_build_dialtoned

want() { [[ -z "$ONLY" || "$ONLY" == "$1" ]]; }

# dialtoned's configuration: registrar only (mode stateful-proxy; nothing but REGISTER is sent).
dialtoned_config() { # file authenticate(true|false)
    local accounts='[]'
    if [[ $2 == true ]]; then accounts="[{ \"user\": \"$ACCOUNT\", \"password\": \"$PASSWORD\" }]"; fi
    cat >"$1" <<EOF
{
  "sip": { "listen": ["udp:127.0.0.1:5060"], "max-transactions": $MAX_TRANSACTIONS },
  "server": {
    "mode": "stateful-proxy",
    "domains": ["127.0.0.1"],
    "registrar": {
      "authenticate": $2,
      "algorithms": ["MD5"],
      "min-expires": 60, "default-expires": 3600, "max-expires": 7200,
      "max-contacts-per-aor": 10,
      "max-bindings": 1000000
    },
    "accounts": $accounts
  }
}
EOF
}
dialtoned_config "$WORK/plain.json" false
dialtoned_config "$WORK/digest.json" true

# Kamailio's -A defines for digest; for BENCH_KAMAILIO_AUTH=db also the db_text directory.
KAMAILIO_AUTH_ARGS=(-A WITH_AUTH -A "ACCOUNT=\"$ACCOUNT\"" -A "PASSWORD=\"$PASSWORD\"")
case $KAMAILIO_AUTH in
    pv) KAMAILIO_AUTH_NOTE='auth: pv_www_authenticate, password in the script' ;;
    db)
        mkdir -p "$WORK/dbtext"
        HA1=$(printf '%s' "$ACCOUNT:127.0.0.1:$PASSWORD" | md5sum | cut -d' ' -f1)
        printf 'table_name(str) table_version(int)\nsubscriber:7\n' >"$WORK/dbtext/version"
        printf 'id(int,auto) username(str) domain(str) password(str) ha1(str) ha1b(str)\n1:%s:127.0.0.1:%s:%s:%s\n' \
            "$ACCOUNT" "$PASSWORD" "$HA1" "$HA1" >"$WORK/dbtext/subscriber"
        KAMAILIO_AUTH_ARGS+=(-A WITH_AUTH_DB -A "DBURL=\"text://$WORK/dbtext\"")
        KAMAILIO_AUTH_NOTE='auth_db + db_text, HA1 column, one row'
        ;;
    *) bench_die "BENCH_KAMAILIO_AUTH must be pv or db" ;;
esac

# Logs dialtoned's statistics (SIGUSR1) and prints the line.
dialtoned_stats() { # pid log
    local i line=
    kill -USR1 "$1" 2>/dev/null || true
    for (( i = 0; i < 30; i++ )); do
        line=$(grep 'statistics:' "$2" | tail -1 || true)
        [[ -n "$line" ]] && break
        sleep 0.1
    done
    echo "${line:-(no statistics line)}"
}

# Climbs with `scenario` against a fresh dialtoned (config) and a fresh Kamailio (extra -A args);
# sets OURS, PEER and the notes.
run_pair() { # part scenario dialtoned-config [kamailio args…]
    local part=$1 scenario=$2 config=$3 port
    shift 3
    SCENARIO=$scenario
    OURS=0; OURS_TRIED=; OURS_NOTE="not run"; OURS_RSS=0
    if [[ -z "$SKIP_OURS" ]]; then
        port=$(free_port)
        start_dialtoned "$WORK/dialtoned-$part.log" --config "$config" --listen "udp:127.0.0.1:$port"
        local dpid=$STARTED_PID
        echo "== dialtoned $("$DIALTONED" --version 2>/dev/null || true) registrar ($part) on udp:127.0.0.1:$port (pid $dpid, VmRSS $(vmrss_kb "$dpid") kB)"
        climb "dialtoned" "$port" "$dpid"
        OURS=$BEST; OURS_TRIED=$TRIED; OURS_NOTE=$LIMIT_NOTE; OURS_RSS=$BEST_RSS
        echo "   $(dialtoned_stats "$dpid" "$WORK/dialtoned-$part.log")"
        stop_pid "$dpid"
    fi
    port=$(free_port)
    start_kamailio "$KAMAILIO_CFG" "$port" "kamailio-$part" "$@"
    local kpid=$STARTED_PID
    echo "== $(kamailio -v 2>/dev/null | head -1) registrar ($part) on udp:127.0.0.1:$port (pid $kpid, -x tlsf -m $KAMAILIO_SHM -n 2)"
    climb "kamailio" "$port"
    PEER=$BEST; PEER_TRIED=$TRIED; PEER_NOTE=$LIMIT_NOTE
    stop_kamailio "$kpid"
}

PLAIN_OURS=0; PLAIN_PEER=0; DIGEST_OURS=0; DIGEST_PEER=0
SUMMARY=()

if want plain; then
    echo "==== REGISTER without authentication"
    SIPP_ARGS=(-key expires "$EXPIRES")
    run_pair plain "$PLAIN_SCENARIO" "$WORK/plain.json"
    PLAIN_OURS=$OURS; PLAIN_PEER=$PEER
    SUMMARY+=("no auth:  dialtoned rates tried:$OURS_TRIED ($OURS_NOTE); VmRSS at $OURS/s: $OURS_RSS kB")
    SUMMARY+=("no auth:  kamailio  rates tried:$PEER_TRIED ($PEER_NOTE)")
fi

if want digest; then
    echo "==== REGISTER with digest authentication (MD5, qop=auth; Kamailio $KAMAILIO_AUTH_NOTE)"
    SIPP_ARGS=(-key expires "$EXPIRES" -s "$ACCOUNT" -au "$ACCOUNT" -ap "$PASSWORD")
    run_pair digest "$DIGEST_SCENARIO" "$WORK/digest.json" "${KAMAILIO_AUTH_ARGS[@]}"
    DIGEST_OURS=$OURS; DIGEST_PEER=$PEER
    SUMMARY+=("digest:   dialtoned rates tried:$OURS_TRIED ($OURS_NOTE); VmRSS at $OURS/s: $OURS_RSS kB")
    SUMMARY+=("digest:   kamailio  rates tried:$PEER_TRIED ($PEER_NOTE)")
fi

# --- RSS with 100,000 bindings ----------------------------------------------------------------
# Registers RSS_BINDINGS distinct users at RSS_RATE/s against 127.0.0.1:port; sets RSS_OK to the
# number of successful registrations (and prints the SIPp row).
register_many() { # port label
    local saved=$STEP_SECONDS rc created ok failed retrans callrate
    STEP_SECONDS=$(( RSS_BINDINGS / RSS_RATE + 1 ))
    SIPP_TIMEOUT=$(( STEP_SECONDS + 60 ))
    SAMPLE_PID=
    sipp_step "$1" "$RSS_RATE" "$RSS_BINDINGS" "$2" "$PLAIN_SCENARIO" -key expires "$EXPIRES"
    unset SIPP_TIMEOUT
    STEP_SECONDS=$saved
    read -r rc created ok failed retrans callrate <"$WORK/$2.result"
    echo "   $2: $ok/$RSS_BINDINGS registered (exit $rc, $failed failed, $retrans retransmissions, $callrate/s)"
    RSS_OK=${ok//[^0-9]/}; RSS_OK=${RSS_OK:-0}
}

RSS_OURS=0; RSS_PEER=0
if want rss; then
    echo "==== memory with $RSS_BINDINGS bindings (registered at $RSS_RATE/s, read ${RSS_SETTLE}s later)"
    if [[ -z "$SKIP_OURS" ]]; then
        port=$(free_port)
        start_dialtoned "$WORK/dialtoned-rss.log" --config "$WORK/plain.json" --listen "udp:127.0.0.1:$port"
        dpid=$STARTED_PID
        sleep 0.3
        idle=$(vmrss_kb "$dpid")
        register_many "$port" dialtoned-rss
        just=$(vmrss_kb "$dpid")
        sleep "$RSS_SETTLE"
        settled=$(vmrss_kb "$dpid")
        read -r dpss _ _ <<<"$(tree_memory_kb "$dpid")"
        stats=$(dialtoned_stats "$dpid" "$WORK/dialtoned-rss.log")
        echo "   dialtoned VmRSS: idle $idle kB, right after $just kB, after ${RSS_SETTLE}s $settled kB (PSS $dpss kB)"
        echo "   $stats"
        if (( RSS_OK == RSS_BINDINGS )); then RSS_OURS=$settled; fi
        SUMMARY+=("rss:      dialtoned $RSS_OK bindings: VmRSS $settled kB (idle $idle kB; $(( (settled - idle) * 1024 / (RSS_OK > 0 ? RSS_OK : 1) )) bytes per binding), PSS $dpss kB")
        stop_pid "$dpid"
    fi
    port=$(free_port)
    start_kamailio "$KAMAILIO_CFG" "$port" kamailio-rss
    kpid=$STARTED_PID
    sleep 0.3
    read -r kidle_pss kidle_rss kprocs <<<"$(tree_memory_kb "$kpid")"
    register_many "$port" kamailio-rss
    sleep "$RSS_SETTLE"
    read -r kpss krss kprocs <<<"$(tree_memory_kb "$kpid")"
    echo "   kamailio ($kprocs processes) PSS sum: idle $kidle_pss kB, after ${RSS_SETTLE}s $kpss kB (RSS sum $krss kB, idle $kidle_rss kB)"
    if (( RSS_OK == RSS_BINDINGS )); then RSS_PEER=$kpss; fi
    SUMMARY+=("rss:      kamailio $RSS_OK bindings: PSS summed over $kprocs processes $kpss kB (idle $kidle_pss kB; RSS sum $krss kB)")
    stop_kamailio "$kpid"
fi

echo
for line in "${SUMMARY[@]}"; do echo "$line"; done
echo "Rates are registrations per second, the highest step sustained for ${STEP_SECONDS}s with 0 failed calls and 0"
echo "retransmissions (climb from $START_RATE/s by x$FACTOR, then $BISECT bisection steps); with digest each"
echo "registration is two REGISTER requests (401, then 200). RSS: dialtoned VmRSS vs Kamailio PSS summed"
echo "over its processes, in KiB, with $RSS_BINDINGS bindings; 0 when the registrations did not all succeed."
if want rss; then echo "bench-register-rss: ours=$RSS_OURS peer=$RSS_PEER ratio=$(ratio "$RSS_OURS" "$RSS_PEER")"; fi
if want plain; then echo "bench-register: ours=$PLAIN_OURS peer=$PLAIN_PEER ratio=$(ratio "$PLAIN_OURS" "$PLAIN_PEER")"; fi
if want digest; then echo "bench-register-digest: ours=$DIGEST_OURS peer=$DIGEST_PEER ratio=$(ratio "$DIGEST_OURS" "$DIGEST_PEER")"; fi
