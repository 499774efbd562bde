-- Chunk iterators, Lua sources and sinks, and tasks, on the loopback device.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local uv = require "luv"

local function source(n, seed)
  local b = ps.Buffer(n, 2)
  local x = seed or 1
  for i = 1, #b do
    x = x * 6364136223846793005 + 1442695040888963407
    b[i] = ((x >> 40) - (1 << 23)) / (1 << 23)
  end
  return b
end

-- What the loopback records for a played buffer: src delayed by `delay`.
local function delayed(src, delay, total)
  local want = ps.Buffer(total, 2)
  local n = math.min(src:frames(), total - delay)
  if n > 0 then want:copyfrom(src, delay + 1, 1, n) end
  return want
end

local s <close> = ps.DuplexStream{ device = "loopback", channels = 2 }
local delay = s:roundtrip_frames()

for _, c in ipairs { { 1024, 0 }, { 1000, 500 }, { 4096, 1023 }, { 0, 0 }, { 7, 3 } } do
  local chunksize, overlap = c[1], c[2]
  local name = string.format("chunks chunksize=%d overlap=%d", chunksize, overlap)
  T.group(name, function()
    local n = 24000
    local total = n + delay
    local src = source(n, chunksize + 1)
    local got = ps.Buffer(total, 2)
    local pos, count, prev, sizes_ok, overlap_ok, shortlast = 0, 0, nil, true, true, nil
    for chunk, last in s:chunks{ chunksize = chunksize, overlap = overlap, frames = total,
                                 playback = src, pad = -1 } do
      count = count + 1
      local fresh = (prev and overlap or 0)
      if chunksize > 0 and chunk:frames() ~= chunksize and not last then sizes_ok = false end
      if last then shortlast = chunk:frames() end
      if prev and overlap > 0 and not chunk:sub(1, overlap):equals(prev:sub(-overlap)) then
        overlap_ok = false
      end
      local new = chunk:frames() - fresh
      got:copyfrom(chunk, pos + 1, fresh + 1, new)
      pos = pos + new
      prev = chunk:copy()
    end
    T.eq(pos, total, name .. ": frames respected to the frame")
    T.ok(sizes_ok, name .. ": every chunk but the last has exactly chunksize frames")
    if chunksize > 0 then
      local step = chunksize - overlap
      local expect_last = (total - chunksize) % step
      if total < chunksize then expect_last = total end
      T.eq(shortlast, expect_last ~= 0 and overlap + expect_last or nil,
        name .. ": only a short last chunk says last")
    end
    T.ok(overlap_ok, name .. ": each chunk starts with the previous chunk's last overlap frames")
    T.ok(got:equals(delayed(src, delay, total)), name .. ": the chunks hold the recording, bit-exact")
  end)
end

T.group("break out of a chunk loop stops the stream", function()
  for chunk in s:chunks{ chunksize = 512 } do break end
  T.ok(not s.active, "the stream is stopped after break")
  -- and it can run again
  local rec = s:record{ frames = 1000 }
  T.eq(rec:frames(), 1000, "the stream records again after a break")
end)

T.group("an error in a chunk loop stops the stream", function()
  local ok, err = pcall(function()
    for chunk in s:chunks{ chunksize = 512 } do error("in the loop") end
  end)
  T.ok(not ok and err:find("in the loop", 1, true), "the error comes through", err)
  T.ok(not s.active, "the stream is stopped after the error")
end)

T.group("ps.chunks opens and closes its own stream", function()
  local n = 0
  for chunk in ps.chunks{ device = "loopback", chunksize = 256, frames = 2560 } do
    n = n + chunk:frames()
  end
  T.eq(n, 2560, "ps.chunks yields frames frames")
end)

T.group("a Lua source generates a tone", function()
  local n, rate = 48000, math.floor(s.samplerate)
  local phase = 0
  local function tone(buf)            -- fills buf, returns frames written
    local frames = math.min(buf:frames(), n - phase)
    for f = 1, frames do
      local v = 0.25 * math.sin(2 * math.pi * 1000 * (phase + f - 1) / rate)
      buf:sample(f, 1, v); buf:sample(f, 2, -v)
    end
    phase = phase + frames
    return frames
  end
  local want = ps.Buffer(n, 2)
  for f = 1, n do
    local v = 0.25 * math.sin(2 * math.pi * 1000 * (f - 1) / rate)
    want:sample(f, 1, v); want:sample(f, 2, -v)
  end
  local rec = s:playrec(tone, { frames = n + delay, pad = -1 })
  T.eq(s.tx_frames, n, "every generated frame was played")
  T.ok(rec:sub(delay + 1, delay + n):equals(want), "the recording is the generated tone, bit-exact")
end)

T.group("a Lua sink receives every frame", function()
  local n = 30000
  local src = source(n, 99)
  local got, pos, calls = ps.Buffer(n + delay, 2), 0, 0
  s:playrec(src, { frames = n + delay, pad = -1, out = function(buf)
    calls = calls + 1
    got:copyfrom(buf, pos + 1, 1, buf:frames())
    pos = pos + buf:frames()
  end })
  T.eq(pos, n + delay, "the sink got every frame")
  T.ok(calls > 1, "the sink was called as frames arrived (" .. calls .. " calls)")
  T.ok(got:equals(delayed(src, delay, n + delay)), "the sink's frames are bit-exact")
end)

T.group("an error in a source stops the stream with a traceback", function()
  local ok, err = pcall(s.play, s, function(buf) error("source broke") end)
  T.ok(not ok and err:find("source broke", 1, true), "the source's error comes through", err)
  T.ok(err:find("stack traceback", 1, true), "with a traceback", err)
  T.ok(not s.active, "the stream is stopped")
end)

T.group("a slow chunk consumer ends in BufferFull, not corruption", function()
  local slow <close> = ps.InputStream{ device = "loopback", buffersize = 4096 }
  local ok, err = pcall(function()
    for chunk in slow:chunks{ chunksize = 1024 } do ps.sleep(0.3) end
  end)
  T.ok(not ok and err:find("BufferFull: the receive buffer overflowed after", 1, true),
    "BufferFull says what happened and after how many frames", err)
end)

T.group("two streams and a timer run concurrently in tasks", function()
  local ticks, results = 0, {}
  local timer = uv.new_timer()
  timer:start(10, 10, function() ticks = ticks + 1 end)
  local a = ps.spawn(function()
    local d <close> = ps.DuplexStream{ device = "loopback" }
    local src = source(24000, 5)
    local rec = d:playrec(src, { frames = 24000 + delay, pad = -1 })
    results.a = rec:sub(delay + 1):equals(src)
  end)
  local b = ps.spawn(function()
    local i <close> = ps.InputStream{ device = "system" }
    results.b = i:record{ frames = 24000 }:frames()
  end)
  while results.a == nil or results.b == nil do ps.sleep(0.05) end
  timer:close()
  T.ok(results.a, "the duplex stream's recording is bit-exact")
  T.eq(results.b, 24000, "the input stream recorded its frames")
  T.ok(ticks >= 20, "the timer kept ticking meanwhile (" .. ticks .. " ticks)")
end)

T.done()
