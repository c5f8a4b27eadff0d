#!/usr/bin/env bash
# check_spills.sh OBJECT FUNCTION_REGEX...: fails if an inner loop (the
# instructions between a backward jump and its target, containing no other
# loop) of a matching function in OBJECT (an object file or static library)
# STORES to the stack (a %rsp-based memory destination; %rbp is a general
# register at -O3, and pushes are call arguments): a register spilled and
# reloaded on every iteration. Loads from the stack (loop-invariant
# values the compiler keeps there, e.g. a 17th row pointer) are listed but
# allowed. Each regex must match at least one function.
set -euo pipefail
obj=$1
shift
status=0
for re in "$@"; do
  out=$(objdump -d --no-show-raw-insn "$obj" | awk -v re="$re" '
    function hex(s,   i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
    /^[0-9a-f]+ <.*>:$/ { fn = $2; gsub(/[<>:]/, "", fn); n = 0; keep = fn ~ ("^(" re ")$"); next }
    !keep || !/^ +[0-9a-f]+:/ { next }
    {
      addr = hex(substr($1, 1, length($1) - 1));
      n++; A[fn, n] = addr; L[fn, n] = $0; N[fn] = n; F[fn] = 1
      if ($2 ~ /^j/ && $3 ~ /^[0-9a-f]+$/) {
        t = hex($3)
        if (t < addr) { nl[fn]++; LT[fn, nl[fn]] = t; LE[fn, nl[fn]] = addr }
      }
    }
    END {
      found = 0; bad = 0
      for (f in F) {
        found++
        # innermost loops: those that contain no other loop
        for (k = 1; k <= nl[f]; k++) {
          inner = 1
          for (m = 1; m <= nl[f]; m++)
            if (m != k && LT[f, m] >= LT[f, k] && LE[f, m] <= LE[f, k] && !(LT[f, m] == LT[f, k] && LE[f, m] == LE[f, k])) inner = 0
          if (!inner) continue
          s = 0; ld = 0
          for (i = 1; i <= N[f]; i++) {
            if (A[f, i] < LT[f, k] || A[f, i] > LE[f, k] || L[f, i] !~ /\(%r[sb]p\)/) continue
            split(L[f, i], w, /[ \t]+/)
            if (L[f, i] ~ /\(%rsp\)$/ && w[3] !~ /^(cmp|test|vucomis|vcomis|ucomis|comis|prefetch|push)/) { s++; print "  store: " L[f, i] }
            else ld++
          }
          printf "%s: inner loop at %d..%d bytes, %d stack stores, %d stack loads\n", f, LT[f, k], LE[f, k], s, ld
          bad += s
        }
      }
      if (!found) { print "no function matches " re; exit 2 }
      exit bad ? 1 : 0
    }') || status=1
  echo "$out"
done
exit $status
