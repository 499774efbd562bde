-- The helpers that generated sequences call (tests/lua/test_sequences.lua):
-- they appear in the printed sequences as H.something, so each one is
-- small and does exactly what its name says.  Sources and sinks that
-- misbehave on purpose raise errors that contain DELIBERATE, so that the
-- checker can tell a script's own error, which may legitimately end a run
-- or the program, from an error of the library.
local ps = require "pastream"
local uv = require "luv"

local H = {}
H.DELIBERATE = "seqfuzz: deliberate error"

--- A Buffer of n frames x ch channels of seeded noise in -0.5..0.5.
function H.noise(n, ch, fmt)
  local b = ps.Buffer(n, ch, fmt)
  local x = n * 7 + ch
  for i = 1, #b do
    x = (x * 1103515245 + 12345) % 2147483648
    b[i] = x / 2147483648 - 0.5
  end
  return b
end

-- Write noise into buf (a source's buffer, reused between calls).
local function fill(buf)
  for i = 1, #buf do buf[i] = ((i * 7919) % 1000) / 2000 - 0.25 end
end

--- H.source(kind, arg): a Lua source function (see Stream:set_source):
--   "infinite"      fills every buffer and never ends
--   "finite", n     n frames in all, then ends
--   "error", k      raises a deliberate error on its k-th call
--   "yield"         yields its task (ps.yield) before filling; never ends
--   "closer", s     closes its own stream s on its 2nd call (and fills)
function H.source(kind, arg)
  local calls, left = 0, arg
  return function(buf)
    calls = calls + 1
    if kind == "finite" then
      local n = math.min(left, buf:frames())
      left = left - n
      fill(buf)
      return n
    elseif kind == "error" then
      if calls >= arg then error(H.DELIBERATE .. " in a source (call " .. calls .. ")") end
    elseif kind == "yield" then
      ps.yield()
    elseif kind == "closer" then
      if calls == 2 and arg then arg:close() end
    end
    fill(buf)
    return buf:frames()
  end
end

--- H.sink(kind, arg): a Lua sink function (see Stream:set_sink):
--   "count"         counts the frames it gets
--   "error", k      raises a deliberate error on its k-th call
--   "yield"         yields its task (ps.yield) on every call
--   "closer", s     closes its own stream s on its 2nd call
function H.sink(kind, arg)
  local calls = 0
  return function(buf)
    calls = calls + 1
    if kind == "error" and calls >= arg then
      error(H.DELIBERATE .. " in a sink (call " .. calls .. ")")
    elseif kind == "yield" then
      ps.yield()
    elseif kind == "closer" and calls == 2 and arg then
      arg:close()
    end
    H.sunk = (H.sunk or 0) + buf:frames()
  end
end

--- A luv timer whose callback raises a deliberate error after ms.
function H.timer_error(ms)
  local t = uv.new_timer()
  t:start(ms, 0, function()
    t:close()
    error(H.DELIBERATE .. " in a luv timer callback")
  end)
end

--- ps.on_signal hooks: "error" raises, "count" counts the signals it sees.
H.signals = 0
function H.signal_hook(kind)
  return function(name)
    H.signals = H.signals + 1
    if kind == "error" then error(H.DELIBERATE .. " in ps.on_signal (" .. tostring(name) .. ")") end
  end
end

--- Send SIGINT to this process, then let the loop see it.
function H.sigint()
  uv.kill(uv.os_getpid(), "sigint")
  ps.sleep(0.1)
end

--- An offline chunk loop that overwrites path (file:chunks{out = path,
-- overwrite = true}) and fails in its body at chunk k: path must keep
-- what it held before.
function H.overwrite_fails(path, k)
  local input = path:gsub("[^/]*$", "") .. "in.wav"
  assert(ps.save(input, H.noise(20000, 2), 48000))
  local n = 0
  for _ in ps.chunks{ input = input, out = path, overwrite = true, chunksize = 1024 } do
    n = n + 1
    if n == k then error(H.DELIBERATE .. " in the body of a file chunk loop") end
  end
end

--- Kill the private JACK server this sequence runs on (fault sequences
-- only: the runner starts a rig of their own and names it in
-- PS_SEQ_FAULT_RIG), as a crash or an unplugged device would.  The
-- streams are left as they are, idle or running: closing an idle one
-- after its server died used to abort the process inside PortAudio
-- (pa_jack.c CleanUpStream: Assertion `err == 0'; seed 40), and stopping
-- one whose run had ended by itself to wait ten minutes (seed 1056); see
-- src/jackwatch.h and tests/lua/test_c15_server_gone.lua.  (The streams
-- are arguments so that the printed step names them.)
function H.crash_rig(...)
  local rig = os.getenv("PS_SEQ_FAULT_RIG")
  assert(rig, "H.crash_rig: this sequence does not run on a private rig")
  local ok = os.execute("scripts/jackrig.sh crash --name '" .. rig .. "' >/dev/null 2>&1")
  assert(ok, "H.crash_rig: scripts/jackrig.sh crash failed")
end

return H
