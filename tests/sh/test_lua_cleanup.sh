# The Lua side ends well (issue 16): closing a stream with a Lua source or
# sink, errors in sources, sinks, luv callbacks and signal hooks, waits
# after close or inside a callback, ps.main inside pastream-lua, and
# structured tasks.  Each case is a small script run by the host, so a
# crash, a hang (timeout) or luv's exit(-1) shows as its exit status.
. tests/sh/tap.sh
PL=${PASTREAM_LUA:-./pastream-lua}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
T=20      # seconds before a case counts as hung

# interrupt PID READY...: SIGINT to PID once the command READY succeeds
# (the script has got to where the case begins) and a little audio has run;
# sets rc.  (The process is run directly, not under timeout(1), which would
# take the signal itself; a guard kills it if it hangs.)
interrupt() {
  ( sleep $T; kill -KILL $1 2>/dev/null ) &
  guard=$!
  pid=$1; shift
  wait_until $T "$@"
  sleep 0.3
  kill -INT $pid
  wait $pid; rc=$?
  kill $guard 2>/dev/null; wait $guard 2>/dev/null
}

# runs NAME SCRIPT [ARGS]: run the script under the host with a timeout;
# sets rc, out (stdout) and err (stderr).
runs() {
  name=$1; shift
  printf '%s\n' "$1" >"$tmp/$name.lua"; shift
  timeout -s KILL $T $PL "$tmp/$name.lua" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?
  out=$(cat "$tmp/out"); err=$(cat "$tmp/err")
}

# --- 1. closing a stream that has a Lua source or sink ---------------------
runs close_play '
local ps = require "pastream"
do
  local s <close> = ps.OutputStream{ device = "loopback" }
  s:play(function(b) b:fill(0) end, { blocking = false })
  ps.sleep(0.2)
  s:stop()
end
ps.sleep(0.3)
print("survived")'
check_eq "play(fn, non-blocking), stop, <close>: exit 0" "$rc" 0
check_eq "play(fn, non-blocking), stop, <close>: the script goes on" "$out" survived

runs close_chunks '
local ps = require "pastream"
for c in ps.chunks{ device = "loopback", playback = function(b) b:fill(0) end } do break end
ps.sleep(0.3)
print("survived")'
check_eq "break out of ps.chunks{playback = fn}: exit 0" "$rc" 0
check_eq "break out of ps.chunks{playback = fn}: the script goes on" "$out" survived

runs close_sink '
local ps = require "pastream"
local s = ps.InputStream{ device = "loopback" }
local n = 0
s:record{ out = function(b) n = n + b:frames() end, blocking = false }
-- close once the sink has run (a slow host, ASan at a long period, may
-- take longer than any fixed sleep), with a hang guard
local t0 = os.time()
while n == 0 and os.time() - t0 < 30 do ps.sleep(0.01) end
s:close()
ps.sleep(0.3)
print(n > 0, s.closed, s.ended)'
check_eq "record{out = fn, non-blocking}, close: exit 0" "$rc" 0
check_eq "record{out = fn}, close: the sink ran, closed and ended are true" "$out" "$(printf 'true\ttrue\ttrue')"

# the shipped recipe, live, ended by Ctrl-C
$PL filter.lua -D loopback -t lowpass -f 1000 >"$tmp/out" 2>"$tmp/err" &
interrupt $! jack_client "pastream-$!"     # its stream is open
check_eq "filter.lua -D loopback, then SIGINT: exit 0" "$rc" 0
check "filter.lua -D loopback, then SIGINT: it says what it filtered" contains "$(cat "$tmp/out")" "filtered"

# --- 3. a wait on a closed stream -----------------------------------------
runs wait_closed '
local ps = require "pastream"
local s = ps.OutputStream{ device = "loopback" }
s:play(ps.Buffer(4800, 2), { blocking = false })
s:wait()
s:close()
local ok, err = pcall(function() s:wait() end)
print(ok, err)'
check_eq "wait after close: exit 0 (no hang)" "$rc" 0
check_eq "wait after close raises at the caller's line" "$out" "$(printf 'false\t%s:7: attempt to use a closed stream' "$tmp/wait_closed.lua")"

runs wait_closed_idle '
local ps = require "pastream"
local s = ps.OutputStream{ device = "loopback" }
s:close()
print(s.ended, pcall(s.wait, s))'
check_eq "wait on a stream closed before it ran: exit 0 (no hang)" "$rc" 0
check_eq "ended is true, wait raises" "$out" "$(printf 'true\tfalse\tattempt to use a closed stream')"

# --- 4. errors in luv callbacks and signal hooks --------------------------
# The recording must be complete up to its stop: a <close> handler stops the
# stream and prints the frames it received; the file must hold them all.
frames_of() { $PL -e "print(require('pastream').file_info('$1').frames)"; }

cat >"$tmp/sighook.lua" <<'LUA'
local ps = require "pastream"
local s <close> = ps.InputStream{ device = "loopback" }
ps.on_signal = function() error("the hook broke") end
local stop <close> = setmetatable({}, { __close = function()
  s:stop()
  print(s.rx_frames)
end })
s:record{ out = arg[1], frames = 48000 * 8 }
LUA
$PL "$tmp/sighook.lua" "$tmp/sig.wav" >"$tmp/out" 2>"$tmp/err" &
interrupt $! bigger "$tmp/sig.wav" 0       # recording, the hook set before
check_eq "ps.on_signal raising during a recording: exit 1 (not luv's 255)" "$rc" 1
check "the hook's error is reported" contains "$(cat "$tmp/err")" "the hook broke"
check_eq "the hook's error is reported once" "$(grep -c 'the hook broke' "$tmp/err")" 1
check_eq "the <close> handlers ran and the file holds every frame received" \
  "$(frames_of "$tmp/sig.wav")" "$(cat "$tmp/out")"

