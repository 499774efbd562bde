# The pastream-lua host: options, arg, stdin, errors, tasks and signals.
. tests/sh/tap.sh
PL=${PASTREAM_LUA:-./pastream-lua}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$($PL -v)
for lib in pastream-lua PortAudio libsndfile Lua libuv; do
  check "-v names $lib" contains "$out" "$lib"
done
check "-v prints the Lua version" contains "$out" "Lua 5.4"

check_eq "-e runs code" "$($PL -e 'print(1 + 1)')" "2"
check_eq "several -e run in order" "$($PL -e 'x = 3' -e 'print(x * 2)')" "6"

# Start-up: the host links Lua, luv and libuv only; PortAudio and libsndfile
# come with the C core (pastream/core.so), loaded by the first require
# "pastream", and a script that never requires it never loads them nor
# compiles init.lua (issue 7: pastream-lua -e '' within 2x of lua5.4 -e '').
maps='local m = io.open("/proc/self/maps"):read("a")
  print(m:find("libportaudio", 1, true) and "portaudio" or "-", m:find("libsndfile", 1, true) and "sndfile" or "-",
        m:find("/pastream/core.so", 1, true) and "core" or "-")'
check_eq "-e '' loads neither PortAudio, libsndfile nor the core" "$($PL -e "$maps")" "$(printf -- '-\t-\t-')"
check_eq "-e '' loads neither pastream nor pastream.core" \
  "$($PL -e 'print(package.loaded.pastream, package.loaded["pastream.core"])')" "$(printf 'nil\tnil')"
check_eq "require \"pastream\" loads the core with PortAudio and libsndfile" \
  "$($PL -e 'require "pastream"' -e "$maps")" "$(printf 'portaudio\tsndfile\tcore')"
check "the host's executable links no PortAudio nor libsndfile" \
  sh -c "! ldd '$(command -v "$PL")' | grep -Eq 'libportaudio|libsndfile'"
# the tree's host takes build/pastream/core.so, a sanitizer build's host
# (build-asan/pastream-lua) the core.so built with it
bindir=$(dirname "$(command -v "$PL")")
own=$bindir/build/pastream/core.so; [ -f "$own" ] || own=$bindir/pastream/core.so
out=$($PL -e 'print(package.searchpath("pastream.core", package.cpath))')
check_eq "the host finds the core.so built with it first on package.cpath" "$(realpath "$out")" "$(realpath "$own")"

printf 'print(arg[0], arg[1], arg[2], #arg, ...)\n' >"$tmp/args.lua"
check_eq "arg and ... as lua sets them" "$($PL "$tmp/args.lua" a 'b c')" "$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$tmp/args.lua" a 'b c' 2 a 'b c')"
check_eq "- runs the script from stdin" "$(echo 'print(arg[0], arg[1])' | $PL - x)" "$(printf -- '-\tx')"

printf 'local function f() error("boom") end\nf()\n' >"$tmp/err.lua"
err=$($PL "$tmp/err.lua" 2>&1); rc=$?
check_eq "an uncaught error exits 1" "$rc" "1"
check "the error names file and line" contains "$err" "err.lua:1: boom"
check "the error has a traceback" contains "$err" "stack traceback"

$PL "$tmp/missing.lua" 2>"$tmp/e"; rc=$?
check_eq "a missing script exits 1" "$rc" "1"
check "a missing script is named" contains "$(cat "$tmp/e")" "missing.lua"

$PL --bogus 2>"$tmp/e"; rc=$?
check_eq "an unknown option exits 1" "$rc" "1"
check "an unknown option is named" contains "$(cat "$tmp/e")" "'--bogus'"

