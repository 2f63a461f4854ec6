#!/usr/bin/env bash
# Parser benchmark: SIPCore (Bench/bench-parser) against libosip2 (Bench/osip-peer/bench_osip.c) on the
# same corpus (Bench/corpus/*.sip), same method (median msgs/s of ROUNDS rounds of ITERATIONS messages).
#
#   scripts/bench-parser.sh [--iterations N] [--rounds R] [--no-allocs]
#   (env: BENCH_ITERATIONS, BENCH_ROUNDS, BENCH_ALLOC_COUNT=2000 messages under valgrind, BENCH_SCRATCH)
#
# Needs: swift, cc, libosip2-dev; valgrind for the allocation counts (skipped with a note if absent).
# Prints a table, then as its LAST line exactly:
#   bench-parser: ours=<msgs/s> peer=<msgs/s> ratio=<ours/peer>     (parse only, ratio 2 decimals)
# Exit status: 0 when both ran (whatever the ratio), non-zero when a build or run failed.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SCRATCH=${BENCH_SCRATCH:-.build-bench}
ITERATIONS=${BENCH_ITERATIONS:-100000}
ROUNDS=${BENCH_ROUNDS:-9}
ALLOC_COUNT=${BENCH_ALLOC_COUNT:-2000}
ALLOCS=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --iterations) ITERATIONS=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --no-allocs) ALLOCS=0; shift ;;
        *) echo "usage: $0 [--iterations N] [--rounds R] [--no-allocs]" >&2; exit 2 ;;
    esac
done
CORPUS=$ROOT/Bench/corpus

echo "== building bench-parser (release, $SCRATCH)"
mkdir -p "$SCRATCH"
if ! swift build -c release --scratch-path "$SCRATCH" --product bench-parser >"$SCRATCH/bench-build.log" 2>&1; then
    tail -40 "$SCRATCH/bench-build.log" >&2
    echo "bench-parser.sh: swift build failed" >&2
    exit 1
fi
OURS=$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/bench-parser

echo "== building the libosip2 peer"
PEER=$ROOT/$SCRATCH/bench_osip
cc -O2 -o "$PEER" "$ROOT/Bench/osip-peer/bench_osip.c" -losipparser2 -losip2

field() { # field NAME KEY < output
    awk -v n="$1" -v k="$2" '$1 == n { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }'
}

echo "== running ($ROUNDS rounds x $ITERATIONS messages each)"
ours_out=$("$OURS" --corpus "$CORPUS" --iterations "$ITERATIONS" --rounds "$ROUNDS")
peer_out=$("$PEER" "$CORPUS" --iterations "$ITERATIONS" --rounds "$ROUNDS")

ours_parse=$(field parse msgs_per_s <<<"$ours_out")
ours_ser=$(field parse_serialize msgs_per_s <<<"$ours_out")
peer_parse=$(field parse msgs_per_s <<<"$peer_out")
peer_ser=$(field parse_serialize msgs_per_s <<<"$peer_out")
peer_ser_cached=$(field parse_serialize_cached msgs_per_s <<<"$peer_out")
corpus_line=$(grep '^corpus' <<<"$ours_out")

# Allocations per message: valgrind's "total heap usage: N allocs" for COUNT operations minus the
# same program run with 0 operations, divided by COUNT.
allocs_per_msg() { # allocs_per_msg CMD...
    local base full
    base=$(valgrind --tool=memcheck "$@" --count 0 2>&1 | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,)
    full=$(valgrind --tool=memcheck "$@" --count "$ALLOC_COUNT" 2>&1 | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,)
    [[ -n $base && -n $full ]] || { echo "?"; return; }
    awk -v b="$base" -v f="$full" -v n="$ALLOC_COUNT" 'BEGIN { printf "%.1f", (f - b) / n }'
}
ours_allocs="n/a"; peer_allocs="n/a"; ours_allocs_ser="n/a"; peer_allocs_ser="n/a"
if [[ $ALLOCS -eq 1 ]] && command -v valgrind >/dev/null; then
    echo "== counting allocations (valgrind, $ALLOC_COUNT messages)"
    ours_allocs=$(allocs_per_msg "$OURS" --corpus "$CORPUS")
    ours_allocs_ser=$(allocs_per_msg "$OURS" --corpus "$CORPUS" --serialize)
    peer_allocs=$(allocs_per_msg "$PEER" "$CORPUS")
    peer_allocs_ser=$(allocs_per_msg "$PEER" "$CORPUS" --serialize)
elif [[ $ALLOCS -eq 1 ]]; then
    echo "(valgrind not found: allocation counts skipped)"
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo
echo "$corpus_line; parse = parse(datagram:) + top Via, From/To tags, Call-ID, CSeq, Max-Forwards, Contact, Content-Length"
printf '%-28s %14s %14s %8s\n' "" "SIPCore" "libosip2" "ratio"
printf '%-28s %14s %14s %8s\n' "parse (msgs/s)" "$ours_parse" "$peer_parse" "$(ratio "$ours_parse" "$peer_parse")"
printf '%-28s %14s %14s %8s\n' "parse+serialize (msgs/s)" "$ours_ser" "$peer_ser" "$(ratio "$ours_ser" "$peer_ser")"
printf '%-28s %14s %14s %8s\n' "  (peer to_str cached)" "" "$peer_ser_cached" "$(ratio "$ours_ser" "$peer_ser_cached")"
printf '%-28s %14s %14s\n' "allocs/message, parse" "$ours_allocs" "$peer_allocs"
printf '%-28s %14s %14s\n' "allocs/message, parse+ser." "$ours_allocs_ser" "$peer_allocs_ser"
echo
echo "bench-parser: parse+serialize ours=$ours_ser peer=$peer_ser ratio=$(ratio "$ours_ser" "$peer_ser")"
echo "bench-parser: allocs/msg ours=$ours_allocs peer=$peer_allocs"
echo "bench-parser: ours=$ours_parse peer=$peer_parse ratio=$(ratio "$ours_parse" "$peer_parse")"
