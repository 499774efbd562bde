-- A live through-path for effects (issue 17, point 10): s:process(body,
-- {chunksize}) plays each input chunk, as the body leaves it, a fixed time
-- later: the round trip + one chunk + the stated margin.
--
-- The rig's loopback device brings the output back at the input one round
-- trip later, so the body is its own signal generator: it plays a known
-- signal on channel 1 and the input's channel 1, times 0.5, on channel 2.
-- What comes back on channel 1 shows when the signal was played; what
-- comes back on channel 2 is the through-path, and it must be channel 1
-- delayed by exactly the stated latency, every sample, float32.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local uv = require "luv"
require "pastream.roundtrip"

local d <close> = ps.DuplexStream{ device = "loopback", channels = 2, format = "float32" }
local R = assert(d:measure_roundtrip())
local rate = d.samplerate

-- The known signal: a multiple of 2^-17 (exact in float32, and half of it
-- too), never 0, so silence in its place shows.
local function sig(f)
  local x = (f * 2654435761 + 12345) % 2147483648
  local v = (x % 32767 + 1) / 131072
  return (x >> 20) & 1 == 1 and -v or v
end

-- Runs s:process with the generator body; returns info and the recording
-- (the input the body saw, frame for frame).  sleep_at: the chunk at
-- which the body blocks the loop for sleep_ms once.
local function through(o, total, sleep_at, sleep_ms)
  local P = d:process_plan(o).preroll
  local rec = ps.Buffer(total, 2)
  rec:fill(0)
  local at, k = 0, 0
  local info = d:process(function(input, output)
    local n = input:frames()
    rec:copyfrom(input, at + 1, 1, n)
    for j = 1, n do
      output:sample(j, 1, sig(at + j - 1 + P))         -- plays at stream frame at + j - 1 + P
      output:sample(j, 2, 0.5 * input:sample(j, 1))
    end
    at, k = at + n, k + 1
    if k == sleep_at then uv.sleep(sleep_ms) end
  end, { chunksize = o.chunksize, slack = o.slack, frames = total })
  T.eq(at, total, "the body saw every input frame")
  return info, rec
end

-- Compares the recording with what the stated timing says, from the round
-- trip on (before it the input holds what the loopback had).  Returns the
-- number of mismatches, the silenced output frames on channels 1 and 2,
-- and the first mismatch.
local function verify(info, rec, allow_silence)
  local P, L = info.preroll, info.latency
  local bad, first, quiet1, quiet2 = 0, nil, 0, 0
  for t = R, rec:frames() - 1 do
    local u = t - R                                    -- the stream frame it was played at
    local want1 = u >= P and sig(u) or 0
    local got1 = rec:sample(t + 1, 1)
    local want2 = u >= P and 0.5 * rec:sample(t - L + 1, 1) or 0
    local got2 = rec:sample(t + 1, 2)
    if allow_silence and got1 == 0 and want1 ~= 0 then
      quiet1 = quiet1 + 1
    elseif got1 ~= want1 then
      bad = bad + 1
      first = first or string.format("frame %d ch 1: got %.9g, want %.9g", t, got1, want1)
    end
    if allow_silence and got2 == 0 and want2 ~= 0 and got1 == 0 then
      quiet2 = quiet2 + 1
    elseif got2 ~= want2 then
      bad = bad + 1
      first = first or string.format("frame %d ch 2: got %.9g, want %.9g", t, got2, want2)
    end
  end
  return bad, quiet1, quiet2, first
end

for _, n in ipairs { 64, 256, 1024 } do
  T.group("chunksize " .. n .. ": bit-exact at the stated latency", function()
    -- a generous slack: this test is about where the frames land, not
    -- about how fast the machine is
    local o = { chunksize = n, slack = math.floor(rate / 5) }
    local p = d:process_plan(o)
    T.eq(p.latency, R + n + p.margin, "latency = round trip + chunk + margin")
    T.eq(p.roundtrip, R, "the round trip is the measured one")
    local total = p.preroll + 2 * R + 8192
    local info, rec = through(o, total)
    T.eq(info.latency, p.latency, "process returns the stated latency")
    T.eq(info.late, 0, "no frame was late")
    local bad, _, _, first = verify(info, rec, false)
    T.eq(bad, 0, "every sample of both channels is where the timing says (" .. (first or "all equal") .. ")")
  end)
end

T.group("a body too slow once: its late frames play as silence, counted; the latency stays", function()
  local o = { chunksize = 256 }
  local p = d:process_plan(o)
  -- longer than any chunk's allowance (less than the preroll plus a block)
  local ms = math.ceil((p.preroll + 2 * p.block) / rate * 1000)
  local total = p.preroll + 2 * R + 2 * math.ceil(ms * rate / 1000) + 16384
  local info, rec = through(o, total, 20, ms)
  T.ok(info.late > 0, "late frames are counted (" .. info.late .. ")")
  T.eq(d.tx_lost, info.late, "... the same as the stream's tx_lost")
  local bad, quiet1, quiet2, first = verify(info, rec, true)
  T.eq(bad, 0, "every other sample is exact at the same latency (" .. (first or "all equal") .. ")")
  T.eq(quiet1, info.late, "the silence played is exactly the late frames")
  T.ok(quiet2 > 0, "the through channel was silent where it was late too")
end)

