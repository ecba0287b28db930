#!/usr/bin/env bash
# The full check: installs missing Debian packages, builds and tests mailauth with g++ and clang++, then runs
# the hardening stages: ASan+UBSan build of the unit, secret and integration suites, every fuzz target, and
# clang-tidy + cppcheck.
# Usage: tests/run.sh [gcc] [clang]      (from anywhere; naming compilers runs only those, without hardening)
# Env:   JOBS (default 2), BUILD_TYPE (default RelWithDebInfo), MAILAUTH_HARDENING=0 (skip the hardening stages),
#        FUZZ_SECONDS (default 30, per fuzz target)
set -euo pipefail

# Debian packages the build and the tests need; later issues add theirs here.
PACKAGES="cmake g++ clang catch2 libfmt-dev libbenchmark-dev libssl-dev pkg-config ninja-build python3 openssl libasio-dev dovecot-imapd dovecot-pop3d dovecot-submissiond libcurl4-openssl-dev gdb clang-tidy cppcheck valgrind libclang-rt-14-dev"

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
JOBS=${JOBS:-2}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}

say() { printf '\n==> %s\n' "$*"; }

# --- 1. Packages ------------------------------------------------------------------------------------------
if command -v dpkg-query >/dev/null 2>&1; then
    missing=()
    for pkg in $PACKAGES; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if ((${#missing[@]} > 0)); then
        if [[ $(id -u) -eq 0 ]]; then
            say "installing missing packages: ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update
            apt-get install -y --no-install-recommends "${missing[@]}"
        else
            echo "Missing packages: ${missing[*]}" >&2
            echo "Install them with:" >&2
            echo "    sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
            exit 2
        fi
    fi
else
    echo "note: no dpkg-query (not Debian?); assuming these are installed: $PACKAGES" >&2
fi

# --- 2. Build and test with each compiler -------------------------------------------------------------------
if command -v ninja >/dev/null 2>&1; then
    GENERATOR=Ninja
else
    GENERATOR="Unix Makefiles"
fi

declare -A CXX_OF=([gcc]=g++ [clang]=clang++)
compilers=("$@")
((${#compilers[@]} > 0)) || compilers=(gcc clang)

summary=()
failed=0
for name in "${compilers[@]}"; do
    cxx=${CXX_OF[$name]:-}
    if [[ -z $cxx ]]; then
        echo "unknown compiler '$name' (use: gcc clang)" >&2
        exit 2
    fi
    dir="build/$name"
    start=$SECONDS

    # A build dir left by another generator or compiler (e.g. a preset) cannot be reused: start over.
    cache="$dir/CMakeCache.txt"
    if [[ -f $cache ]]; then
        old_gen=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' "$cache")
        old_cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$cache")
        if [[ $old_gen != "$GENERATOR" || $(basename "$old_cxx") != "$cxx" ]]; then
            say "$name: $dir was made with '$old_gen' / '$old_cxx'; removing it"
            rm -rf "$dir"
        fi
    fi

    step=configure
    say "$name: configure ($GENERATOR, $cxx, $BUILD_TYPE)"
    if cmake -S "$ROOT" -B "$dir" -G "$GENERATOR" \
        -DCMAKE_CXX_COMPILER="$cxx" \
        -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
        -DMAILAUTH_WARNINGS_AS_ERRORS=ON \
        -DMAILAUTH_REQUIRE_TEST_DEPS=ON; then
        step=build
        say "$name: build"
        if cmake --build "$dir" -j "$JOBS"; then
            step=test
            say "$name: test"
            if ctest --test-dir "$dir" --output-on-failure -j "$JOBS"; then
                step=ok
            fi
        fi
    fi

    elapsed=$((SECONDS - start))
    if [[ $step == ok ]]; then
        summary+=("$(printf '%-6s %-8s PASS   (%ss)' "$name" "$cxx" "$elapsed")")
    else
        summary+=("$(printf '%-6s %-8s FAIL   %s failed (%ss)' "$name" "$cxx" "$step" "$elapsed")")
        failed=1
    fi
done

# --- 3. Hardening: sanitizers, fuzzing, static analysis (when every compiler passed and all were asked for) --------
# Each is a script of its own so it can be run alone. MAILAUTH_HARDENING=0 skips them (a quicker local run).
stage() {
    local label=$1
    shift
    local t0=$SECONDS
    say "$label"
    if "$@"; then
        summary+=("$(printf '%-15s PASS   (%ss)' "$label" "$((SECONDS - t0))")")
    else
        summary+=("$(printf '%-15s FAIL   (%ss)' "$label" "$((SECONDS - t0))")")
        failed=1
    fi
}
if ((!failed)) && (($# == 0)) && [[ ${MAILAUTH_HARDENING:-1} != 0 ]]; then
    stage "asan+ubsan" tests/sanitize.sh
    stage "fuzz ${FUZZ_SECONDS:-30}s/target" tests/fuzz/run.sh "${FUZZ_SECONDS:-30}"
    stage "clang-tidy+cppcheck" tests/lint.sh
fi

say "summary"
printf '    %s\n' "${summary[@]}"
if ((failed)); then
    echo "FAILED" >&2
    exit 1
fi
echo "all passed"
