-- Streams on the rig's loopback device: play/record/playrec with every
-- combination of frames, pad, offset and loop, checked sample by sample
-- against a model; device queries; errors that name what failed.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"

local RATE = 48000

-- Source of n stereo frames whose samples are all distinct and non-zero.
local function source(n)
  local b = ps.Buffer(n, 2)
  for i = 1, #b do b[i] = (i % 65536 + 1) / 65537 * (i % 2 == 0 and -1 or 1) end
  return b
end

-- The model: what the stream plays at frame t (0-based) and how long it
-- runs.  As in pastream, frames counts the source's frames and pad the
-- silence after them: the run is frames + pad (pad < 0: frames).
local function model(n, o)
  local frames, pad = o.frames or -1, o.pad or 0
  local played = function(t)
    if frames >= 0 and t >= frames then return nil end
    if o.loop then return t % n end
    if t < n then return t end
  end
  local total, err
  if frames >= 0 then
    total = frames + math.max(pad, 0)
    if not o.loop and pad >= 0 and n < frames then
      total, err = n, "BufferEmpty"      -- the source ended before frames
    end
  else
    total = n + pad     -- (pad >= 0 here: the table has no unbounded case)
  end
  return total, played, err
end

-- The recording must be the played signal delayed by the round trip, minus
-- the first `offset` frames.
local function check_recording(name, rec, src, o, total, played, delay)
  local offset = o.offset or 0
  local want = ps.Buffer(math.max(0, total - offset), 2)
  for t = offset, total - 1 do
    local p = t - delay >= 0 and played(t - delay)
    if p then
      want:sample(t - offset + 1, 1, src:sample(p + 1, 1))
      want:sample(t - offset + 1, 2, src:sample(p + 1, 2))
    end
  end
  local got = rec:sub(1, want:frames())
  local ok = got:equals(want)
  local detail
  if not ok then
    for i = 1, #want do
      if got[i] ~= want[i] then
        detail = string.format("first difference at sample %d (frame %d): got %.9g want %.9g",
          i, (i - 1) // 2 + 1, got[i], want[i])
        break
      end
    end
  end
  T.ok(ok, name .. ": recording matches the model, every sample", detail)
end

local cases = {
  -- n,    frames, pad,  offset, loop
  { 4800,  nil,    nil,  nil },            -- play the source, then stop
  { 4800,  nil,    1000, nil },            -- pad after the source
  { 4800,  nil,    1000, 300 },            -- offset drops the first frames
  { 4800,  6000,   -1,   nil },            -- pad out to exactly frames
  { 4800,  4800,   nil,  nil },            -- source ends exactly at frames
  { 4800,  3000,   nil,  nil },            -- frames cuts the source short
  { 4800,  3000,   -1,   1000 },           -- ... with an offset
  { 4800,  6000,   500,  nil },            -- source ends before frames (pad or not): BufferEmpty
  { 4800,  3000,   1000, nil },            -- 3000 frames of the source, then 1000 of pad
  { 4800,  256,    4800, 64 },             -- frames + pad - offset recorded
  { 1000,  2500,   300,  nil, true },      -- looped frames, then the pad
  { 4800,  6000,   nil,  nil },            -- no pad, frames too long: BufferEmpty
  { 4801,  20000,  nil,  7, true },        -- loop with a length that divides nothing
  { 1000,  10000,  nil,  nil, true },      -- many loop seams
  { 4800,  9000,   -1,   5000 },           -- offset past the source
}

local s <close> = ps.DuplexStream{ device = "loopback", channels = 2 }
local delay = s:roundtrip_frames()

for _, c in ipairs(cases) do
  local n, o = c[1], { frames = c[2], pad = c[3], offset = c[4], loop = c[5] }
  local name = string.format("playrec n=%d frames=%s pad=%s offset=%s loop=%s",
    n, tostring(o.frames), tostring(o.pad), tostring(o.offset), tostring(o.loop))
  T.group(name, function()
    local src = source(n)
    local total, played, err = model(n, o)
    local out = ps.Buffer(math.max(0, total - (o.offset or 0)), 2)
    o.out = out
    local ok, msg = pcall(s.playrec, s, src, o)
    if err then
      T.ok(not ok and tostring(msg):find(err, 1, true), name .. ": raises " .. err, msg)
      T.ok(tostring(msg):find("after " .. total .. " of " .. o.frames .. " frames", 1, true),
        name .. ": the error says how many frames were played", msg)
    else
      T.ok(ok, name .. ": completes", msg)
    end
    T.eq(s.frame_count, total, name .. ": frame_count")
    T.eq(s.rx_frames, math.max(0, total - (o.offset or 0)), name .. ": frames recorded")
    check_recording(name, out, src, o, total, played, delay)
  end)
end

T.group("record and play", function()
  local src = source(9600)
  local out = ps.OutputStream{ device = "loopback" }
  local inp = ps.InputStream{ device = "loopback" }
  T.eq(out.kind, "OutputStream", "OutputStream kind")
  T.eq(inp.kind, "InputStream", "InputStream kind")
  -- record while another stream plays: the recording holds the tone somewhere
  out:play(src, { blocking = false, pad = 4800 })
  local rec = inp:record{ frames = 9600 }
  out:wait()
  T.eq(rec:frames(), 9600, "record returns frames frames")
  T.ok(rec:peak() > 0, "the recording of another stream's playback is not silent")
  T.eq(out.tx_frames, 9600, "play played every source frame")
  out:close(); inp:close()
  T.ok(out.closed and inp.closed, "closed streams say so")
  out:close()
  T.ok(true, "close twice is fine")
  T.raises(function() return out:start() end, "closed stream", "using a closed stream is an error")
end)

T.group("channel maps", function()
  local src = source(4800)
  local d = ps.DuplexStream{ device = "loopback", channels = 2,
                             txmapping = { 2, 1 }, rxmapping = { 2, 0, 1 } }
  local rec = d:playrec(src, { frames = 4800 + delay, offset = delay, pad = -1 })
  T.eq(rec:channels(), 3, "rxmapping sets the recorded channel count")
  local ok = true
  for f = 1, 4800 do
    -- played swapped (out1 = src2, out2 = src1); recorded ch1 = in2, ch2 = 0, ch3 = in1
    if rec:sample(f, 1) ~= src:sample(f, 1) or rec:sample(f, 2) ~= 0
       or rec:sample(f, 3) ~= src:sample(f, 2) then ok = false break end
  end
  T.ok(ok, "txmapping swap and rxmapping reorder/zero, every sample")
  T.eq(table.concat(d.txmapping, ","), "2,1", "txmapping reads back")
  d.txmapping = nil
  d.rxmapping = { 1, 2 }
  T.eq(d.txmapping, nil, "txmapping = nil restores the identity")
  T.eq(d.rx_channels, 2, "rxmapping is settable as a property")
  local rec2 = d:playrec(src, { frames = 4800 + delay, offset = delay, pad = -1 })
  T.ok(rec2:equals(src), "after resetting the maps the recording is the source again")
  d:close()
end)

T.group("peak meters", function()
  local d <close> = ps.DuplexStream{ device = "loopback" }
  local b = ps.Buffer(24000, 2):fill(0.25, 1):fill(-0.5, 2)
  d:playrec(b, { frames = 24000, meter = true, blocking = false })
  -- read once the audio is back (a round trip and a period in), counted
  -- in frames: no time assumed
  local rt = d:roundtrip_frames()
  while d.frame_count < 2 * rt + 1024 and not d.finished do ps.sleep(0.01) end
  local tx, rx = d.tx_peak, d.rx_peak
  T.ok(tx[1] == 0.25 and tx[2] == 0.5, "tx_peak per output channel", tx[1] .. " " .. tx[2])
  T.ok(rx[1] == 0.25 and rx[2] == 0.5, "rx_peak per input channel", rx[1] .. " " .. rx[2])
  local again = d.tx_peak
  T.ok(again[1] <= 0.25, "reading takes the peak (it restarts)")
  d:wait()
  -- no block comes after the end: a read holds the value read last, it
  -- does not drop to silence (a meter read faster than the period)
  local a, b = d.rx_peak, d.rx_peak
  T.ok(a[1] == 0.25 and a[2] == 0.5, "after the end, rx_peak still reads the tone", a[1] .. " " .. a[2])
  T.ok(b[1] == a[1] and b[2] == a[2], "... and again: with no block since, the value holds", b[1] .. " " .. b[2])
end)

T.group("defaults and wait", function()
  local saved = ps.default.device
  ps.default.device = "loopback"
  ps.default.channels = 1
  local i <close> = ps.InputStream{}
  T.eq(ps.devices()[i.device + 1].name, "loopback", "ps.default.device is used")
  T.eq(i.channels, 1, "ps.default.channels is used")
  ps.default.device, ps.default.channels = saved, nil
  i:record{ frames = 48000, blocking = false }
  T.eq(i:wait(0.05), false, "wait(timeout) returns false while the stream runs")
  T.eq(i:wait(), true, "wait() returns true when it has finished")
  T.eq(i.status, "complete", "status says complete")
end)

T.group("devices", function()
  local devs = ps.devices()
  T.ok(#devs >= 2, "devices() lists the rig's devices")
  T.eq(ps.device("loopback").name, "loopback", "device by exact name")
  T.eq(ps.device("LOOP").name, "loopback", "device by case-insensitive substring")
  T.eq(ps.device(1).index, 1, "device by index")
  T.eq(ps.device("1").index, 1, "device by index as a string")
  T.raises(function() ps.device("") end, "an empty device name", "an empty name is refused (not every device)")
  T.eq(ps.device("jack:loopback", "input").name, "loopback", "device by HOSTAPI:NAME (pastream.devname)")
  T.raises(function() ps.device("loopbak") end, "(near: " .. ps.device("loopback").index .. " 'loopback' (",
    "a typo: the error lists the near device")
  T.raises(function() ps.device("nosuchcard") end, "no device matches 'nosuchcard'", "an unknown name is named")
  T.raises(function() ps.device(99) end, "no device 99", "an unknown index is named")
  T.raises(function() ps.device("loopback", "sideways") end, "\"input\" or \"output\"", "a bad kind is named")
  local apis = ps.hostapis()
  T.ok(#apis >= 1 and apis[1].name, "hostapis() lists host APIs")
end)

T.group("errors name the device and the setting", function()
  T.raises(function() ps.DuplexStream{ device = "loopback", channels = 8 } end,
    "'loopback' has 2 input channels, 8 asked for", "too many channels")
  T.raises(function() ps.OutputStream{ device = "loopback", samplerate = 44100 } end,
    "44100", "a refused sample rate is named")
  T.raises(function() ps.OutputStream{ device = "loopback", format = "float64" } end,
    "unknown sample format 'float64'", "an unknown format is named")
  T.raises(function() ps.OutputStream{ device = "loopback", latency = "soon" } end,
    "latency must be", "a bad latency is named")
  local s2 <close> = ps.DuplexStream{ device = "loopback" }
  T.raises(function() s2:playrec(ps.Buffer(10, 2, "int16")) end,
    "the buffer is int16 but the stream's output is float32", "a format mismatch is named")
  T.raises(function() s2:set_txmap{ 1, 2, 3 } end, "txmapping has 3 entries", "a txmapping of the wrong length")
  T.raises(function() s2:set_rxmap{ 1, 5 } end, "rxmapping[2] must be a channel 0..2", "an rxmapping entry out of range")
  T.ok(tostring(s2):find("DuplexStream(device=('loopback', 'loopback')", 1, true), "tostring says what it is", tostring(s2))
end)

T.done()