T.group("out = FILE records the input beside the body", function()
  local path = os.tmpname()
  os.remove(path)
  path = path .. ".wav"
  local total = 3 * rate // 4
  total = math.tointeger(total)
  local seen = ps.Buffer(total, 2)
  local at = 0
  local info = d:process(function(input, output)
    local n = input:frames()
    seen:copyfrom(input, at + 1, 1, n)
    for j = 1, n do
      output:sample(j, 1, sig(at + j))
      output:sample(j, 2, input:sample(j, 1))
    end
    at = at + n
  end, { chunksize = 256, frames = total, out = path })
  local got = ps.load(path)
  os.remove(path)
  T.ok(seen:peak() > 0, "the input had sound in it (the body's own, come back)")
  T.ok(got and got:frames() == total and got:equals(seen),
    "the file holds every input frame the body saw, bit-exact (" .. (got and got:frames() or "no file") .. " frames)")
  T.eq(info.chunks, (total + 255) // 256, "and the body saw every chunk")
  T.raises(function() d:process(function() end, { out = 42 }) end, "out must be a file name", "out = 42")
end)

T.group("misuse", function()
  local body = function() end
  T.raises(function() d:process(body, { chunksize = 0 }) end, "chunksize must be an integer >= 1, got 0",
    "chunksize 0")
  T.raises(function() d:process(body, { chunksize = 1.5 }) end, "chunksize must be an integer >= 1, got 1.5",
    "chunksize 1.5")
  T.raises(function() d:process(body, { chunksize = 256, slack = -1 }) end, "slack must be an integer >= 0",
    "a negative slack")
  T.raises(function() d:process(nil) end, "bad argument #1 to 'process' (function expected, got nil)",
    "no body")
  local ok, err = pcall(function() d:process(body, { chunksize = 0 }) end)
  T.ok(not ok and err:find("test_user_process.lua:%d+:"), "the error points at the caller's line (" .. tostring(err) .. ")")
  do
    local i <close> = ps.InputStream{ device = "loopback", channels = 2 }
    T.raises(function() i:process(body) end, "process needs a DuplexStream, this is an InputStream",
      "an InputStream")
    local o <close> = ps.OutputStream{ device = "loopback", channels = 2 }
    T.raises(function() o:process(body) end, "process needs a DuplexStream, this is an OutputStream",
      "an OutputStream")
  end
  local k = 0
  ok, err = pcall(d.process, d, function()
    k = k + 1
    if k == 5 then error("boom at chunk 5") end
  end, { chunksize = 256 })
  T.ok(not ok and tostring(err):find("boom at chunk 5", 1, true), "the body's error reaches the caller")
  T.eq(select(2, tostring(err):gsub("boom at chunk 5", "")), 1, "... once, with its traceback")
  T.eq(k, 5, "no chunk after the error")
  T.eq(d.active, false, "the stream has stopped")
  local wok, werr = pcall(d.wait, d)
  T.ok(wok and werr ~= nil, "a wait afterwards does not raise it again (" .. tostring(werr) .. ")")
  ok, err = pcall(d.process, d, function(input) return input:sub(1, 1) end, { chunksize = 256 })
  T.ok(not ok and tostring(err):find("it must return nothing, false, or a Buffer of 256 frames x 2 channels float32", 1, true),
    "a body that returns the wrong Buffer is told what to return")
  local info = d:process(function() return false end, { chunksize = 256 })
  T.eq(info.chunks, 1, "a body that returns false ends the run; the stream runs again after an error")
  local e = ps.DuplexStream{ device = "loopback", channels = 2 }
  ok, info = pcall(e.process, e, function() e:close() end, { chunksize = 256 })
  T.ok(ok and info.chunks == 1 and e.closed, "a body that closes its stream ends the run (" .. tostring(info) .. ")")
end)

T.group("process on a closed stream, on a running one, and from its own body", function()
  local c = ps.DuplexStream{ device = "loopback", channels = 2 }
  c:close()
  T.raises(function() c:process(function() end, { chunksize = 256 }) end, "closed", "a closed stream: a clear error")
  T.raises(function() c:process_plan{ chunksize = 256 } end, "closed", "process_plan on a closed stream: a clear error")
  local r <close> = ps.DuplexStream{ device = "loopback", channels = 2 }
  r:play(ps.Buffer(48000, 2), { blocking = false })
  T.raises(function() r:process(function() end, { chunksize = 256 }) end,
    "cannot process while the stream is running", "a running stream: refused")
  T.raises(function() r:configure{ clocked = true } end, "cannot configure while the stream is active",
    "configure{clocked} on a running stream: refused")
  T.ok(r.active and r:error() == nil, "... and the run goes on unharmed")
  r:stop()
  local inner
  local ok, err = pcall(r.process, r, function()
    local iok, ierr = pcall(r.process, r, function() end, { chunksize = 256 })
    inner = iok and "ran" or tostring(ierr)
    return false
  end, { chunksize = 256 })
  T.ok(ok and inner and inner:find("cannot process while the stream is running", 1, true),
    "from its own body: refused, and the outer run ends normally (" .. tostring(inner or err) .. ")")
  local info = r:process(function() return false end, { chunksize = 256 })
  T.eq(info.chunks, 1, "... and the stream processes again afterwards")
end)

T.group("SIGINT while processing: an Interrupted error where the script waits", function()
  -- the signal comes from the body itself, at its third chunk: then the
  -- run is surely under way, however slowly this host starts it (a timer
  -- fired before process began under gcstress: the host's own exit 130)
  local k = 0
  local ok, err = pcall(d.process, d, function()
    k = k + 1
    if k == 3 then uv.kill(uv.os_getpid(), "sigint") end
  end, { chunksize = 256 })
  T.ok(not ok and ps.is(err, ps.Interrupted), "process raises Interrupted (" .. tostring(err) .. ")")
  T.ok(k > 0 and d.active == false, "after the chunks so far, with the stream stopped")
end)

T.done()
