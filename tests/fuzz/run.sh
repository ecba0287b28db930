#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan), replays their seeds and saved crash inputs, then fuzzes
# every target for SECONDS (default 30) and reports executions and coverage (libFuzzer's cov:/ft:) per target.
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]        e.g. tests/fuzz/run.sh 300 smtp imap pop3
#        SECONDS=0 builds and replays only.
# Env:   FUZZ_BUILD_DIR (build/fuzz)  FUZZ_CORPUS_DIR (<build dir>/corpus, kept between runs)
#        JOBS (2, build)  FUZZ_PARALLEL (2, targets fuzzed at once)  CXX_FUZZ (clang++)
# Exit:  0 when every target ran clean; 1 on a build failure, a failed replay or a crash (the input is kept
#        under <build dir>/artifacts/<target>/ and the command to reproduce it is printed).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
SECS=${1:-30}
shift || true
[[ $SECS =~ ^[0-9]+$ ]] || { echo "usage: tests/fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2; }
DIR=${FUZZ_BUILD_DIR:-$ROOT/build/fuzz}
CORPUS=${FUZZ_CORPUS_DIR:-$DIR/corpus}
JOBS=${JOBS:-2}
PARALLEL=${FUZZ_PARALLEL:-2}
CXX_FUZZ=${CXX_FUZZ:-clang++}
say() { printf '\n==> %s\n' "$*"; }

command -v "$CXX_FUZZ" >/dev/null || { echo "fuzz: $CXX_FUZZ not found (Debian: apt-get install clang)" >&2; exit 1; }
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ -f $DIR/CMakeCache.txt ]] && ! grep -q '^MAILAUTH_BUILD_FUZZERS:BOOL=ON' "$DIR/CMakeCache.txt"; then
    rm -rf "$DIR"
fi

start=$SECONDS
say "fuzz: configure and build ($CXX_FUZZ, $DIR)"
cmake -S "$ROOT" -B "$DIR" "${generator[@]}" -DCMAKE_CXX_COMPILER="$CXX_FUZZ" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMAILAUTH_BUILD_FUZZERS=ON -DMAILAUTH_BUILD_EXAMPLES=OFF -DMAILAUTH_BUILD_BENCHMARKS=OFF \
    -DMAILAUTH_WARNINGS_AS_ERRORS=ON >"$DIR.configure.log" 2>&1 || { cat "$DIR.configure.log"; exit 1; }
manifest=$DIR/tests/fuzz/fuzz_targets.txt
if [[ ! -f $manifest ]]; then
    grep -i fuzz "$DIR.configure.log" >&2 || true
    echo "fuzz: the fuzz targets were not configured (needs clang with -fsanitize=fuzzer)" >&2
    exit 1
fi
cmake --build "$DIR" --target mailauth_fuzzers -j "$JOBS"
build_time=$((SECONDS - start))

say "fuzz: replay seeds and saved crash inputs"
start=$SECONDS
ctest --test-dir "$DIR" -L '^fuzz$' --output-on-failure -j "$JOBS"
replay_time=$((SECONDS - start))

if ((SECS == 0)); then
    printf '\n    times: build %ss, replay %ss\n' "$build_time" "$replay_time"
    exit 0
fi

# Targets to fuzz: all by default.
declare -A exe_of seeds_of dict_of
order=()
while read -r name exe seeds dict; do
    exe_of[$name]=$exe
    seeds_of[$name]=$seeds
    dict_of[$name]=${dict:-}
    order+=("$name")
done <"$manifest"
(($# > 0)) && order=("$@")
for t in "${order[@]}"; do
    [[ -n ${exe_of[$t]:-} ]] || { echo "fuzz: unknown target '$t' (have: ${!exe_of[*]})" >&2; exit 2; }
done

say "fuzz: ${#order[@]} target(s), ${SECS}s each, $PARALLEL at a time"
start=$SECONDS
LOGS=$DIR/logs
mkdir -p "$LOGS"
fuzz_one() {
    local t=$1 corpus=$CORPUS/$1 artifacts=$DIR/artifacts/$1/
    rm -rf "$artifacts"
    mkdir -p "$corpus" "$artifacts"
    local args=(-max_total_time="$SECS" -print_final_stats=1 -timeout=10 -rss_limit_mb=2560 -max_len=16384
        -artifact_prefix="$artifacts")
    [[ -n ${dict_of[$t]} ]] && args+=(-dict="${dict_of[$t]}")
    local rc=0
    "${exe_of[$t]}" "${args[@]}" "$corpus" "${seeds_of[$t]}" >"$LOGS/$t.log" 2>&1 || rc=$?
    echo "$rc" >"$LOGS/$t.rc"
}
running=0
for t in "${order[@]}"; do
    fuzz_one "$t" &
    running=$((running + 1))
    if ((running >= PARALLEL)); then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true
fuzz_time=$((SECONDS - start))

say "fuzz: results (${SECS}s per target)"
printf '    %-15s %12s %8s %8s %8s %7s  %s\n' target executions exec/s cov ft corpus result
failed=0
for t in "${order[@]}"; do
    log=$LOGS/$t.log
    rc=$(cat "$LOGS/$t.rc" 2>/dev/null || echo 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.*corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
    result=ok
    if [[ $rc != 0 ]]; then
        result="FAILED (exit $rc)"
        failed=1
    fi
    printf '    %-15s %12s %8s %8s %8s %7s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
if ((failed)); then
    for t in "${order[@]}"; do
        [[ $(cat "$LOGS/$t.rc" 2>/dev/null || echo 1) == 0 ]] && continue
        say "fuzz: $t failed; end of $LOGS/$t.log"
        grep -v -E '^(#[0-9]+|\s*"|INFO:|MERGE|###|Uses:)' "$LOGS/$t.log" | tail -40
        for a in "$DIR/artifacts/$t/"*; do
            [[ -f $a ]] || continue
            echo "    input kept: $a"
            echo "    reproduce:  ${exe_of[$t]} $a"
            echo "    minimize:   ${exe_of[$t]} -minimize_crash=1 -runs=100000 $a"
        done
    done
fi
printf '\n    times: build %ss, replay %ss, fuzzing %ss\n' "$build_time" "$replay_time" "$fuzz_time"
if ((failed)); then
    echo "FUZZ FAILED" >&2
    exit 1
fi
echo "fuzz: all targets clean"
