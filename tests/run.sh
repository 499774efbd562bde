#!/bin/sh
# Run every test: the C unit tests, then the Lua tests on the test rig.
# Each test prints TAP lines ("ok N - ..." / "not ok N - ..."); this script
# counts them over all tests and ends with "N passed, N failed".
#   tests/run.sh [PATTERN]   -- only tests whose name contains PATTERN
# PS_BUILD=DIR takes the C tests, pa_probe and core.so from DIR (default
# build) and PASTREAM_LUA=PATH the host (default ./pastream-lua); with a
# PS_BUILD or a host other than the default (tests/sanitize.sh,
# tests/gcstress.sh), the plain lua5.4 module runs and tests/sh (which use
# ./pastream-lua) are skipped, and the logs go to tests/out/DIR (PS_OUT=DIR
# to choose).
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
B=${PS_BUILD:-build}
PL=${PASTREAM_LUA:-$top/pastream-lua}
out=tests/out; [ "$B" = build ] || out=tests/out/$(basename "$B")
out=${PS_OUT:-$out}
mkdir -p "$out"
pattern=${1:-}
default=; [ "$B" = build ] && [ "$PL" = "$top/pastream-lua" ] && default=1

# Two lanes (make check: the default build, every test): the tests below
# run in a second tests/run.sh beside this one, on rigs of its own, while
# this one runs the rest.  Most of a test's time is audio played in real
# time, not CPU, so the two lanes take about half as long as one.  The
# second lane has only tests that use the shared rigs' loopback device and
# start no JACK server of their own (the servers tests start stay in this
# lane, one at a time: JACK allows 8 on a machine).  PS_LANES=1: one lane.
# The soaks on the other paths (tests/sh/test_soak_*.sh) are split: the
# ALSA and netjack2 ones start JACK servers (this lane), PipeWire's none.
LANE_B="test_soak_fast test_monitor test_recipes test_files test_cli_files test_garbage_fast
  test_pipes test_loopback test_cli_words test_cli_align test_cli_pipes test_cli_summary
  test_soak_pipewire test_pastream_port test_chunks test_streams test_bad_inputs
  test_user_process test_lua_sequences test_user_signals test_lua_cleanup test_dsp_recipes
  test_cli_sox test_cli_process test_cli_resample test_c15_rt_hygiene test_pictures"
lane=${PS_LANE:-}
if [ -z "$lane" ] && [ -z "$pattern" ] && [ -n "$default" ] && [ "${PS_LANES:-2}" = 2 ]; then
  lane=a
  PS_LANE=b "$0" >"$out/lane-b.txt" 2>&1 &
  lane_pid=$!
fi
in_lane_b() { case " $(echo $LANE_B) " in *" $1 "*) return 0 ;; esac; return 1; }
riglog=$out/rig${lane:+-$lane}.log

# The rigs' periods: PS_RIG_PERIOD (48 kHz) and PS_FAST_PERIOD (384 kHz),
# frames or auto (the default: the smallest period of about 21 ms or more
# that the idle server runs for 3 s without an xrun, scripts/jackrig.sh).
# This machine's stalls cannot break a period that long; the tests take
# every latency and length from the running stream, so any period works
# (the suite passes at the auto periods and at twice them).  The short
# periods users of small buffers run are tested by tests/sh/test_lowlatency.sh
# on rigs of their own, with every damaged period accounted for.
rig=pastream-test-$$
fast=pastream-test-fast-$$
start_rig() {   # start_rig NAME RATE PERIOD
  if ! scripts/jackrig.sh start --name "$1" --rate "$2" --period "$3" --probe "$B/pa_probe" >>"$riglog" 2>&1; then
    cat "$riglog"
    scripts/jackrig.sh stop --name "$rig" >/dev/null 2>&1
    echo "the test rig $1 did not start: every audio test would fail"
    echo "0 passed, 1 failed"
    exit 1
  fi
  p=$(scripts/jackrig.sh period --name "$1")
  # one line on the rig's health: the idle xrun rate over a short window
  case $3 in
    auto) grep "^rig $1: .* idle" "$riglog" | tail -n 1 ;;
    *) scripts/jackrig.sh health --name "$1" --seconds 3 ;;
  esac
}
: >"$riglog"
trap 'scripts/jackrig.sh stop --name "$rig" >/dev/null 2>&1; scripts/jackrig.sh stop --name "$fast" >/dev/null 2>&1
      [ -n "${lane_pid:-}" ] && kill "$lane_pid" 2>/dev/null' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start_rig "$rig" 48000 "${PS_RIG_PERIOD:-auto}"; rig_period=$p
# A second rig at 384 kHz moves 8x the frames per second: tests named
# *_fast.lua run long audio on it.
start_rig "$fast" 384000 "${PS_FAST_PERIOD:-auto}"; fast_period=$p
# Rigs that tests start for themselves (tests/sh) take the same period.
export JACKRIG_PERIOD="$rig_period" PS_RIG_PERIOD="$rig_period" PS_FAST_PERIOD="$fast_period"
eval "$(scripts/jackrig.sh env --name "$rig")"