cat >"$tmp/tasks.lua" <<'LUA'
local ps = require "pastream"
local order = {}
ps.spawn(function() ps.sleep(0.05) order[#order + 1] = "b" end)
ps.spawn(function() order[#order + 1] = "a" ps.sleep(0.1) order[#order + 1] = "c"
  print(table.concat(order)) end)
LUA
check_eq "tasks interleave on sleep, loop runs until all end" "$($PL "$tmp/tasks.lua")" "abc"

cat >"$tmp/taskerr.lua" <<'LUA'
local ps = require "pastream"
ps.spawn(function() ps.sleep(0.01) error("task failed") end)
ps.sleep(1)
print("not reached")
LUA
err=$($PL "$tmp/taskerr.lua" 2>&1); rc=$?
check_eq "an error in a task exits 1" "$rc" "1"
check "the task error names the task's file and line" contains "$err" "taskerr.lua:2: task failed"
check "the script stopped at the task error" test "$(printf '%s' "$err" | grep -c 'not reached')" = 0

# A stream playing forever; the signal must close it and exit 128 + signo.
cat >"$tmp/forever.lua" <<'LUA'
local ps = require "pastream"
local s = ps.OutputStream{ device = "loopback" }
print("started") io.stdout:flush()
s:play(ps.Buffer(4800, 2), { loop = true })
LUA
for sig in INT TERM; do
  $PL "$tmp/forever.lua" >"$tmp/o" 2>"$tmp/e" &
  pid=$!
  i=0; while [ $i -lt 100 ] && ! grep -q started "$tmp/o"; do sleep 0.1; i=$((i + 1)); done
  sleep 0.3
  kill -$sig $pid
  t0=$(date +%s%N)
  # a hang guard, not a timing verdict: the script must end by itself
  i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  hung=0; kill -0 $pid 2>/dev/null && { hung=1; kill -KILL $pid; }
  wait $pid; rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  want=130; [ $sig = TERM ] && want=143
  check_eq "SIG$sig exits $want" "$rc" "$want"
  check "SIG$sig says it was interrupted" contains "$(cat "$tmp/e")" "interrupted"
  check_eq "SIG$sig ends the script (it did not hang for 30 s)" "$hung" 0
  echo "# SIG$sig: stopped in $ms ms (timing, not checked)"
done

# A recording still running when the script ends: the core closes every
# stream when the host closes Lua (and then PortAudio), and the file is
# finalized with the frames recorded so far.
cat >"$tmp/leftopen.lua" <<LUA
local ps = require "pastream"
local s = ps.InputStream{ device = "loopback", channels = 2 }
s:record{ frames = -1, out = "$tmp/leftopen.wav", blocking = false }
while s.frame_count < 4800 do ps.sleep(0.01) end   -- a tenth of a second recorded
print(ps.stream_count())
LUA
check_eq "a recording left running at the end of the script" "$($PL "$tmp/leftopen.lua" 2>&1)" "1"
frames=$($PL -e "local i = assert(require('pastream').file_info('$tmp/leftopen.wav')) print(i.frames)")
check "is finalized at exit with its frames (got ${frames:-none} frames)" test "${frames:-0}" -ge 4800

# A wait that timed out leaves nobody waiting for the engine: the script
# then ends, and with it the stream, rather than running on to the end of a
# 10 s recording.
cat >"$tmp/timedout.lua" <<LUA
local ps = require "pastream"
local s = ps.InputStream{ device = "loopback", channels = 2 }
s:record{ frames = 480000, out = "$tmp/timedout.wav", blocking = false }
while s.frame_count == 0 do ps.sleep(0.01) end   -- the audio has begun
print(s:wait(0.2))
LUA
check_eq "wait(0.2) on a 10 s recording times out" "$($PL "$tmp/timedout.lua" 2>&1)" "false"
frames=$($PL -e "local i = assert(require('pastream').file_info('$tmp/timedout.wav')) print(i.frames)")
check "... and the script ends then, with part of the recording (got ${frames:-none} of 480000 frames)" \
  test "${frames:-480000}" -lt 480000 -a "${frames:-0}" -gt 0

# A script busy in a loop never lets the loop see the first signal: the
# second one must end it at once.
printf 'print("busy") io.stdout:flush()\nwhile true do end\n' >"$tmp/busy.lua"
$PL "$tmp/busy.lua" >"$tmp/o" 2>"$tmp/e" &
pid=$!
i=0; while [ $i -lt 100 ] && ! grep -q busy "$tmp/o"; do sleep 0.1; i=$((i + 1)); done
kill -INT $pid; sleep 0.3; kill -INT $pid
t0=$(date +%s)
wait $pid; rc=$?
check_eq "a second SIGINT ends a script busy in a loop (exit 130)" "$rc" "130"

echo "# $tap_n checks"
