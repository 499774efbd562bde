-- doc/pictures.lua: the README's pictures, from a signal made here (so that
-- `make pictures` gives the same PNGs on any machine):
--   pastream-lua doc/pictures.lua [DIR]   -> DIR/spectrogram.png, DIR/waveform.png
-- Channel 1: a logarithmic sweep 50 Hz..20 kHz at -6 dBFS over a 1 kHz tone
-- at -30 dBFS; channel 2: a 220 Hz tone swelling from -40 dBFS until it
-- clips (driven to 1.4, cut at full scale) and falling back.
local ps = require "pastream"
local dir = arg[1] or "doc"
local RATE, SECONDS = 48000, 6
local n = RATE * SECONDS
local buf = ps.Buffer(n, 2, "float32")
local f0, f1 = 50, 20000
local k = math.log(f1 / f0) / SECONDS
local sin, pi, exp = math.sin, math.pi, math.exp
for i = 0, n - 1 do
  local t = i / RATE
  local sweep = 0.5 * sin(2 * pi * f0 * (exp(k * t) - 1) / k)
  local s1 = sweep + 0.0316 * sin(2 * pi * 1000 * t)
  local env = 0.01 * (140 ^ sin(pi * t / SECONDS))         -- 0.01 .. 1.4 .. 0.01
  local s2 = env * sin(2 * pi * 220 * t)
  s2 = math.max(-1, math.min(1, s2))
  buf:sample(i + 1, 1, s1)
  buf:sample(i + 1, 2, s2)
end
local s = assert(ps.spectrogram(buf, { out = dir .. "/spectrogram.png", samplerate = RATE,
  width = 480, height = 129, title = "a sweep over a quiet 1 kHz tone / a swelling 220 Hz tone" }))
local w = assert(ps.waveform(buf, { out = dir .. "/waveform.png", samplerate = RATE,
  width = 480, height = 90, title = "the same signal: envelope, RMS, clipped samples in red" }))
print(string.format("wrote %s/spectrogram.png (%dx%d), %s/waveform.png (%dx%d, %d clipped samples)",
  dir, s.width, s.height, dir, w.width, w.height, w.clipped))
