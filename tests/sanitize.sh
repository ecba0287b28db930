#!/usr/bin/env bash
# ASan + UBSan build of the unit tests, examples, secret scan and integration tests, run through ctest.
# Usage: tests/sanitize.sh [LABEL_REGEX]     default: unit|example|integration|secrets (labels that exist)
# Env:   SANITIZE_CXX (clang++)  SANITIZE_BUILD_DIR (build/sanitize)  JOBS (2)
#        BUILD_TYPE (RelWithDebInfo)  MAILAUTH_REQUIRE_TEST_DEPS (ON: a missing Dovecot fails, as in tests/run.sh)
# Any sanitizer report fails the test that triggered it (halt_on_error, no recovery).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
CXX_SAN=${SANITIZE_CXX:-clang++}
DIR=${SANITIZE_BUILD_DIR:-$ROOT/build/sanitize}
JOBS=${JOBS:-2}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
LABELS=${1:-unit|example|integration|secrets}
say() { printf '\n==> %s\n' "$*"; }

command -v "$CXX_SAN" >/dev/null || { echo "sanitize: $CXX_SAN not found" >&2; exit 1; }
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
san_flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# clang 14 cannot emit the debug info of C++20 coroutines (examples/asio_login.cpp) under -fsanitize=function
# ("Cannot represent a difference across sections"); that UBSan check (calls through a function pointer of
# the wrong type) has no target in this code base, which makes no such calls.
if "$CXX_SAN" --version 2>/dev/null | grep -q clang; then
    san_flags+=" -fno-sanitize=function"
fi
# A build dir made with other flags or another compiler cannot be reused.
if [[ -f $DIR/CMakeCache.txt ]] && ! grep -q -- "-fsanitize=address,undefined" "$DIR/CMakeCache.txt"; then
    rm -rf "$DIR"
fi

start=$SECONDS
say "sanitize: configure and build ($CXX_SAN, ASan + UBSan, $DIR)"
cmake -S "$ROOT" -B "$DIR" "${generator[@]}" \
    -DCMAKE_CXX_COMPILER="$CXX_SAN" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
    -DCMAKE_CXX_FLAGS="$san_flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DMAILAUTH_WARNINGS_AS_ERRORS=ON -DMAILAUTH_REQUIRE_TEST_DEPS="${MAILAUTH_REQUIRE_TEST_DEPS:-ON}" \
    -DMAILAUTH_BUILD_BENCHMARKS=OFF -DMAILAUTH_BUILD_EXAMPLES=ON -DMAILAUTH_BUILD_TESTS=ON

# Only the labels this tree defines (integration arrives with its own helper).
have=$(ctest --test-dir "$DIR" --print-labels | sed -n 's/^ *//p' | tr '\n' ' ')
wanted=()
IFS='|' read -r -a asked <<<"$LABELS"
for l in "${asked[@]}"; do
    if [[ " $have " == *" $l "* ]]; then wanted+=("$l"); else echo "sanitize: no tests labelled '$l', skipped"; fi
done
((${#wanted[@]} > 0)) || { echo "sanitize: none of the labels $LABELS exists" >&2; exit 1; }
regex="^($(IFS='|'; echo "${wanted[*]}"))\$"

# Build what those tests run (mailauth_test_programs: the test and example programs), not the header checks.
cmake --build "$DIR" -j "$JOBS" --target mailauth_test_programs
build_time=$((SECONDS - start))

say "sanitize: ctest -L '$regex'"
start=$SECONDS
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
ctest --test-dir "$DIR" -L "$regex" --output-on-failure -j "$JOBS" || status=$?
test_time=$((SECONDS - start))
printf '\n    times: build %ss, tests %ss\n' "$build_time" "$test_time"
if ((status != 0)); then
    echo "SANITIZE FAILED" >&2
    exit 1
fi
echo "sanitize: all clean"
