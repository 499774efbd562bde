-- Record FRAMES frames of stereo float32 from the rig's `system` capture
-- ports to a WAV file, through pastream's C disk thread.
--   pastream-lua tests/bench/record.lua OUT.wav FRAMES [DEVICE]
local ps = require "pastream"
local out, frames, device = arg[1], math.tointeger(tonumber(arg[2])), arg[3] or "system"
assert(out and frames, "usage: record.lua OUT.wav FRAMES [DEVICE]")
local s <close> = ps.InputStream{ device = device, channels = 2, format = "float32" }
s:record{ frames = frames, out = out }
local x = s.xruns
local n = 0
if type(x) == "table" then for _, v in pairs(x) do n = n + v end else n = x or 0 end
io.stderr:write(string.format("record.lua: %d frames at %d Hz, xruns %d\n", s.frame_count, s.samplerate, n))
