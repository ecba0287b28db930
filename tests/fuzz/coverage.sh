#!/usr/bin/env bash
# Source coverage of the library headers reached by the fuzz corpora: builds each target with clang's
# source-based coverage, replays its corpus (build/fuzz/corpus/<target>, grown by tests/fuzz/run.sh) and its
# seeds, and prints llvm-cov's line and region coverage per header, per target and for all targets together.
# Usage: tests/fuzz/coverage.sh [TARGET...]     Env: FUZZ_BUILD_DIR (build/fuzz), JOBS (2)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
FUZZ_DIR=${FUZZ_BUILD_DIR:-$ROOT/build/fuzz}
DIR=$FUZZ_DIR/coverage
JOBS=${JOBS:-2}
LLVM_COV=$(command -v llvm-cov-14 || command -v llvm-cov)
LLVM_PROFDATA=$(command -v llvm-profdata-14 || command -v llvm-profdata)
targets=("$@")
((${#targets[@]} > 0)) || targets=(smtp imap pop3 base64 json reply oauth_response redirect)
seeds=$FUZZ_DIR/tests/fuzz/seeds
[[ -d $seeds ]] || { echo "coverage: run tests/fuzz/run.sh first (no seeds in $seeds)" >&2; exit 1; }
mkdir -p "$DIR"

build() {
    local t=$1 defs=()
    [[ $t == imap ]] && defs=(-DMAILAUTH_FUZZ_CHECK_PREAUTH_TLS=0)
    clang++ -std=c++20 -O1 -g -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping "${defs[@]}" \
        -I"$ROOT/include" -I"$ROOT/tests/fuzz" "$ROOT/tests/fuzz/${t}_fuzz.cpp" -o "$DIR/$t"
}
running=0
for t in "${targets[@]}"; do
    build "$t" &
    running=$((running + 1))
    if ((running >= JOBS)); then wait -n; running=$((running - 1)); fi
done
wait

objects=()
for t in "${targets[@]}"; do
    inputs=("$seeds/$t")
    [[ -d $FUZZ_DIR/corpus/$t ]] && inputs+=("$FUZZ_DIR/corpus/$t")
    [[ -d $ROOT/tests/fuzz/regressions/$t ]] && inputs+=("$ROOT/tests/fuzz/regressions/$t")
    LLVM_PROFILE_FILE="$DIR/$t.profraw" "$DIR/$t" -runs=0 "${inputs[@]}" >"$DIR/$t.log" 2>&1
    "$LLVM_PROFDATA" merge -sparse "$DIR/$t.profraw" -o "$DIR/$t.profdata"
    total=$("$LLVM_COV" report "$DIR/$t" -instr-profile="$DIR/$t.profdata" "$ROOT/include/mailauth" | tail -1)
    printf '%-15s %s\n' "$t" "$(awk '{printf "regions %s, lines %s (%s lines of the headers it includes)", $4, $10, $8}' <<<"$total")"
    objects+=(-object "$DIR/$t")
done
"$LLVM_PROFDATA" merge -sparse "$DIR"/*.profraw -o "$DIR/all.profdata"
echo
echo "All targets together, per header (Regions / Missed / Cover, Functions..., Lines / Missed / Cover, ...):"
"$LLVM_COV" report "${objects[@]:1}" -instr-profile="$DIR/all.profdata" "$ROOT/include/mailauth" |
    sed "s|$ROOT/include/||"
