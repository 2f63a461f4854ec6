#!/usr/bin/env bash
# WAN address change recovery (issue 6): how long after the router's WAN address changes the ISP's
# registrar holds a contact at the new address, for dialtoned (line alice) and for baresip 1.0.0
# (account carol), side by side in one run.
#
# Topology (root; two network namespaces created here, 192.0.2.0/24 only, nothing on the host's own
# interfaces — this machine's eth0 is itself 192.0.2.2/24 with gateway 192.0.2.1, so a host-side
# 192.0.2.1 would take over its gateway):
#   ISP namespace  dtbw-isp-<pid>: veth bw<pid>i 192.0.2.1/24, lo; Kamailio (Tests/Fixtures/kamailio/
#                  isp.cfg, domain isp.test, subscribers alice and carol) on udp/tcp 192.0.2.1:5060.
#   CPE namespace  dtbw-cpe-<pid>: veth wan0 192.0.2.2/24 (the WAN), lo, default route via 192.0.2.1;
#                  dialtoned (release build) listening on udp:0.0.0.0:5060 (wildcard, so it can use a
#                  new address) with one line, alice, ProxyServer 192.0.2.1:5060, RegisterExpires 3600;
#                  baresip on 0.0.0.0:5070 (no net_interface: it finds wan0's address itself), account
#                  carol with outbound sip:192.0.2.1:5060 and regint 60.
#
# Once both are registered (dialtoned's status.json shows the line Up and usrloc holds alice and
# carol at 192.0.2.2), BENCH_ROUNDS (3) changes, alternating 192.0.2.3 and 192.0.2.2:
#     ip -n CPE addr del <old>/24 dev wan0; ip -n CPE addr add <new>/24 dev wan0;
#     ip -n CPE route add default via 192.0.2.1
# and from just before the first command, Kamailio's usrloc (kamcmd ul.dump) is polled every 50 ms
# until it holds, for each user, a contact at the new address that was not there before the change
# (a contact URI at that address with a Call-ID/CSeq not seen before: a new REGISTER, not a binding
# left from an earlier round). Each user's wait is bounded by BENCH_BOUND_SECONDS (70); a user that
# did not recover counts as the bound and is labelled so. dialtoned's figure is the median of the
# rounds; baresip's too. baresip 1.0.0 has no rtnetlink monitor: it polls its local address every
# 60 s (counted from its start) and re-registers when it changed; a registration refresh in between
# still goes out from the old address and fails ("Network is unreachable"). Its figure is therefore
# where the change falls in that 60 s cycle: with rounds BENCH_SETTLE_SECONDS apart each change
# comes just after a poll, near the worst case (a change at a random moment would wait 0–60 s).
#
#   scripts/bench-wan-recovery.sh
#   (env: BENCH_ROUNDS=3 BENCH_BOUND_SECONDS=70 BENCH_SETTLE_SECONDS=2 (pause between rounds),
#    BENCH_SCRATCH (build directory), BENCH_DIALTONED (a dialtoned binary to use instead of building),
#    BENCH_KEEP=1 (keep the work folder))
#
# Traffic only inside the two namespaces; every process started here is stopped by its pid; the
# namespaces (and with them the veth pair) are deleted on exit, on failure too. Every wait is bounded.
# Last line exactly: bench-wan-recovery: ours=<ms, median> peer=<ms, median> ratio=<ours/peer>
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_NAME=bench-wan-recovery.sh
SCRATCH=${BENCH_SCRATCH:-.build-bench}
ROUNDS=${BENCH_ROUNDS:-3}
BOUND_SECONDS=${BENCH_BOUND_SECONDS:-70}
SETTLE_SECONDS=${BENCH_SETTLE_SECONDS:-2}
DOMAIN=isp.test
ISP_ADDRESS=192.0.2.1
WAN_A=192.0.2.2
WAN_B=192.0.2.3
PREFIX=24
SIP_PORT=5060
B_PORT=5070
REGISTER_TIMEOUT=20  # seconds for both user agents to register first

source "$ROOT/scripts/bench-lib.sh"
bench_require kamailio kamcmd baresip ip ss ps md5sum timeout
(( EUID == 0 )) || bench_die "needs root (network namespaces)"
[[ $ROUNDS =~ ^[1-9][0-9]?$ ]] || bench_die "BENCH_ROUNDS must be 1–99"
[[ $BOUND_SECONDS =~ ^[1-9][0-9]{0,3}$ ]] || bench_die "BENCH_BOUND_SECONDS must be 1–9999"

