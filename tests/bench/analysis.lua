-- Offline analysis: the peak and RMS of every channel of a sound file, read
-- in large offline chunks (ps.chunks{input = FILE}, float32) with one C call
-- per chunk for all channels (buf:stats).
--   pastream-lua tests/bench/analysis.lua FILE [CHUNKSIZE]
local ps = require "pastream"
local path = assert(arg[1], "usage: analysis.lua FILE [CHUNKSIZE]")
local chunksize = math.tointeger(tonumber(arg[2] or "65536"))
local peak, sumsq, frames, channels = nil, nil, 0, 0
for chunk in ps.chunks{ input = path, chunksize = chunksize } do
  peak, sumsq = chunk:stats(peak, sumsq)
  frames = frames + chunk:frames()
  channels = chunk:channels()
end
for c = 1, channels do
  print(string.format("channel %d: peak %.6f rms %.6f", c, peak[c],
                      frames > 0 and math.sqrt(sumsq[c] / frames) or 0))
end
print(string.format("%d frames", frames))
