#!/usr/bin/env bash
# User agent footprint (issue 6): memory of dialtoned running two registered, idle line accounts,
# against baresip 1.0.0 running two registered, idle accounts, both registered to the same Kamailio
# ISP (Tests/Fixtures/kamailio/isp.cfg: registrar with digest, MD5, qop=auth; subscribers alice,
# bob, carol, dave in a db_text table; domain isp.test), side by side in one run.
#
#   dialtoned (release build): VoiceService with one Network (ProxyServer 127.0.0.1:<ISP port>,
#     ServerDomain isp.test, RegisterExpires 3600) and two Clients, line1 = alice, line2 = bob;
#     registered when status.json (--run-dir) shows both lines "Up".
#   baresip: no sound card (aufile source, aubridge player, g711; peers.md, Baresip.swift), SIP on
#     127.0.0.1, modules g711 aufile aubridge uuid account (nothing else is needed to stay
#     registered), two accounts carol and dave (auth_pass, outbound sip:127.0.0.1:<ISP port>,
#     regint 3600); registered when its output shows "200 OK" for both.
#   Both are also checked at the registrar: usrloc (kamcmd ul.dump) holds alice, bob, carol, dave.
#
# Once both are registered: BENCH_IDLE_SECONDS (5) idle, then VmRSS of each process
# (/proc/PID/status), the median of BENCH_SAMPLES (5) samples 1 s apart, and PSS
# (/proc/PID/smaps_rollup; shared libraries divided among the processes that map them).
#
#   scripts/bench-ua-footprint.sh
#   (env: BENCH_IDLE_SECONDS=5 BENCH_SAMPLES=5, BENCH_SCRATCH (build directory),
#    BENCH_DIALTONED (a dialtoned binary to use instead of building))
#
# Everything on 127.0.0.1; every process started here is stopped by its pid; every wait is bounded.
# Last line exactly: bench-ua-footprint: ours=<dialtoned KiB VmRSS> peer=<baresip KiB VmRSS> ratio=<ours/peer>
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_NAME=bench-ua-footprint.sh
SCRATCH=${BENCH_SCRATCH:-.build-bench}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-5}
SAMPLES=${BENCH_SAMPLES:-5}
DOMAIN=isp.test
REGISTER_TIMEOUT=20  # seconds for both user agents to register

source "$ROOT/scripts/bench-lib.sh"
bench_require kamailio kamcmd baresip ss ps md5sum timeout
bench_setup bench-ua-footprint
# Measured as the router runs it: the Swift runtime linked statically (make image does the same).
BENCH_STATIC_STDLIB=1 bench_build_dialtoned

# --- the ISP ---
ISP_PORT=$(free_port_udp_tcp)
isp_prepare "$WORK/isp" 127.0.0.1 "$ISP_PORT" "$DOMAIN" alice:alice-pw bob:bob-pw carol:carol-pw dave:dave-pw
start_isp "$WORK/isp" "$ISP_PORT"
KPID=$STARTED_PID
echo "== $(kamailio -v 2>/dev/null | head -1) ISP on udp:127.0.0.1:$ISP_PORT (pid $KPID), domain $DOMAIN"

# --- dialtoned, two lines ---
D_PORT=$(free_port)
mkdir -p "$WORK/run"
cat >"$WORK/dialtoned.json" <<EOF
{
  "sip": { "listen": ["udp:127.0.0.1:$D_PORT"] },
  "VoiceService": { "SIP": {
    "Network": [{ "Alias": "isp", "Enable": true, "ProxyServer": "127.0.0.1", "ProxyServerPort": $ISP_PORT,
                  "ServerDomain": "$DOMAIN", "RegisterExpires": 3600, "RegisterRetryInterval": 5 }],
    "Client": [
      { "Alias": "line1", "Enable": true, "Network": "isp", "AuthUserName": "alice", "AuthPassword": "alice-pw",
        "RegisterURI": "sip:alice@$DOMAIN" },
      { "Alias": "line2", "Enable": true, "Network": "isp", "AuthUserName": "bob", "AuthPassword": "bob-pw",
        "RegisterURI": "sip:bob@$DOMAIN" }
    ]
  } }
}
EOF
start_dialtoned "$WORK/dialtoned.log" --config "$WORK/dialtoned.json" --run-dir "$WORK/run"
DPID=$STARTED_PID
echo "== dialtoned $("$DIALTONED" --version 2>/dev/null || true) on udp:127.0.0.1:$D_PORT (pid $DPID), lines alice, bob"

