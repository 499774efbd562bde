-- The defects of issue 15, each as the sequence of calls that showed it.
-- Every group failed (or crashed) before its fix: a map wider than its
-- recording Buffer, a closed Buffer handed to C, a Pa_StartStream that
-- failed, the quiet flag of one run kept by the next, a second signal
-- after a handled one, finish_files while running, the collector closing a
-- running stream, a second producer or consumer on a ring.  Each misuse
-- must end in a clear Lua error and leave the stream usable.  Nothing here
-- depends on the rig's period.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local uv = require "luv"

local top = uv.cwd()
local PL = T.host()
local dir, P = T.tmpdir()

local function ramp(n, ch)
  local b = ps.Buffer(n, ch or 2)
  for i = 1, #b do b[i] = ((i * 7919) % 65536 - 32768) / 65536 end
  return b
end

-- C15_ONLY=N runs group N alone (to see each fail against the old code).
local only = os.getenv("C15_ONLY")
local function G(n, name, fn)
  if not only or only == n then T.group(n .. ": " .. name, fn) end
end

-- A Lua error (a string naming the problem), never a crash or an index
-- of nil.
local function clear_error(fn, pattern, name)
  local ok, err = pcall(fn)
  T.ok(not ok and type(err) == "string" and err:find(pattern) ~= nil
       and not err:find("attempt to index"), name, tostring(err))
end

G("1", "a map wider than the recording Buffer is refused at start", function()
  local s <close> = ps.InputStream{ device = "loopback", channels = 2 }
  s:set_rxbuffer(ps.Buffer(4800, 2))
  s.rxmapping = { 1, 2, 1, 2 }
  clear_error(function() s:start() end, "recording Buffer has 2 channels but the stream records 4",
    "start refuses the 4-channel map into a 2-channel Buffer")
  T.ok(not s.active, "the stream did not start")
  -- the other order: the map first, then the Buffer
  s.rxmapping = nil
  s:set_rxbuffer(nil)
  s.rxmapping = { 2, 1, 2 }
  clear_error(function() s:record{ out = ps.Buffer(4800, 2) } end, "records 3",
    "record refuses a 2-channel Buffer under a 3-channel map")
  -- and the transmit side: a map naming a channel the Buffer lacks
  local o <close> = ps.OutputStream{ device = "loopback", channels = 2 }
  o.txmapping = { 2, 1 }
  o:set_txbuffer(ps.Buffer(100, 1))
  clear_error(function() o:start() end, "playback source %(1 channel%) does not have: txmapping%[1%] is 2",
    "start refuses a txmapping wider than the playback Buffer")
  o.txmapping = nil
  clear_error(function() o:play(ps.Buffer(100, 100)) end, "playback Buffer has 100 channels; a stream plays at most 64",
    "a Buffer wider than the engine's 64 channels is refused at start")
  -- still usable: the right shapes record
  s.rxmapping = { 2, 1, 2 }
  local rec = s:record{ out = ps.Buffer(2400, 3) }
  T.eq(rec:channels(), 3, "the stream records through the map into a 3-channel Buffer")
  T.eq(s.rx_frames, 2400, "every frame of it")
end)

G("2", "a closed Buffer is refused everywhere, never used", function()
  local b = ps.Buffer(100, 2)
  getmetatable(b).__close(b)
  local s <close> = ps.DuplexStream{ device = "loopback" }
  clear_error(function() s:set_txbuffer(b) end, "freed buffer", "set_txbuffer")
  clear_error(function() s:set_rxbuffer(b) end, "freed buffer", "set_rxbuffer")
  s:open_txring(1024, 2)
  clear_error(function() s:write(b) end, "freed buffer", "s:write")
  clear_error(function() s:read(b) end, "freed buffer", "s:read")
  clear_error(function() ps.save(P("closed.wav"), b, 48000) end, "freed buffer", "ps.save")
  T.ok(not uv.fs_stat(P("closed.wav")), "ps.save made no file")
  local f = assert(ps.open(P("sf.wav"), "w", { samplerate = 48000, channels = 2 }))
  clear_error(function() f:write(b) end, "freed buffer", "SoundFile:write")
  f:close()
  local r = assert(ps.open(P("sf.wav")))
  clear_error(function() r:read(b) end, "freed buffer", "SoundFile:read")
  r:close()
  clear_error(function() return b:frames() end, "freed buffer", "b:frames")
  T.eq(tostring(b), "Buffer (freed)", "tostring still works on a closed Buffer")
end)

-- A child pastream-lua with its own JACK server, which the test kills:
-- Pa_StartStream then fails.  Prints what it saw.
local function with_private_server(script)
  local name = "c15-" .. math.tointeger(uv.os_getpid())
  local start = string.format("scripts/jackrig.sh start --name %s --period 1024 --probe build/pa_probe >/dev/null 2>&1", name)
  -- JACK allows 8 servers on a machine: when others run tests at the
  -- same time, wait for a slot (up to about a minute) rather than fail.
  local started = false
  for _ = 1, 30 do
    if os.execute(start) then started = true break end
    os.execute("sleep 2")
  end
  if not started then return nil, "the private JACK server did not start (8 servers already?)" end
  local path = P("child.lua")
  local fh = assert(io.open(path, "w"))
  fh:write((script:gsub("STOP_SERVER", string.format("scripts/jackrig.sh stop --name %s >/dev/null 2>&1", name))))
  fh:close()
  local p = io.popen(string.format("JACK_DEFAULT_SERVER=%s JACK_NO_START_SERVER=1 timeout 60 %s %s 2>&1",
    name, PL, path))
  local out = p:read("a")
  p:close()
  os.execute(string.format("scripts/jackrig.sh stop --name %s >/dev/null 2>&1", name))
  return out
