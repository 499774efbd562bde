#!/bin/sh
# make gcstress: every Lua test (tests/lua/test_*.lua) with the garbage
# collector running all the time (tests/gcstress.lua, loaded through
# pastream-lua -e before the test script; production defaults unchanged).
# An object that C code uses but nothing anchors is then freed within a few
# allocations, so such a bug fails the test instead of hiding.  Prints the
# collection cycles each test went through (from the logs in
# tests/out/gcstress) and ends with tests/run.sh's "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
start=$(date +%s)
out=tests/out/gcstress
rm -rf "$out"; mkdir -p build/gcstress "$out"
# The host wrapper: tests/run.sh takes one program as PASTREAM_LUA.
cat >build/gcstress/pastream-lua <<EOS
#!/bin/sh
exec "$top/pastream-lua" -e 'dofile "$top/tests/gcstress.lua"' "\$@"
EOS
chmod +x build/gcstress/pastream-lua
# Lua allocates about 50x slower under this collector (test_garbage_fast:
# 346 MB/s normally, 7 MB/s here): a test that measures an allocation rate
# scales its floor by PS_SLOWDOWN.
# The soak runs 2 minutes of audio here, not 10: what this run looks for
# (a collected object still in use) shows in the first minute, and every
# minute on the rig is another chance of a fault of the rig's server
# (README, "Tests and the test rig").
# (the rigs at twice their own periods, as under ASan: the Lua thread is
# the slow one here, and a longer period gives its wake-ups more room)
PS_RIG_PERIOD=${PS_RIG_PERIOD:-2048} PS_FAST_PERIOD=${PS_FAST_PERIOD:-16384} \
PS_SOAK_MINUTES=${PS_SOAK_MINUTES:-2} PS_SLOWDOWN=${PS_SLOWDOWN:-50} PS_OUT=$out \
  PASTREAM_LUA=$top/build/gcstress/pastream-lua tests/run.sh "${1:-test_}"
rc=$?
total=0
for f in "$out"/test_*.log; do
  c=$(sed -n 's/^# gcstress: \([0-9]*\) collection cycles$/\1/p' "$f" | tail -1)
  printf '  %-36s %8s collection cycles\n' "$(basename "$f" .log)" "${c:-none}"
  [ -n "$c" ] || { echo "  (no cycle count: the test did not end normally)"; rc=1; continue; }
  total=$((total + c))
done
echo "gcstress: $total collection cycles in all, $(( $(date +%s) - start ))s"
exit $rc
