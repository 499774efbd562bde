#!/bin/sh
# Run the tests under the sanitizers (issue 8, point 1); make asan / make tsan
# build the binaries first.
#   tests/sanitize.sh asan   -- tests/run.sh with build-asan/ (ASan + UBSan +
#                               LeakSanitizer), the Lua tests under the ASan host
#   tests/sanitize.sh tsan   -- build-tsan/test_{ringbuf,engine,disk} under TSan
# Every sanitized process (also children and the rig's pa_probe, whose
# stderr may be swallowed) writes its reports to build-*/reports/, so a report
# fails the run even where an exit status is not looked at.  Leaks inside
# PortAudio/JACK/ALSA are suppressed by tests/lsan.supp; nothing of ours is.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
mode=${1:-}
start=$(date +%s)

case "$mode" in
asan)
  B=build-asan
  rep=$top/$B/reports
  rm -rf "$rep"; mkdir -p "$rep"
  # intercept_tls_get_addr=0: pastream-lua loads the core, and with it
  # libasound and libstdc++ (JACK), with dlopen, so their thread-local
  # storage is dynamic; the sanitizer runtime misreads some glibc >= 2.25
  # DTV entries as glibc 2.19 ones and LeakSanitizer's tracer then crashes
  # at exit on a bogus range ("Tracer caught signal 11", google/sanitizers
  # issue 1322).  Without it LSan does not scan dynamic TLS for pointers:
  # it can only report more, never hide a leak, and our code has no TLS.
  export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:intercept_tls_get_addr=0:log_path=$rep/asan"
  export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$rep/ubsan"
  # Lua allocates about 3x slower under ASan (test_garbage_fast: 346 MB/s
  # normally, 110-150 here): its floor is scaled by PS_SLOWDOWN.
  # PS_SANITIZER tells the soak that resident memory is ASan's, not ours.
  # The client's callback runs 2-4x slower too: the rigs run at twice the
  # periods they would pick (the suite passes at any period), so that a
  # late callback is not the sanitizer's cost on a busy machine.
  PS_RIG_PERIOD=${PS_RIG_PERIOD:-2048} PS_FAST_PERIOD=${PS_FAST_PERIOD:-16384} \
  PS_SANITIZER=asan PS_SLOWDOWN=${PS_SLOWDOWN:-4} PS_SH=1 PS_BUILD=$B PASTREAM_LUA=$top/$B/pastream-lua tests/run.sh
  rc=$?
  ;;
tsan)
  B=build-tsan
  rep=$top/$B/reports
  rm -rf "$rep"; mkdir -p "$rep"
  export TSAN_OPTIONS="halt_on_error=0:second_deadlock_stack=1:history_size=4:log_path=$rep/tsan"
  out=tests/out/$B; mkdir -p "$out"
  rc=0
  for t in ringbuf engine disk; do
    t0=$(date +%s)
    timeout 900 "$B/test_$t" >"$out/$t.log" 2>&1
    r=$?
    p=$(grep -c '^ok ' "$out/$t.log"); f=$(grep -c '^not ok ' "$out/$t.log")
    printf '%-40s %5d passed %3d failed  %3ds  (exit %d)\n' "$t (tsan)" "$p" "$f" $(( $(date +%s) - t0 )) "$r"
    [ "$r" -eq 0 ] && [ "$f" -eq 0 ] || { rc=1; grep -A4 '^not ok' "$out/$t.log" | head -20 | sed 's/^/    /'; }
  done
  ;;
*) echo "usage: tests/sanitize.sh asan|tsan" >&2; exit 2 ;;
esac

n=$(find "$rep" -type f | wc -l)
for f in $(find "$rep" -type f | sort); do
  echo "==== $mode report: $f"
  head -80 "$f"
done
echo "$mode: $n sanitizer report(s), $(( $(date +%s) - start ))s"
[ "$n" -eq 0 ] && [ "$rc" -eq 0 ]
