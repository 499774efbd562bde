-- A JACK server that dies under open streams (issue 15: the sequence
-- fuzzer's seed 1056, and the PortAudio abort its fault sequences used to
-- step around).  PortAudio 19.6's JACK host API cannot survive its server:
-- Pa_StopStream waits ten minutes for a callback that never comes
-- (pa_jack.c RealStop), Pa_CloseStream aborts the process (CleanUpStream:
-- Assertion `err == 0'), and so does Pa_Terminate (Terminate).  The library
-- must see that the server is gone (src/jackwatch.c) and leave PortAudio
-- alone: close returns, start and open say what happened, the program ends
-- normally.
--
-- Each case runs in a child pastream-lua on a private server that the
-- child kills; a child that hangs is killed after 20 s and fails.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local uv = require "luv"

local HOST = T.host()
local BUILD = os.getenv("PS_BUILD") or "build"
local RIG = string.format("gone-%d", math.tointeger(uv.os_getpid()))
local TIMEOUT = 20
local tmp = assert(uv.fs_mkdtemp((os.getenv("TMPDIR") or "/tmp") .. "/psgone-XXXXXX"))

local function sh(cmd) return os.execute(cmd) == true end

-- The child's prelude: the library, and the server's killer.
local PRELUDE = [[
local ps = require "pastream"
local TMP = %q
local function crash()
  assert(os.execute("scripts/jackrig.sh crash --name %s >/dev/null 2>&1"), "the crash failed")
  print("crashed")
end
local function show(...) print(table.concat({ ... }, " | ")) io.stdout:flush() end
]]

-- Run the child code on a fresh private server; returns its stdout,
-- stderr and exit status (137: killed after TIMEOUT s, a hang).
local n = 0
local function child(code)
  n = n + 1
  local dir = string.format("%s/c%d", tmp, n)
  assert(uv.fs_mkdir(dir, 448))
  local f = assert(io.open(dir .. "/child.lua", "w"))
  f:write(PRELUDE:format(dir, RIG), code)
  f:close()
  if not sh(string.format("scripts/jackrig.sh start --name %s --period 1024 --probe %s/pa_probe >%s/rig.log 2>&1",
                          RIG, BUILD, dir)) then
    return "", T.read(dir .. "/rig.log") or "", -1
  end
  local ok, how, status = os.execute(string.format(
    "JACK_DEFAULT_SERVER=%s JACK_NO_START_SERVER=1 timeout -s KILL %d %s %s/child.lua >%s/out 2>%s/err",
    RIG, TIMEOUT, HOST, dir, dir, dir))
  -- (a child that ended before its crash left the server running)
  sh(string.format("scripts/jackrig.sh stop --name %s >/dev/null 2>&1", RIG))
  return T.read(dir .. "/out") or "", T.read(dir .. "/err") or "", ok and 0 or status
end

local function verdict(name, out, err, status)
  T.ok(status ~= 137, name .. ": the program did not hang", out .. err)
  T.ok(not err:find("Assertion", 1, true), name .. ": PortAudio did not abort the process", err)
  T.eq(status, 0, name .. ": the program ended normally")
end

-- 1. The fuzzer's seed 1056, cut down: a recording into a file ends by
-- itself, the server dies before anything stopped PortAudio's stream,
-- and close waited in Pa_AbortStream for ten minutes.
T.group("seed 1056", function()
  local out, err, status = child([[
local s1 = ps.DuplexStream{device = "loopback", channels = 2, buffersize = 32768}
s1:record{frames = 4800, out = TMP .. "/f1.wav", overwrite = true, blocking = false}
while not s1.ended do ps.sleep(0.01) end
crash()
s1:close()
show("closed", ps.stream_count(), ps.file_info(TMP .. "/f1.wav").frames)
]])
  verdict("a recording that ended, then the server died: close", out, err, status)
  T.ok(out:find("closed | 0 | 4800", 1, true),
       "close returned, no stream is left, and the file holds all 4800 frames", out .. err)
end)

-- 2. Streams that are not running when the server dies: one never
-- started, one whose run ended and was stopped, one whose run ended by
-- itself.  Closing the first two aborted the process in PortAudio
-- (CleanUpStream); starting the last one waited in Pa_StopStream.
T.group("idle streams", function()
  local out, err, status = child([[
local never = ps.DuplexStream{device = "loopback", channels = 2}
local stopped = ps.InputStream{device = "loopback", channels = 2}
stopped:record{frames = 2048}
stopped:stop()
local ended = ps.OutputStream{device = "loopback", channels = 2}
ended:play(ps.Buffer(1024, 2), {blocking = false})
while not ended.ended do ps.sleep(0.01) end
crash()
never:close()
stopped:close()
show("closed idle")
local ok, e = pcall(ended.start, ended)
show("start", tostring(ok), tostring(e))
show("stop", tostring(pcall(ended.stop, ended)))
ended:close()
show("closed", ps.stream_count(), tostring(never.closed and stopped.closed and ended.closed))
local s, e2 = pcall(ps.DuplexStream, {device = "loopback", channels = 2})
show("open", tostring(s), tostring(e2))
show("end")
]])
  verdict("idle streams when the server died", out, err, status)
  T.ok(out:find("closed idle", 1, true), "closing the streams that never ran or were stopped returned", out .. err)
  T.ok(out:find("start | false | [^\n]*DeviceError"), "start raised a DeviceError", out .. err)
  T.ok(out:find("stop | true", 1, true), "stop returned", out .. err)
  T.ok(out:find("closed | 0 | true", 1, true), "the three streams closed, none left", out .. err)
  T.ok(out:find("open | false | [^\n]*the JACK server went away"),
       "a new stream says the JACK server went away", out .. err)
  T.ok(out:find("\nend\n", 1, true), "the script ran to its end", out .. err)
end)

-- 3. Every stream closed before the server dies: the program's end
-- aborted in Pa_Terminate.
T.group("exit", function()
  local out, err, status = child([[
local s = ps.DuplexStream{device = "loopback", channels = 2}
s:record{frames = 1024}
s:close()
crash()
show("end")
]])
  verdict("the program's end after the server died", out, err, status)
  T.ok(out:find("end", 1, true), "the script ran to its end", out .. err)
end)

-- the last start under this name frees the registry slot of the last kill
sh(string.format("scripts/jackrig.sh start --name %s --period 1024 --probe %s/pa_probe >/dev/null 2>&1", RIG, BUILD))
sh(string.format("scripts/jackrig.sh stop --name %s >/dev/null 2>&1", RIG))
sh("rm -rf '" .. tmp .. "'")
T.done()
