-- noise.lua SCALE FILE...: one second (48000 frames) of seeded
-- pseudorandom stereo float32 in [-SCALE, SCALE), saved to each FILE (the
-- type from its extension): every sample distinct, the same every run.
local ps = require "pastream"
local scale = assert(tonumber(arg[1]), "noise.lua SCALE FILE...")
local b = ps.Buffer(48000, 2)
local x = 54321
for i = 1, #b do
  x = (x * 1103515245 + 12345) % 2147483648
  b[i] = x / 2147483648 * 2 * scale - scale
end
for k = 2, #arg do assert(ps.save(arg[k], b, 48000)) end
