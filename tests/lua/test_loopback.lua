-- End-to-end proof on the rig's loopback device: play 10 s of float32
-- stereo (a preamble, then seeded pseudorandom samples), record it, find the
-- delay, and check every recorded sample bit-exact with zero frames lost;
-- the delay must equal the round-trip latency PortAudio reports.
-- Runs under pastream-lua and under plain lua5.4 (tests/run.sh does both).
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"

local RATE = 48000

-- Deterministic float32 test signal: a cosine preamble (its first sample is
-- not zero, so the arrival is the first non-zero recorded frame), then
-- pseudorandom values from a 64-bit LCG, exactly representable in float32.
local function signal(frames, channels, seed)
  local buf = ps.Buffer(frames, channels)
  local pre = math.min(frames, RATE // 10)
  local x = seed
  for f = 1, frames do
    for c = 1, channels do
      local v
      if f <= pre then
        v = 0.5 * math.cos(2 * math.pi * 1000 * (f - 1) / RATE + (c - 1))
      else
        x = x * 6364136223846793005 + 1442695040888963407
        v = ((x >> 40) - (1 << 23)) / (1 << 23)      -- 24-bit value in [-1, 1)
      end
      buf:sample(f, c, v)
    end
  end
  return buf
end

-- Index of the first frame with a non-zero sample, 0-based; nil if silent.
local function first_sound(buf)
  local ch = buf:channels()
  for i = 1, #buf do
    if buf[i] ~= 0 then return (i - 1) // ch end
  end
end

-- First sample where got differs from want (1-based sample index), or nil.
local function first_mismatch(got, want)
  for i = 1, #want do
    if got[i] ~= want[i] then return i end
  end
end

-- On a mismatch at sample i: the shift d (frames) for which the recording
-- from there on holds the source shifted, its frame f being the source's
-- frame f + d (d = -256: a period came twice), or nil.  A whole
-- JACK period lost or repeated, on a recording with 0 xruns, is the rig's
-- server running a cycle late (README, "Test rig").
local function shift_at(got, want, i, ch)
  local f0 = (i - 1) // ch
  local span = math.min(64, #got // ch - f0)
  for d = -4096, 4096 do
    local okd = d ~= 0 and f0 + d >= 0 and f0 + d + span <= #want // ch
    for k = 0, span * ch - 1 do
      if not okd then break end
      okd = got[f0 * ch + k + 1] == want[(f0 + d) * ch + k + 1]
    end
    if okd then return d end
  end
end

local function loopback(blocksize, seconds, seed)
  local name = string.format("blocksize %d, %g s", blocksize, seconds)
  local n = math.floor(seconds * RATE)
  local src = signal(n, 2, seed)
  local s <close> = ps.DuplexStream{ device = "loopback", samplerate = RATE,
                                     channels = 2, blocksize = blocksize }
  local expect_delay = s:roundtrip_frames()
  local margin = 8192
  local rec = s:playrec(src, { frames = n + margin, pad = -1 })

  T.eq(s.status, "complete", name .. ": stream completed")
  T.eq(s.frame_count, n + margin, name .. ": frame_count = frames")
  T.eq(s.rx_frames, n + margin, name .. ": every frame recorded")
  T.eq(s.tx_frames, n, name .. ": every source frame played")
  print(string.format("# %s: xruns %d (timing, not checked)", name, s.xruns))
  local delay = first_sound(rec)
  T.ok(delay, name .. ": the signal came back")
  if not delay then return end
  T.eq(delay, expect_delay, name .. ": delay = PortAudio's round-trip latency (frames)")
  T.ok(delay + n <= rec:frames(), name .. ": the whole signal fits in the recording")
  local got = rec:sub(delay + 1, delay + n)
  local same = got:equals(src)
  local bad = not same and first_mismatch(got, src)
  local shift = bad and shift_at(got, src, bad, 2)
  T.ok(same, name .. ": every sample bit-exact",
       bad and string.format("first mismatch at sample %d (frame %d): got %.9g want %.9g; %s",
                             bad, (bad - 1) // 2, got[bad], src[bad],
                             shift and string.format("from there the source %+d frames on", shift)
                               or "not the source shifted by up to 4096 frames"))
  T.ok(rec:sub(1, delay):peak() == 0, name .. ": silence before the signal arrives")
  T.ok(rec:sub(delay + n + 1):peak() == 0, name .. ": silence after it (padding)")
end

T.group("loopback 10 s, blocksize 0", loopback, 0, 10, 12345)
T.group("loopback 2 s, blocksize 512", loopback, 512, 2, 777)
T.done()
