#!/bin/sh
# make fuzz: run each libFuzzer target build-fuzz/fuzz/fuzz_NAME for
# FUZZ_SECONDS (default 60), starting from its seed corpus and regression
# inputs (tests/fuzz/corpus/NAME, tests/fuzz/regress/NAME), copied to
# tests/out/fuzz/NAME/corpus so that new inputs stay out of the tree.  A
# crash, sanitizer report, timeout (-timeout, a hang) or out-of-memory is a
# finding: its input goes to tests/out/fuzz/NAME/findings/ and the target
# fails.  One line per target, then "N passed, N failed".
#   tests/fuzz/run.sh NAME...
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-60}
passed=0
failed=0
for t in "$@"; do
  work=tests/out/fuzz/$t
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/findings"
  for d in tests/fuzz/corpus/$t tests/fuzz/regress/$t; do
    [ -d "$d" ] && cp "$d"/* "$work/corpus/" 2>/dev/null
  done
  dict=
  [ -f "tests/fuzz/$t.dict" ] && dict=-dict=tests/fuzz/$t.dict
  # -max_len: the seed sound files are a few KB; room to grow past them.
  build-fuzz/fuzz/fuzz_"$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$work/findings/" $dict \
    "$work/corpus" >"$work/log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
  cov=$(grep -a ' cov: ' "$work/log" | tail -1 | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/cov \1, ft \2, corpus \3/p')
  nfind=$(ls "$work/findings" | wc -l)
  if [ "$rc" -eq 0 ] && [ "$nfind" -eq 0 ]; then
    passed=$((passed + 1))
    printf 'ok   %-10s %8s runs in %ss (%s/s), %s\n' "$t" "${runs:-?}" "$secs" \
      "$(( ${runs:-0} / (secs > 0 ? secs : 1) ))" "${cov:-no coverage line}"
  else
    failed=$((failed + 1))
    printf 'FAIL %-10s exit %d, %d finding(s) in %s/findings (log: %s/log)\n' "$t" "$rc" "$nfind" "$work" "$work"
    grep -a -m3 'FINDING\|ERROR:\|SUMMARY' "$work/log" | sed 's/^/    /'
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