NS_ISP=dtbw-isp-$$
NS_CPE=dtbw-cpe-$$
VETH_ISP=bw$$i
WAN_IF=wan0
NETNS_MADE=()

bench_setup bench-wan-recovery
# Processes first (by pid), then the veth and the namespaces this run made; on any exit.
wan_cleanup() {
    local ns
    if [[ -n "${BENCH_KEEP:-}" && -n "$WORK" ]]; then echo "$BENCH_NAME: kept $WORK" >&2; WORK=; fi
    bench_cleanup
    if (( ${#NETNS_MADE[@]} )); then
        ip -n "$NS_ISP" link del "$VETH_ISP" 2>/dev/null || true
        for ns in "${NETNS_MADE[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    fi
}
trap wan_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_build_dialtoned

# --- the namespaces ---
for ns in "$NS_ISP" "$NS_CPE"; do
    ! ip netns list | grep -qw "$ns" || bench_die "namespace $ns exists already"
done
ip netns add "$NS_ISP"; NETNS_MADE+=("$NS_ISP")
ip netns add "$NS_CPE"; NETNS_MADE+=("$NS_CPE")
ip link add "$VETH_ISP" netns "$NS_ISP" type veth peer name "$WAN_IF" netns "$NS_CPE"
for ns in "$NS_ISP" "$NS_CPE"; do
    ip -n "$ns" link set lo up
    # No IPv6 on the veth (no router solicitations or DAD traffic).
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
done
ip -n "$NS_ISP" addr add "$ISP_ADDRESS/$PREFIX" dev "$VETH_ISP"
ip -n "$NS_ISP" link set "$VETH_ISP" up
ip -n "$NS_CPE" addr add "$WAN_A/$PREFIX" dev "$WAN_IF"
ip -n "$NS_CPE" link set "$WAN_IF" up
ip -n "$NS_CPE" route add default via "$ISP_ADDRESS"
echo "== namespaces $NS_ISP ($VETH_ISP $ISP_ADDRESS/$PREFIX) and $NS_CPE ($WAN_IF $WAN_A/$PREFIX, default via $ISP_ADDRESS)"

# --- the ISP, in its namespace ---
isp_prepare "$WORK/isp" "$ISP_ADDRESS" "$SIP_PORT" "$DOMAIN" alice:alice-pw carol:carol-pw
start_isp "$WORK/isp" "$SIP_PORT" "$NS_ISP"
KPID=$STARTED_PID
echo "== $(kamailio -v 2>/dev/null | head -1) ISP on udp:$ISP_ADDRESS:$SIP_PORT in $NS_ISP (pid $KPID)"

# --- dialtoned, in the CPE namespace ---
mkdir -p "$WORK/run"
cat >"$WORK/dialtoned.json" <<EOF
{
  "sip": { "listen": ["udp:0.0.0.0:$SIP_PORT"] },
  "VoiceService": { "SIP": {
    "Network": [{ "Alias": "isp", "Enable": true, "ProxyServer": "$ISP_ADDRESS", "ProxyServerPort": $SIP_PORT,
                  "ServerDomain": "$DOMAIN", "RegisterExpires": 3600, "RegisterRetryInterval": 5 }],
    "Client": [
      { "Alias": "line1", "Enable": true, "Network": "isp", "AuthUserName": "alice", "AuthPassword": "alice-pw",
        "RegisterURI": "sip:alice@$DOMAIN" }
    ]
  } }
}
EOF
# `ip netns exec` execs dialtoned: the pid started is dialtoned's.
ip netns exec "$NS_CPE" "$DIALTONED" --config "$WORK/dialtoned.json" --run-dir "$WORK/run" >"$WORK/dialtoned.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
for (( i = 0; i < 100; i++ )); do
    grep -q ready "$WORK/dialtoned.log" 2>/dev/null && break
    kill -0 "$DPID" 2>/dev/null || break
    sleep 0.1
done
grep -q ready "$WORK/dialtoned.log" 2>/dev/null || { cat "$WORK/dialtoned.log" >&2; bench_die "dialtoned did not start"; }
echo "== dialtoned $("$DIALTONED" --version 2>/dev/null || true) on udp:0.0.0.0:$SIP_PORT in $NS_CPE (pid $DPID), line alice"
grep 'network monitor' "$WORK/dialtoned.log" | sed 's/^/   /' || echo "   (dialtoned logged nothing about its network monitor)"

# --- baresip, in the CPE namespace ---
baresip_prepare "$WORK/baresip" "0.0.0.0:$B_PORT" "" \
    "<sip:carol@$DOMAIN>;auth_pass=carol-pw;outbound=\"sip:$ISP_ADDRESS:$SIP_PORT\";answermode=manual;regint=60;audio_codecs=PCMU"
# -s: SIP trace in its output, shown for a round in which it did not recover.
ip netns exec "$NS_CPE" baresip -s -f "$WORK/baresip" >"$WORK/baresip.log" 2>&1 &
BPID=$!
PIDS+=("$BPID")
echo "== $(baresip -h 2>&1 | head -1 | cut -d' ' -f1-2) on 0.0.0.0:$B_PORT in $NS_CPE (pid $BPID), account carol, regint 60"

# --- a contact of `user` at `address` not in `before` ("aor address call-id cseq" lines) ---
fresh_contact() { # contacts before user address
    local line aor addr
    while read -r line; do
        [[ -n "$line" ]] || continue
        read -r aor addr _ <<<"$line"
        [[ $aor == "$3" ]] || continue
        [[ $addr =~ [@:]${4//./\\.}([:;>]|$) ]] || continue
        grep -qxF -- "$line" <<<"$2" && continue
        echo "$addr"; return 0
    done <<<"$1"
    return 1
}

# --- both registered at WAN_A (bounded) ---
D_UP=; B_UP=
for (( i = 0; i < REGISTER_TIMEOUT * 10; i++ )); do
    C=$(isp_contacts || true)
    [[ -n "$D_UP" ]] || { (( $(ua_lines_up "$WORK/run/status.json") == 1 )) && fresh_contact "$C" "" alice "$WAN_A" >/dev/null && D_UP=1; }
    [[ -n "$B_UP" ]] || { fresh_contact "$C" "" carol "$WAN_A" >/dev/null && B_UP=1; }
    [[ -n "$D_UP" && -n "$B_UP" ]] && break
    kill -0 "$DPID" 2>/dev/null || break
    kill -0 "$BPID" 2>/dev/null || break
    sleep 0.1
done
if [[ -z "$D_UP" || -z "$B_UP" ]]; then
    echo "--- status.json: $(ua_status_summary "$WORK/run/status.json")"
    echo "--- dialtoned"; tail -30 "$WORK/dialtoned.log"
    echo "--- baresip"; tail -30 "$WORK/baresip.log"
    echo "--- usrloc"; isp_contacts || true
    echo "--- kamailio"; tail -20 "$WORK/isp/kamailio.log"
    bench_die "not registered at $WAN_A within ${REGISTER_TIMEOUT}s (dialtoned: ${D_UP:-no}, baresip: ${B_UP:-no})"
fi >&2
echo "   registered at $WAN_A:"
isp_contacts | awk '{ printf "   usrloc: %s -> %s\n", $1, $2 }'
sleep "$SETTLE_SECONDS"

# --- the rounds ---
BOUND_MS=$(( BOUND_SECONDS * 1000 ))
D_TIMES=(); B_TIMES=(); D_MISSED=0; B_MISSED=0
CURRENT=$WAN_A
printf '%-6s %-22s %12s  %-44s %12s  %s\n' round change "dialtoned ms" "alice contact" "baresip ms" "carol contact"
for (( round = 1; round <= ROUNDS; round++ )); do
    if [[ $CURRENT == "$WAN_A" ]]; then NEW=$WAN_B; else NEW=$WAN_A; fi
    OLD=$CURRENT
    BEFORE=$(isp_contacts || true)
    LOG_MARK=$(wc -l <"$WORK/dialtoned.log")
    B_MARK=$(wc -l <"$WORK/baresip.log")
    T0=$(now_ms)
    ip -n "$NS_CPE" addr del "$CURRENT/$PREFIX" dev "$WAN_IF"
    ip -n "$NS_CPE" addr add "$NEW/$PREFIX" dev "$WAN_IF"
    ip -n "$NS_CPE" route add default via "$ISP_ADDRESS"
    CURRENT=$NEW
    D_MS=; B_MS=; D_AT=; B_AT=
    # Every 50 ms (plus kamcmd's own time) until both recovered or the bound passed.
    for (( i = 0; i < BOUND_SECONDS * 20 + 20; i++ )); do
        C=$(isp_contacts || true)
        NOW=$(now_ms)
        if [[ -z "$D_MS" ]] && D_AT=$(fresh_contact "$C" "$BEFORE" alice "$NEW"); then D_MS=$(( NOW - T0 )); fi
        if [[ -z "$B_MS" ]] && B_AT=$(fresh_contact "$C" "$BEFORE" carol "$NEW"); then B_MS=$(( NOW - T0 )); fi
        [[ -n "$D_MS" && -n "$B_MS" ]] && break
        (( NOW - T0 < BOUND_MS )) || break
        sleep 0.05
    done
    D_SHOW=$D_MS; B_SHOW=$B_MS
    if [[ -z "$D_MS" ]]; then D_MS=$BOUND_MS; D_SHOW=">$BOUND_MS (bound)"; D_MISSED=$((D_MISSED + 1)); D_AT="(none at $NEW)"; fi
    if [[ -z "$B_MS" ]]; then B_MS=$BOUND_MS; B_SHOW=">$BOUND_MS (bound)"; B_MISSED=$((B_MISSED + 1)); B_AT="(none at $NEW)"; fi
    D_TIMES+=("$D_MS"); B_TIMES+=("$B_MS")
    printf '%-6s %-22s %12s  %-44s %12s  %s\n' "$round" "$OLD -> $NEW" "$D_SHOW" "$D_AT" "$B_SHOW" "$B_AT"
    # What dialtoned said about it (its log since the change).
    tail -n +"$((LOG_MARK + 1))" "$WORK/dialtoned.log" | grep -iE 'network|regist|contact|line' | head -8 | sed 's/^dialtoned: //; s/^/         dialtoned: /' || true
    if [[ $B_SHOW == *bound* ]]; then
        # What baresip sent and got since the change (its SIP trace, REGISTER lines only).
        tail -n +"$((B_MARK + 1))" "$WORK/baresip.log" | sed 's/\x1b\[[0-9;]*m//g' \
            | grep -E '^(REGISTER |SIP/2\.0 |Contact: |CSeq: )|changed|Register' | head -40 | sed 's/^/         baresip: /' || true
    fi
    kill -0 "$DPID" 2>/dev/null || bench_die "dialtoned exited"
    kill -0 "$BPID" 2>/dev/null || bench_die "baresip exited"
    (( round == ROUNDS )) || sleep "$SETTLE_SECONDS"
done

echo "   status.json: $(ua_status_summary "$WORK/run/status.json")"
echo "   usrloc at the end:"
isp_contacts | awk '{ printf "   usrloc: %s -> %s (Call-ID %s, CSeq %s)\n", $1, $2, $3, $4 }'
sed 's/\x1b\[[0-9;]*m//g' "$WORK/baresip.log" | grep -E 'address changed|IP-address|\[[0-9]+ binding|Register:' | head -20 | sed 's/^/   baresip: /' || true
stop_pid "$BPID"
stop_pid "$DPID"
stop_kamailio "$KPID"

OURS=$(median "${D_TIMES[@]}"); PEER=$(median "${B_TIMES[@]}")
echo
echo "dialtoned (rtnetlink monitor, re-registers on a WAN change): ${D_TIMES[*]} ms; median $OURS ms$( (( D_MISSED == 0 )) || echo "; $D_MISSED round(s) did not recover within ${BOUND_SECONDS}s (counted as the bound)")"
echo "baresip (polls its address every 60 s):                      ${B_TIMES[*]} ms; median $PEER ms$( (( B_MISSED == 0 )) || echo "; $B_MISSED round(s) did not recover within ${BOUND_SECONDS}s (counted as the bound)")"
echo "Time from the WAN address change until Kamailio's usrloc held a new contact at the new address, polled"
echo "every 50 ms; $ROUNDS changes alternating $WAN_B and $WAN_A; bound ${BOUND_SECONDS}s; goal ours <= 2000 ms."
echo "bench-wan-recovery: ours=$OURS peer=$PEER ratio=$(ratio "$OURS" "$PEER")"
