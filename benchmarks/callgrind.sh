#!/usr/bin/env bash
# Instructions per whole authentication for every protocol x mechanism, exact and repeatable (callgrind).
#   Ir per authentication = (Ir(N=11) - Ir(N=1)) / 10: start-up, warm-up and exit cancel out.
#   A third run (N=10, --toggle-collect on run_one) keeps a per-function profile for callgrind_annotate.
# Usage: benchmarks/callgrind.sh PATH/TO/mailauth_handshake_fixed [OUT_DIR] [BUDGET]
# Prints a markdown table; exits 1 if a case fails, is over BUDGET instructions (default 20000) or allocates.
set -euo pipefail

driver=${1:?usage: callgrind.sh PATH/TO/mailauth_handshake_fixed [OUT_DIR] [BUDGET]}
out=${2:-$(mktemp -d)}
budget=${3:-20000}
mkdir -p "$out"

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind not found (Debian: apt-get install valgrind); instruction counts skipped" >&2
    exit 2
fi

# Total Ir of one callgrind output file.
ir_of() { sed -n 's/^summary: *//p' "$1" | head -n1; }

collect() { # name N [extra valgrind options...]
    local name=$1 n=$2
    shift 2
    valgrind --tool=callgrind --callgrind-out-file="$out/$name.N$n.out" "$@" \
        "$driver" "$proto" "$mech" "$n" >"$out/$name.N$n.txt" 2>"$out/$name.N$n.log"
}

status=0
echo "| protocol | mechanism | instructions / auth | budget | allocations after warm-up | round trips (auth / total) | bytes written |"
echo "|---|---|---:|---|---:|---|---:|"
while read -r proto mech; do
    name="$proto-$mech"
    if ! collect "$name" 1 || ! collect "$name" 11 || ! collect "$name" 10 --toggle-collect='*run_one*'; then
        echo "| $proto | $mech | failed (see $out/$name.*.log) | | | | |"
        status=1
        continue
    fi
    a=$(ir_of "$out/$name.N1.out")
    b=$(ir_of "$out/$name.N11.out")
    per=$(((b - a) / 10))
    line=$(cat "$out/$name.N11.txt")
    allocs=$(sed -n 's/.*allocations_after_warmup=\([0-9]*\).*/\1/p' <<<"$line")
    rt=$(sed -n 's/.* round_trips=\([0-9]*\).*/\1/p' <<<"$line")
    total=$(sed -n 's/.*total_round_trips=\([0-9]*\).*/\1/p' <<<"$line")
    bytes=$(sed -n 's/.*bytes_written=\([0-9]*\).*/\1/p' <<<"$line")
    verdict="met"
    if ((per > budget)); then
        verdict="**over**"
        status=1
    fi
    if ((allocs != 0)); then status=1; fi
    printf '| %s | %s | %d | %s | %d | %d / %d | %d |\n' "$proto" "$mech" "$per" "$verdict" "$allocs" "$rt" "$total" "$bytes"
done < <("$driver" list)
exit $status
