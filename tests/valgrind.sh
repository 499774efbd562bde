#!/bin/sh
# make valgrind: the Lua tests (tests/lua/test_*.lua) under valgrind's
# memcheck, each on the test rig, with --leak-check=full and definite leaks
# counted as errors.  tests/valgrind.supp suppresses what happens inside
# system libraries only (PortAudio, JACK, ALSA, libsndfile, ...); nothing of
# ours.  Per test: its TAP counts, memcheck's errors and the bytes definitely
# lost; then "N passed, N failed" (a memcheck error or leak counts as a
# failure).  The logs go to tests/out/valgrind.
#   tests/valgrind.sh [PATTERN]
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
pattern=${1:-}
start=$(date +%s)
out=tests/out/valgrind
rm -rf "$out"; mkdir -p "$out"

# Memcheck slows the process 20-50x, the realtime callback included, which
# then misses JACK's deadlines: the rig runs at 48 kHz with a period of 2048
# frames (43 ms) to leave it time, which is enough for test_chunks,
# test_files and test_loopback.  These still cannot keep up, so they run for
# memcheck only (their errors and leaks count; their TAP lines are shown,
# not counted):
#   test_garbage_fast, test_soak_fast: long audio on the 384 kHz rig (5 ms
#     periods); under memcheck thousands of xruns change frames, and the
#     disk thread of the file recording can fall behind (BufferFull).
#   test_streams: its peak meters are read after a fixed 0.3 s sleep, and
#     short playrecs at 48 kHz xrun now and then (a frame arrives late).
MEMCHECK_ONLY="test_garbage_fast test_soak_fast test_streams"

rig=pastream-vg-$$
fast=pastream-vg-fast-$$
scripts/jackrig.sh start --name "$rig" --period "${VALGRIND_PERIOD:-2048}" --probe build/pa_probe >"$out/rig.log" 2>&1 &&
scripts/jackrig.sh start --name "$fast" --rate 384000 --period auto --probe build/pa_probe \
  >>"$out/rig.log" 2>&1 || {
  cat "$out/rig.log"; echo "the test rig did not start"
  scripts/jackrig.sh stop --name "$rig" >/dev/null 2>&1
  echo "0 passed, 1 failed"; exit 1
}
trap 'scripts/jackrig.sh stop --name "$rig" >/dev/null 2>&1; scripts/jackrig.sh stop --name "$fast" >/dev/null 2>&1' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
eval "$(scripts/jackrig.sh env --name "$rig")"

# Lua allocates far slower under memcheck: tests that measure an allocation
# rate scale their floor by PS_SLOWDOWN.
export PS_SLOWDOWN=${PS_SLOWDOWN:-50}
export PS_SANITIZER=valgrind   # resident memory is memcheck's: the soak leaves it out
passed=0 failed=0 errors=0 lost=0
for t in tests/lua/test_*.lua; do
  name=$(basename "$t" .lua)
  case "$name" in *"$pattern"*) ;; *) continue ;; esac
  server=$rig
  case "$name" in *_fast) server=$fast ;; esac
  t0=$(date +%s)
  JACK_DEFAULT_SERVER=$server timeout 1800 valgrind --tool=memcheck --leak-check=full \
    --errors-for-leak-kinds=definite --error-exitcode=99 --num-callers=40 \
    --suppressions=tests/valgrind.supp --log-file="$out/$name.vg.%p" \
    ./pastream-lua "$t" >"$out/$name.log" 2>&1
  rc=$?
  p=$(grep -c '^ok ' "$out/$name.log")
  f=$(grep -c '^not ok ' "$out/$name.log")
  e=$(cat "$out/$name".vg.* | sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' | awk '{s += $1} END {print s + 0}')
  d=$(cat "$out/$name".vg.* | sed -n 's/^==[0-9]*==    definitely lost: \([0-9,]*\) bytes.*/\1/p' | tr -d , | awk '{s += $1} END {print s + 0}')
  note=
  case " $MEMCHECK_ONLY " in
    *" $name "*)
      note="  (memcheck only: TAP $p ok, $f not ok, not counted)"
      p=0; f=0
      # a Lua error (a BufferFull when the disk thread falls behind) is the
      # slowdown too; a signal or the timeout is not
      [ "$rc" -eq 124 ] || [ "$rc" -gt 128 ] && f=1 ;;
    *) [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "$e" -eq 0 ] && f=1 ;;   # exited without saying why
  esac
  [ "$e" -gt 0 ] && f=$((f + 1))
  passed=$((passed + p)); failed=$((failed + f)); errors=$((errors + e)); lost=$((lost + d))
  printf '%-24s %5d passed %3d failed  %d errors, %d bytes definitely lost  %4ds%s\n' \
    "$name" "$p" "$f" "$e" "$d" $(( $(date +%s) - t0 )) "$note"
  if [ "$f" -ne 0 ]; then
    grep -A4 '^not ok' "$out/$name.log" | head -20 | sed 's/^/    /'
    tail -5 "$out/$name.log" | sed 's/^/    | /'
    [ "$e" -gt 0 ] && grep -h -A12 '^==[0-9]*== [A-Z][a-z]' "$out/$name".vg.* | head -60 | sed 's/^/    /'
  fi
done
echo "valgrind: $errors errors, $lost bytes definitely lost, $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