# --- baresip, two accounts ---
B_PORT=$(free_port)
account() { # user
    echo "<sip:$1@$DOMAIN>;auth_pass=$1-pw;outbound=\"sip:127.0.0.1:$ISP_PORT\";answermode=manual;regint=3600;audio_codecs=PCMU"
}
baresip_prepare "$WORK/baresip" "127.0.0.1:$B_PORT" 127.0.0.1 "$(account carol)" "$(account dave)"
baresip -f "$WORK/baresip" >"$WORK/baresip.log" 2>&1 &
BPID=$!
PIDS+=("$BPID")
echo "== $(baresip -h 2>&1 | head -1 | cut -d' ' -f1-2) on udp:127.0.0.1:$B_PORT (pid $BPID), accounts carol, dave"

# --- both registered (bounded) ---
lines_up() { ua_lines_up "$WORK/run/status.json"; }
baresip_ok() { # how many of carol, dave baresip reported 200 OK for
    local n=0 u
    for u in carol dave; do grep -q "^$u@$DOMAIN: .* 200 OK" "$WORK/baresip.log" 2>/dev/null && n=$((n + 1)); done
    echo "$n"
}
D_UP=; B_UP=
for (( i = 0; i < REGISTER_TIMEOUT * 10; i++ )); do
    [[ -n "$D_UP" ]] || { (( $(lines_up) == 2 )) && D_UP=1; }
    [[ -n "$B_UP" ]] || { (( $(baresip_ok) == 2 )) && B_UP=1; }
    [[ -n "$D_UP" && -n "$B_UP" ]] && break
    kill -0 "$DPID" 2>/dev/null || break
    kill -0 "$BPID" 2>/dev/null || break
    sleep 0.1
done
if [[ -z "$D_UP" || -z "$B_UP" ]]; then
    echo "--- status.json"; cat "$WORK/run/status.json" 2>/dev/null || true
    echo "--- dialtoned"; tail -30 "$WORK/dialtoned.log"
    echo "--- baresip"; tail -30 "$WORK/baresip.log"
    echo "--- usrloc"; isp_contacts || true
    bench_die "not registered within ${REGISTER_TIMEOUT}s (dialtoned: $(lines_up)/2 Up, baresip: $(baresip_ok)/2 200 OK)"
fi >&2
echo "   registered: dialtoned status.json shows both lines Up, baresip printed 200 OK for carol and dave"
CONTACTS=$(isp_contacts)
for u in alice bob carol dave; do
    grep -q "^$u " <<<"$CONTACTS" || bench_die "usrloc holds no contact for $u"$'\n'"$CONTACTS"
done
awk '{ printf "   usrloc: %s -> %s\n", $1, $2 }' <<<"$CONTACTS"

# --- idle, then the samples ---
echo "   idle ${IDLE_SECONDS}s, then $SAMPLES samples 1 s apart"
sleep "$IDLE_SECONDS"
D_RSS=(); B_RSS=()
for (( i = 0; i < SAMPLES; i++ )); do
    (( i == 0 )) || sleep 1
    kill -0 "$DPID" 2>/dev/null || bench_die "dialtoned exited"
    kill -0 "$BPID" 2>/dev/null || bench_die "baresip exited"
    D_RSS+=("$(vmrss_kb "$DPID")"); B_RSS+=("$(vmrss_kb "$BPID")")
done
pss_kb() { awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
D_PSS=$(pss_kb "$DPID"); B_PSS=$(pss_kb "$BPID")
OURS=$(median "${D_RSS[@]}"); PEER=$(median "${B_RSS[@]}")
# Both still registered after the samples (nothing fell over while idle).
(( $(lines_up) == 2 )) || bench_die "dialtoned lines no longer all Up: $(cat "$WORK/run/status.json" 2>/dev/null)"
echo "   status.json: $(ua_status_summary "$WORK/run/status.json")"
stop_pid "$BPID"
stop_pid "$DPID"
stop_kamailio "$KPID"

echo
echo "dialtoned VmRSS samples: ${D_RSS[*]} kB (median $OURS kB); PSS $D_PSS kB"
echo "baresip   VmRSS samples: ${B_RSS[*]} kB (median $PEER kB); PSS $B_PSS kB"
echo "PSS: dialtoned $D_PSS kB, baresip $B_PSS kB (ratio $(ratio "$D_PSS" "$B_PSS"))"
echo "Two registered, idle accounts each (dialtoned: line1 alice, line2 bob; baresip: carol, dave) at the"
echo "same Kamailio ISP over UDP on 127.0.0.1, sampled ${IDLE_SECONDS}s after both were registered; KiB."
echo "bench-ua-footprint: ours=$OURS peer=$PEER ratio=$(ratio "$OURS" "$PEER")"