end

G("5", "a start that PortAudio refuses leaves the stream stopped", function()
  local out, err = with_private_server([[
local ps = require "pastream"
local s = ps.OutputStream{ device = "loopback" }
s:_watchdog(0.3)
os.execute("STOP_SERVER")
local ok1, e1 = pcall(s.start, s)
print("first", ok1, e1)
print("active", s.active, "ended", s.ended)
local ok2, e2 = pcall(s.start, s)
print("second", ok2, e2)
s:close()
print("closed", ps.stream_count())
]])
  T.ok(out and out:find("first\tfalse\t[^\n]*cannot start the stream"), "start raises PortAudio's refusal", out or err)
  T.ok(out and out:find("active\tfalse\tended\ttrue"), "the stream is not active and has ended", out)
  T.ok(out and out:find("second\tfalse") and not out:find("already running"),
    "a second start fails the same way, not with 'already running'", out)
  T.ok(out and out:find("closed\t0"), "close closes it", out)
end)

G("6", "the quiet flag of one run does not stick to the next", function()
  local s <close> = ps.OutputStream{ device = "loopback" }
  s:play(ramp(2400))
  local total, n = 48000 * 2, 0
  s:set_source(function(buf)
    local want = math.min(buf:frames(), total - n)
    n = n + want
    return want
  end)
  s:start()
  local ok, err = pcall(s.wait, s)
  T.ok(ok, "a Lua source after a Buffer play runs to its end", err)
  T.eq(s.tx_frames, total, "every frame of the source played")
end)

G("7", "each SIGINT a script handles is a first one", function()
  local path = P("sig.lua")
  local fh = assert(io.open(path, "w"))
  fh:write([[
local ps = require "pastream"
local uv = require "luv"
local n = 0
ps.on_signal = function() n = n + 1 end
for _ = 1, 3 do
  uv.kill(uv.os_getpid(), "sigint")
  ps.sleep(0.2)
end
print("handled", n)
]])
  fh:close()
  local p = io.popen(string.format("timeout 20 %s %s 2>&1; echo status $?", PL, path))
  local out = p:read("a")
  p:close()
  T.ok(out:find("handled%s3"), "three signals, three calls of ps.on_signal", out)
  T.ok(out:find("status 0"), "and the script ends normally", out)
end)

G("8", "finish_files is refused while the stream runs", function()
  local s <close> = ps.InputStream{ device = "loopback" }
  s:record{ frames = 48000, out = P("rec8.wav"), blocking = false }
  clear_error(function() s:finish_files() end, "cannot finish the files while the stream is active",
    "finish_files during the run")
  T.ok(s:wait(), "the run ends normally")
  local info = ps.file_info(P("rec8.wav"))
  T.eq(info and info.frames, 48000, "and the file holds every frame")
end)

G("9", "a running stream nobody references keeps running", function()
  local weak = setmetatable({}, { __mode = "v" })
  do
    local o = ps.OutputStream{ device = "loopback" }
    o:play(ramp(48000 // 2), { blocking = false })
    weak[1] = o
  end
  collectgarbage(); collectgarbage()
  T.ok(weak[1] ~= nil and weak[1].active, "the collector leaves the running stream alone")
  T.eq(ps.stream_count(), 1, "it is still open")
  -- the half second of audio ends; the watchdog (every 200 ms) lets it go
  for _ = 1, 50 do
    ps.sleep(0.2)
    collectgarbage(); collectgarbage()
    if weak[1] == nil then break end
  end
  T.ok(weak[1] == nil, "once ended it is collected")
  T.eq(ps.stream_count(), 0, "and closed")
end)

G("10", "one producer and one consumer per ring", function()
  local src = P("src10.wav")
  assert(ps.save(src, ramp(4800), 48000))
  local s <close> = ps.DuplexStream{ device = "loopback" }
  assert(s:attach_reader(src, 8192, {}))
  clear_error(function() s:write(ps.Buffer(10, 2)) end, "disk thread fills it", "s:write into a file's ring")
  clear_error(function() s:reset_txring() end, "disk thread fills it", "reset_txring under a file's reader")
  clear_error(function() s:set_eof() end, "disk thread", "set_eof under a file's reader")
  assert(s:attach_writer(P("rec10.wav"), 8192, {}))
  clear_error(function() s:read(ps.Buffer(10, 2)) end, "disk thread drains it", "s:read from a file's ring")
  s:configure{ frames = 4800 }
  s:start()
  s:wait()
  T.eq(ps.file_info(P("rec10.wav")).frames, 4800, "the file run is whole after the refusals")
end)

G("12", "a recording into an integer file dithers only when asked", function()
  local s <close> = ps.DuplexStream{ device = "loopback" }
  local M = 48000
  local b = ps.Buffer(M, 2)
  for i = 1, #b do b[i] = 0.3 / 32768 end   -- a third of an LSB of pcm_16
  local function run(name, dither)
    s:playrec(b, { frames = M, out = P(name), overwrite = true,
                   output_file = { subtype = "pcm_16", dither = dither } })
    local r = ps.load(P(name))
    local nonzero, far = 0, 0
    for i = 1, #r do
      if r[i] ~= 0 then nonzero = nonzero + 1 end
      if math.abs(r[i] * 32768) > 1 then far = far + 1 end
    end
    return nonzero, far
  end
  local nz, far = run("plain.wav", nil)
  T.eq(nz, 0, "without dither every sample rounds to 0")
  nz, far = run("dither.wav", true)
  T.ok(nz > M / 10, "with dither = true the disk writer dithers (" .. nz .. " samples not 0)")
  T.eq(far, 0, "within one LSB")
end)

T.rmtree(dir)
T.done()
