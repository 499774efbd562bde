-- Faults inside one process, on the shared rig: a stream closed inside its
-- own chunk loop, the last reference to a running stream dropped, a Lua
-- error in a sink while someone waits, a stream that stops calling back
-- (the watchdog), and what an abandoned stream still allows.  The server
-- killed under a stream is tests/sh/test_faults.sh (it needs its own rig).
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"

-- Seeded float32 noise, stereo.
local function noise(n, seed)
  local b, x = ps.Buffer(n, 2), seed
  for f = 1, n do
    for c = 1, 2 do
      x = (x * 1103515245 + 12345) % 2147483648
      b:sample(f, c, x / 2147483648 - 0.5)
    end
  end
  return b
end

-- The device still works: a short playrec through loopback comes back
-- bit-exact after the round trip.
local function device_works(what)
  local d <close> = ps.DuplexStream{ device = "loopback" }
  local src = noise(4800, 7)
  local rt = d:roundtrip_frames()
  local rec = d:playrec(src, { frames = 4800 + rt, pad = -1 })
  T.ok(rec:sub(rt + 1, 4800 + rt):equals(src), what .. ": loopback still plays and records bit-exact")
end

T.group("a stream closed inside its own chunk loop", function()
  local s = ps.DuplexStream{ device = "loopback" }
  local n = 0
  local ok, err = pcall(function()
    for chunk in s:chunks{ chunksize = 256 } do
      n = n + 1
      if n == 10 then s:close() end
    end
  end)
  T.ok(ok, "the loop ends without an error", err)
  T.eq(n, 10, "no chunk after the close")
  T.ok(s.closed, "the stream is closed")
  device_works("after closing in the loop")
end)

T.group("the last reference to a running stream dropped", function()
  local weak = setmetatable({}, { __mode = "v" })
  do
    local o = ps.OutputStream{ device = "loopback" }
    o:play(noise(48000 // 2, 3), { blocking = false })
    T.ok(o.active, "the stream runs")
    weak[1] = o
  end
  -- A running stream is anchored (as luv anchors an active handle) until
  -- its run ends: the collector takes it only then.
  collectgarbage(); collectgarbage()
  T.ok(weak[1] ~= nil and weak[1].active, "the collector leaves it running")
  for _ = 1, 50 do                -- the run ends; the watchdog (200 ms) lets it go
    ps.sleep(0.2)
    collectgarbage(); collectgarbage()
    if weak[1] == nil then break end
  end
  T.ok(weak[1] == nil, "once its run ended the collector took it (and closed it)")
  device_works("after the collector closed a stream")
end)

T.group("an error in a sink goes to the one waiting, once", function()
  local d <close> = ps.DuplexStream{ device = "loopback" }
  local calls = 0
  local ok, err = pcall(d.record, d, { frames = 48000, out = function(buf)
    calls = calls + 1
    error("sink broke")
  end })
  T.ok(not ok and tostring(err):find("sink broke", 1, true), "record raises the sink's error", err)
  T.ok(tostring(err):find("stack traceback", 1, true), "with the sink's traceback")
  T.eq(calls, 1, "the sink is not called again after its error")
  T.ok(not d.active, "the stream is stopped")
  -- the program goes on: nothing else raises the error again
  ps.sleep(0.1)
  T.ok(true, "the error did not end the program")
  local rec = d:record{ frames = 1000 }
  T.eq(rec:frames(), 1000, "the same stream records again")
end)

T.group("an error in a source while recording to a file: the file is finalized", function()
  local path = os.tmpname()
  os.remove(path)             -- only its name: no empty file left behind
  path = path .. ".wav"
  -- a small ring: the source is asked for more as the audio plays
  local d <close> = ps.DuplexStream{ device = "loopback", buffersize = 4096 }
  local src, pos = noise(48000, 5), 0
  local ok, err = pcall(d.playrec, d, function(buf)
    if pos >= 24000 then error("source broke") end
    local n = math.min(buf:frames(), 48000 - pos)
    buf:copyfrom(src, 1, pos + 1, n)
    pos = pos + n
    return n
  end, { out = path })
  T.ok(not ok and tostring(err):find("source broke", 1, true), "playrec raises the source's error", err)
  local rec = ps.load(path)
  T.ok(rec ~= nil, "the recording is a finished file that opens")
  local n = rec and rec:frames() or 0
  local rt = d:roundtrip_frames()
  T.eq(n, d.rx_frames, "it holds every frame the stream recorded")
  T.ok(n > rt and rec:sub(rt + 1, n):equals(src:sub(1, n - rt)),
    "and they are the played ones, bit-exact (" .. n .. " frames)")
  os.remove(path)
end)

T.group("the watchdog option", function()
  T.raises(function() ps.DuplexStream{ device = "loopback", watchdog = -1 } end,
    "watchdog must be seconds > 0 or false, got -1", "a negative watchdog is refused")
  T.raises(function() ps.DuplexStream{ device = "loopback", watchdog = "soon" } end,
    "watchdog must be seconds > 0 or false, got soon", "a watchdog that is no number is refused")
  -- A live stream is never taken for a dead one, even with a short limit:
  -- 50 ms, or 2.5 periods of a rig with a longer period.
  local probe <close> = ps.DuplexStream{ device = "loopback" }
  local rt = probe:roundtrip_frames()
  local limit = math.max(0.05, 2.5 * rt / probe.samplerate)
  probe:close()
  local d <close> = ps.DuplexStream{ device = "loopback", watchdog = limit }
  local src = noise(48000, 11)
  local rec = d:playrec(src, { frames = 48000 + rt, pad = -1 })
  T.eq(d.status, "complete", string.format("a second of audio with a %d ms watchdog completes", limit * 1000 // 1))
  T.ok(rec:sub(rt + 1, 48000 + rt):equals(src), "and every frame is there, bit-exact")
  device_works("after the watchdog run")
end)

T.done()