passed=0
failed=0
reruns=
failnotes=
# The xruns both rigs' JACK servers have logged so far.  Under load a JACK2
# server in its default asynchronous mode can run a cycle with a late
# client and tell no client: one period then comes back from the wrong
# cycle, with 0 xruns on both sides of a loopback, and only the server's
# own log says so (scripts/jackrig.sh xruns).  A test that fails while the
# count moved runs again, up to 3 runs in all; a failure with a clean
# server log is final.  The failed run's log is kept beside the new one.
rig_xruns() {
  a=$(scripts/jackrig.sh xruns --name "$rig" 2>/dev/null) || a=0
  b=$(scripts/jackrig.sh xruns --name "$fast" 2>/dev/null) || b=0
  echo $((a + b))
}
run() {   # run NAME COMMAND...
  name=$1; shift
  case "$name" in *"$pattern"*) ;; *) return ;; esac
  case "$lane" in
    a) in_lane_b "$name" && return ;;
    b) in_lane_b "$name" || return ;;
  esac
  log="$out/$(echo "$name" | tr '/ ' '__').log"
  rm -f "$log".try*
  start=$(date +%s)
  try=1
  while :; do
    x0=$(rig_xruns)
    timeout 900 "$@" >"$log" 2>&1
    rc=$?
    x1=$(rig_xruns)
    p=$(grep -c '^ok ' "$log")
    f=$(grep -c '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
      f=1   # crashed or exited non-zero without saying why
      echo "not ok - $name exited with status $rc" >>"$log"
    fi
    # (a run that hung until the timeout (124) is never run again; nor one
    # whose client the server did not take, "there are none": that was two
    # clients of one name on two servers, fixed in src/device.c)
    [ "$f" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$x1" -gt "$x0" ] && [ "$try" -lt 3 ] || break
    mv "$log" "$log.try$try"
    why="while the rig logged $((x1 - x0)) xrun(s)"
    printf '%-40s %5d passed %3d failed  %s: again (%s)\n' "$name" "$p" "$f" "$why" "$log.try$try"
    grep -A4 '^not ok' "$log.try$try" | head -12 | sed 's/^/    /'
    reruns="$reruns $name"
    try=$((try + 1))
  done
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$f" -ne 0 ]; then
    if [ "$x1" -gt "$x0" ]; then
      failnotes="$failnotes
  $name: the rigs' servers logged $((x1 - x0)) xrun(s) during its last run"
    else
      failnotes="$failnotes
  $name: the rigs' servers logged no xrun during its last run (a fault of ours, not the machine's)"
    fi
  fi
  printf '%-40s %5d passed %3d failed  %3ds\n' "$name" "$p" "$f" $(( $(date +%s) - start ))
  if [ "$f" -ne 0 ]; then
    grep -A4 '^not ok' "$log" | head -40 | sed 's/^/    /'
    tail -5 "$log" | sed 's/^/    | /'
  fi
}

run ringbuf "$B/test_ringbuf"
run engine "$B/test_engine"
run disk "$B/test_disk"
for t in tests/lua/test_*.lua; do
  case "$t" in
    *_fast.lua) run "$(basename "$t" .lua)" env JACK_DEFAULT_SERVER="$fast" "$PL" "$t" ;;
    *) run "$(basename "$t" .lua)" "$PL" "$t" ;;
  esac
done
[ -n "$default" ] ||
  echo "skipped: lua5.4 module (PS_BUILD=$B, PASTREAM_LUA=${PL#$top/})"
# The same core tests through plain lua5.4 and require "pastream"
[ -n "$default" ] && for t in loopback streams; do
  run "$t (lua5.4 module)" env LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/?.so;;" \
    lua5.4 "tests/lua/test_$t.lua"
done
# tests/sh run the host PASTREAM_LUA names (scripts/pastream too) when
# PS_SH=1 says they may (make asan); otherwise only with the default host.
if [ -n "$default" ] || [ "${PS_SH:-}" = 1 ]; then
  for t in tests/sh/test_*.sh; do
    [ -e "$t" ] || continue
    # the other audio paths (ALSA, netjack2, PipeWire): their short check
    # (test_paths_quick, about 50 s) is part of make check, with the
    # default host only; the whole suite (test_paths, about 2 minutes) is
    # make check-paths (PS_PATHS=1), which leaves the short one out
    case "$t:${PS_PATHS:-}" in
      */test_paths.sh:1) ;;
      */test_paths.sh:*) continue ;;
      */test_paths_quick.sh:1) continue ;;
      */test_paths_quick.sh:*) [ -n "$default" ] || continue ;;
      # the soaks on those paths (about 80 s each) with the default host
      # only: what they test is the path (make asan runs test_soak_fast)
      */test_soak_*.sh:*) [ -n "$default" ] || continue ;;
    esac
    run "$(basename "$t" .sh)" env PASTREAM_LUA="$PL" sh "$t"
  done
else
  echo "skipped: tests/sh (host ${PL#$top/})"
fi

[ -z "$reruns" ] || echo "run again after a fault of the rig's JACK server:$reruns"
[ -z "$failnotes" ] || echo "failed:$failnotes"
if [ "$lane" = b ]; then
  echo "lane $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
fi
if [ -n "${lane_pid:-}" ]; then
  # the second lane's results, then the sum of both
  wait "$lane_pid"
  lane_pid=
  echo "beside them, on rigs of their own:"
  grep -v '^lane [0-9]* passed, [0-9]* failed$' "$out/lane-b.txt"
  last=$(grep '^lane [0-9]* passed, [0-9]* failed$' "$out/lane-b.txt" | tail -n 1)
  if [ -n "$last" ]; then
    set -- $last
    passed=$((passed + $2)); failed=$((failed + $4))
  else
    echo "the second lane ended without its count (tests/out/lane-b.txt)"
    failed=$((failed + 1))
  fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
