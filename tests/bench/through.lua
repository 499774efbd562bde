-- The live through-path, s:process (issue 17, point 10), on the rig's
-- loopback device, float32: its input-to-output latency for chunk sizes
-- 64, 256 and 1024 against the plain loopback round trip, and how long the
-- body may take once before its output is late.
--   pastream-lua tests/bench/through.lua [DEVICE]
-- Prints a markdown table (tests/bench/through.sh writes it to through.md).
--
-- The latency: the body plays a burst of noise on channel 1 and passes
-- the input's channel 1 to the output's channel 2.  The loopback brings
-- both back; the burst's arrival on channel 2 minus its arrival on channel
-- 1 is the through-path's input-to-output latency at the device, measured
-- (found by cross-correlation, pastream.roundtrip.find), not computed.
--
-- The allowance: the body blocks the loop thread once (uv.sleep) for d ms
-- at a chunk; a binary search finds the longest d with no late frame, at
-- three places of the chunk in the device's block (the worst is reported:
-- the allowance a body can count on).
local ps = require "pastream"
local uv = require "luv"
local rt = require "pastream.roundtrip"

local device = arg[1] or "loopback"
local s <close> = ps.DuplexStream{ device = device, channels = 2, format = "float32" }
local rate = s.samplerate
local R = assert(s:measure_roundtrip())
local burst = rt.burst_values(0.5)

local function ms(frames) return frames / rate * 1000 end

-- One run with the burst generator; returns info and the two input
-- channels as mono Buffers.
local function burst_run(n, total, at_frame)
  local p = s:process_plan { chunksize = n }
  local c1, c2 = ps.Buffer(total, 1), ps.Buffer(total, 1)
  local at = 0
  local info = s:process(function(input, output)
    local k = input:frames()
    for j = 1, k do
      c1:sample(at + j, 1, input:sample(j, 1))
      c2:sample(at + j, 1, input:sample(j, 2))
      local f = at + j - 1 + p.preroll - at_frame      -- the burst's frame played here
      output:sample(j, 1, (f >= 0 and f < #burst) and burst[f + 1] or 0)
      output:sample(j, 2, input:sample(j, 1))
    end
    at = at + k
  end, { chunksize = n, frames = total })
  return info, c1, c2
end

-- Late frames when the body sleeps d ms once, at chunk k0.
local function late_with(n, d, k0, total)
  local k = 0
  local info = s:process(function(input, output)
    output:copyfrom(input)
    k = k + 1
    if k == k0 and d > 0 then uv.sleep(d) end
  end, { chunksize = n, frames = total })
  return info.late
end

print("| chunk | plain loopback round trip | stated latency (round trip + chunk + margin) | measured input-to-output latency | measured - stated | margin (block + slack) | body may take (slack, guaranteed) | longest single stall with no late frame (measured, worst of 3 phases) |")
print("|---|---|---|---|---|---|---|---|")
for _, n in ipairs { 64, 256, 1024 } do
  local p = s:process_plan { chunksize = n }
  local start = p.preroll + 2 * R + 1024
  local total = start + 2 * R + p.preroll + 4096
  local info, c1, c2 = burst_run(n, total, start)
  local a1, a2 = rt.find(c1, burst), rt.find(c2, burst)
  local measured = (a1 and a2) and (a2 - a1) or nil
  -- the allowance: a binary search in whole ms, at three phases
  local worst
  local blocks = math.max(1, p.block // n)
  for _, phase in ipairs { 0, blocks // 2, blocks - 1 } do
    local k0 = math.ceil(0.2 * rate / (n * blocks)) * blocks + phase + 1
    local hi = math.ceil(ms(p.preroll + 2 * p.block)) + 5
    local len = k0 * n + p.preroll + 2 * math.ceil(hi * rate / 1000) + 4096
    local lo = 0
    while hi - lo > 1 do
      local mid = (lo + hi) // 2
      if late_with(n, mid, k0, len) == 0 then lo = mid else hi = mid end
    end
    worst = worst and math.min(worst, lo) or lo
  end
  print(string.format("| %d | %d frames (%.1f ms; reported %d) | %d frames (%.1f ms) | %s | %s | %d frames (%d + %d) | %.1f ms | %d ms |",
    n, R, ms(R), s:roundtrip_frames(), info.latency, ms(info.latency),
    measured and string.format("%d frames (%.1f ms)", measured, ms(measured)) or "not found",
    measured and tostring(measured - info.latency) or "?",
    p.margin, p.block, p.slack, ms(p.slack), worst))
end
print(string.format("\n%s, %d Hz, blocksize %d (the host decides), output latency %.1f ms as PortAudio reports it.",
  device, math.floor(rate), s.blocksize, s.latency[2] * 1000))
