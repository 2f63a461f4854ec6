#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (Fuzz/<Target>/).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS  how long to fuzz each target (default 30; env FUZZ_SECONDS also works).
# TARGET   FuzzSIPParser FuzzStreamFramer FuzzSDPParser FuzzDigestHeader (default: all four).
#
# Each target is built with DIALTONE_FUZZ=1 into .build-fuzz (debug, -sanitize=fuzzer,address), then
# run with -max_total_time=SECONDS -rss_limit_mb=2048 -timeout=5 over a working corpus
# Fuzz/corpus-work/<Target>/ (git-ignored) that starts as a copy of the seed corpus Fuzz/corpus/<Target>/
# and keeps what earlier runs found. On a crash, timeout, leak or OOM the offending input is copied to
# Tests/Fixtures/fuzz-regressions/<Target>/ and the script exits 1 after printing its path.
# Exit status: 0 all targets clean, 1 a target found a failing input, 2 usage/build error.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
ALL_TARGETS=(FuzzSIPParser FuzzStreamFramer FuzzSDPParser FuzzDigestHeader)
SCRATCH=${FUZZ_SCRATCH:-.build-fuzz}

seconds=${FUZZ_SECONDS:-30}
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
    [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (known: ${ALL_TARGETS[*]})" >&2; exit 2; }
done

# The Swift runtime's backtracer forks a helper that reads the crashed process's memory: under ASan
# that is reported as a use-after-free and it hides libFuzzer's own crash report. Turn it off.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:handle_abort=1:handle_sigill=1}

export DIALTONE_FUZZ=1
for t in "${targets[@]}"; do
    echo "== building $t"
    mkdir -p "$SCRATCH"
    # (ld.gold warns once per ASan helper symbol; drop that noise.)
    if ! swift build --scratch-path "$SCRATCH" -c debug --product "$t" >"$SCRATCH/fuzz-build.log" 2>&1; then
        grep -v "warning: Cannot export local symbol" "$SCRATCH/fuzz-build.log" | tail -40 >&2
        echo "fuzz.sh: build of $t failed" >&2
        exit 2
    fi
    grep -v "warning: Cannot export local symbol" "$SCRATCH/fuzz-build.log" | tail -1
done
BIN=$(swift build --scratch-path "$SCRATCH" -c debug --show-bin-path)

status=0
summary=()
for t in "${targets[@]}"; do
    seed="$ROOT/Fuzz/corpus/$t"
    work="$ROOT/Fuzz/corpus-work/$t"
    artifacts="$ROOT/$SCRATCH/fuzz-artifacts/$t"
    regress="$ROOT/Tests/Fixtures/fuzz-regressions/$t"
    mkdir -p "$work" "$artifacts"
    rm -f "$artifacts"/*
    [[ -d $seed ]] && cp -n "$seed"/* "$work"/ 2>/dev/null || true
    log="$ROOT/$SCRATCH/fuzz-$t.log"
    # Replay every saved failing input first: each must now pass (libFuzzer runs files given as
    # arguments once each).
    if [[ -d $regress ]] && compgen -G "$regress/*" >/dev/null; then
        n=$(ls "$regress" | wc -l)
        if "$BIN/$t" -runs=1 "$regress"/* >"$log.replay" 2>&1; then
            echo "== $t: $n regression inputs replayed, all pass"
        else
            echo "fuzz.sh: $t fails on a saved regression input; see $log.replay" >&2
            status=1
        fi
    fi
    echo "== fuzzing $t for ${seconds}s (corpus $work, log $log)"
    set +e
    "$BIN/$t" "$work" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=5 -max_len=8192 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    set -e
    execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
    found=$(find "$artifacts" -maxdepth 1 -type f | sort)
    if [[ $rc -ne 0 || -n $found ]]; then
        status=1
        mkdir -p "$regress"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*Fatal error|.*Precondition failed|.*failed:)' "$log" | head -5 >&2 || true
        for f in $found; do
            cp "$f" "$regress/"
            echo "fuzz.sh: $t failed (exit $rc): input saved to ${regress#$ROOT/}/$(basename "$f")" >&2
        done
        [[ -z $found ]] && echo "fuzz.sh: $t exited $rc without an artifact; see $log" >&2
        summary+=("$t: FAILED after $execs execs (log $log)")
    else
        summary+=("$t: ok, $execs execs in ${seconds}s, corpus $(ls "$work" | wc -l) files")
    fi
done
printf '%s\n' "${summary[@]}"
exit $status