# Under plain lua5.4 the loop runs inside the script's waits: Ctrl-C must
# reach the loop's handler, not lua.c's hook inside a luv callback.
# (lua5.4 itself is not built with a sanitizer, so it loads the plain
# build's core even when PS_BUILD names a sanitizer build)
B=build
LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;" LUA_CPATH="$PWD/$B/?.so;;" \
  lua5.4 "$tmp/sighook.lua" "$tmp/sig54.wav" >"$tmp/out" 2>"$tmp/err" &
interrupt $! bigger "$tmp/sig54.wav" 0
check_eq "lua5.4: ps.on_signal raising during a recording: exit 1 (not luv's 255)" "$rc" 1
check "lua5.4: the hook's error is reported" contains "$(cat "$tmp/err")" "the hook broke"
check_eq "lua5.4: the file holds every frame received" "$(frames_of "$tmp/sig54.wav")" "$(cat "$tmp/out")"

runs timer_error '
local ps = require "pastream"
local uv = require "luv"
local s <close> = ps.InputStream{ device = "loopback" }
local stop <close> = setmetatable({}, { __close = function()
  s:stop()
  print(s.rx_frames)
end })
local t = uv.new_timer()
t:start(1000, 0, function() error("the timer broke") end)
s:record{ out = arg[1], frames = 48000 * 8 }' "$tmp/timer.wav"
check_eq "a luv timer callback raising during a recording: exit 1 (not luv's 255)" "$rc" 1
check "the callback's error is reported" contains "$err" "the timer broke"
check "not as luv's uncaught error" sh -c "! grep -q 'Uncaught Error' '$tmp/err'"
check_eq "the file holds every frame received" "$(frames_of "$tmp/timer.wav")" "$out"

# --- 5. ps.main inside pastream-lua ---------------------------------------
runs main '
local ps = require "pastream"
ps.main(function()
  ps.spawn(function() ps.sleep(0.1) print("other") end)
  ps.sleep(0.05)
  print("main")
end)
print("after")'
check_eq "ps.main(fn) under pastream-lua: exit 0" "$rc" 0
check_eq "ps.main runs fn and returns when every task has ended" "$out" "$(printf 'main\nother\nafter')"

# --- 8. wake-ups ----------------------------------------------------------
runs sync_wake '
local task = require "pastream.task"
print(task.suspend(function(w) w(1, 2) end))'
check_eq "a wake-up given at once, inside arm: exit 0" "$rc" 0
check_eq "a wake-up given at once returns its values" "$out" "$(printf '1\t2')"

runs stale_wake '
local task = require "pastream.task"
local uv = require "luv"
local function after(ms, fn) local t = uv.new_timer() t:start(ms, 0, function() t:close() fn() end) end
local stale
task.spawn(function()
  task.suspend(function(w) stale = w after(10, function() w("first") end) end)
  after(60, function() stale("stale") end)
  print(task.suspend(function(w) after(200, function() w("second") end) end))
end)'
check_eq "an earlier wait's wake-up called late: exit 0" "$rc" 0
check_eq "it does not resume the task in a later wait" "$out" "second"

runs nested_wait '
local ps = require "pastream"
local uv = require "luv"
local entered = 0
local t = uv.new_timer()
t:start(10, 10, function()
  entered = entered + 1
  if entered > 1 then io.stderr:write("re-entered\n") t:stop() return end
  ps.sleep(0.2)
end)
ps.sleep(0.5)
t:close()'
check_eq "ps.sleep inside a luv callback: the script ends with an error" "$rc" 1
check "the error says a wait inside a luv callback is refused" contains "$err" "cannot wait inside a luv callback"
check "the callback was not re-entered (no nested loop)" sh -c "! grep -q 're-entered' '$tmp/err'"

# --- 12. structured tasks -------------------------------------------------
runs failing_task '
local ps = require "pastream"
ps.spawn(function()
  local c <close> = setmetatable({}, { __close = function() print("other task closed") end })
  ps.sleep(5)
end)
ps.spawn(function() ps.sleep(0.05) error("task broke") end)
local c <close> = setmetatable({}, { __close = function() print("main closed") end })
ps.sleep(5)'
check_eq "a task that fails ends the program: exit 1" "$rc" 1
check "with its error" contains "$err" "task broke"
check_eq "the error is reported once" "$(grep -c 'task broke' "$tmp/err")" 1
check "the other tasks were closed: their <close> ran" contains "$out" "other task closed"
check "the script's own <close> ran" contains "$out" "main closed"

runs join_cancel '
local ps = require "pastream"
local a = ps.spawn(function(x) ps.sleep(0.05) return x * 2, "ok" end, 21)
print(a:join())
local b = ps.spawn(function() ps.sleep(0.05) error("joined error") end)
local ok, err = pcall(b.join, b)
print(ok, err:match("joined error"))
local closed = false
local c = ps.spawn(function()
  local x <close> = setmetatable({}, { __close = function() closed = true end })
  ps.sleep(10)
end)
print(c:cancel(), closed, c.state, c:join())'
check_eq "join and cancel: exit 0" "$rc" 0
check_eq "join returns the results, raises the error; cancel runs <close>" "$out" \
  "$(printf '42\tok\nfalse\tjoined error\ntrue\ttrue\tcancelled\tnil\tcancelled')"

echo "1..$tap_n"
