#!/usr/bin/env bash
# Header weight: preprocessed lines and -fsyntax-only time of mailauth headers next to <string> alone.
# Usage: benchmarks/header_weight.sh [COMPILER...]     (default: g++ and clang++, whichever exist)
# Env:   RUNS (default 15) timed rounds; each round compiles the five headers once, one after the other.
# Prints markdown tables; exits 1 if the umbrella header is over 1.5x the lines of
# <string> <vector> <variant> <system_error> or pulls in <iostream>, <regex>, <format> or fmt.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
include_dir=$(pwd)/include
runs=${RUNS:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

compilers=("$@")
if ((${#compilers[@]} == 0)); then
    for c in g++ clang++; do command -v "$c" >/dev/null 2>&1 && compilers+=("$c"); done
fi

names=("\`<string>\`" "\`<string> <vector> <variant> <system_error>\`"
       "\`<mailauth/mailauth.hpp>\` (umbrella)" "\`<mailauth/base64.hpp>\`" "\`<mailauth/sasl/xoauth2.hpp>\`")
printf '#include <string>\n' >"$work/h0.cpp"
printf '#include <string>\n#include <vector>\n#include <variant>\n#include <system_error>\n' >"$work/h1.cpp"
printf '#include <mailauth/mailauth.hpp>\n' >"$work/h2.cpp"
printf '#include <mailauth/base64.hpp>\n' >"$work/h3.cpp"
printf '#include <mailauth/sasl/xoauth2.hpp>\n' >"$work/h4.cpp"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

status=0
for cxx in "${compilers[@]}"; do
    flags=(-std=c++20 "-I$include_dir")
    lines=() code=() cpu=() wall=()
    for i in 0 1 2 3 4; do
        lines[i]=$("$cxx" "${flags[@]}" -E "$work/h$i.cpp" | wc -l)
        code[i]=$("$cxx" "${flags[@]}" -E -P "$work/h$i.cpp" | grep -cv '^[[:space:]]*$')
    done
    # -fsyntax-only time, all five headers in interleaved rounds so load from other jobs hits them alike.
    # CPU time (user + sys of the compiler) is the figure: on a shared machine wall time swings several-fold.
    for i in 0 1 2 3 4; do : >"$work/cpu$i"; : >"$work/wall$i"; done
    TIMEFORMAT='%3R %3U %3S'
    for ((r = 0; r < runs + 2; r++)); do # the first two rounds are warm-ups
        for i in 0 1 2 3 4; do
            t=$({ time "$cxx" "${flags[@]}" -fsyntax-only "$work/h$i.cpp"; } 2>&1)
            ((r < 2)) && continue
            read -r wall user sys <<<"$t"
            echo "$wall" >>"$work/wall$i"
            awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }' >>"$work/cpu$i"
        done
    done
    for i in 0 1 2 3 4; do
        cpu[i]=$(median <"$work/cpu$i" | awk '{ printf "%.0f", $1 * 1000 }')
        wall[i]=$(median <"$work/wall$i" | awk '{ printf "%.0f", $1 * 1000 }')
    done
    timer="$runs interleaved rounds after 2 warm-ups, medians"
    version=$("$cxx" --version | head -n1)
    echo "Compiler: \`$version\`, \`-std=c++20\`; time: $timer."
    echo
    echo "| header | lines (\`-E \| wc -l\`) | × \`<string>\` | code lines (\`-E -P\`, non-blank) | \`-fsyntax-only\` CPU ms | × \`<string>\` | wall ms |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for i in 0 1 2 3 4; do
        printf '| %s | %d | %.2f | %d | %s | %.2f | %s |\n' "${names[i]}" "${lines[i]}" \
            "$(awk -v a="${lines[i]}" -v b="${lines[0]}" 'BEGIN { print a / b }')" "${code[i]}" "${cpu[i]}" \
            "$(awk -v a="${cpu[i]}" -v b="${cpu[0]}" 'BEGIN { print a / b }')" "${wall[i]}"
    done
    ratio=$(awk -v a="${lines[2]}" -v b="${lines[1]}" 'BEGIN { printf "%.2f", a / b }')
    banned=$("$cxx" "${flags[@]}" -M "$work/h2.cpp" | tr ' \\' '\n\n' | grep -E '/(iostream|regex|format)$|/fmt/' || true)
    verdict=met
    if awk -v r="$ratio" 'BEGIN { exit !(r > 1.5) }' || [[ -n $banned ]]; then
        verdict="**not met**"
        status=1
    fi
    echo
    echo "Budget: umbrella / \`<string> <vector> <variant> <system_error>\` = ${lines[2]} / ${lines[1]} = **${ratio}×** (at most 1.50×);" \
        "\`<iostream>\`, \`<regex>\`, \`<format>\`, fmt pulled in: ${banned:-none}. Target $verdict."
    echo
done
exit $status
