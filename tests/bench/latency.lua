-- Round-trip latency of a duplex stream on the rig's loopback device with
-- default settings (blocksize 0, latency "high"): play an impulse, find it
-- in the recording.
--   pastream-lua tests/bench/latency.lua
-- Output: latency <measured frames> <reported frames (input+output latency)>
--         <samplerate> <blocksize>
local ps = require "pastream"
local s <close> = ps.DuplexStream{ device = "loopback", channels = 2 }
local n = 16384
while n < 4 * s:roundtrip_frames() + 4096 do n = n * 2 end
local imp = ps.Buffer(n, 2)
imp:sample(1, 1, 0.5); imp:sample(1, 2, 0.5)
local rec = s:playrec(imp, { frames = n, pad = -1 })
local at = -1
for f = 1, rec:frames() do
  if rec:sample(f, 1) ~= 0 then at = f - 1; break end
end
print(string.format("latency\t%d\t%d\t%d\t%d", at, s:roundtrip_frames(), math.floor(s.samplerate), s.blocksize or 0))
