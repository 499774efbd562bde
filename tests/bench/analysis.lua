-- Offline analysis as far as the API goes today: load a whole sound file
-- into a Buffer (ps.load, float32) and take the peak and RMS of every
-- channel with the Buffer's C helpers.  Offline file chunks (issue 7,
-- point 4) do not exist yet; when they do, this becomes a chunk loop.
--   pastream-lua tests/bench/analysis.lua FILE
local ps = require "pastream"
local path = assert(arg[1], "usage: analysis.lua FILE")
local buf, rate = ps.load(path)
if not buf then error(rate) end
local peaks = { buf:peak() }
local rmss = { buf:rms() }
for c = 1, buf:channels() do
  print(string.format("channel %d: peak %.6f rms %.6f", c, peaks[c], rmss[c]))
end
print(string.format("%d frames at %d Hz", buf:frames(), rate))
