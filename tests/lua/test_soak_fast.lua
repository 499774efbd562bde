-- The soak in its CI form (tests/lua/soak.lua; make soak runs the full hour):
-- 10 minutes of 48 kHz audio (28.8 M frames, about 75 s on the 384 kHz rig)
-- of duplex loopback through chunk iteration, every sample checked, no frame
-- lost or changed, resident memory flat after the warm-up.
package.path = "tests/?.lua;tests/lua/?.lua;" .. package.path
local T = require "tap"
local soak = require "soak"

-- PS_SOAK_MINUTES (of 48 kHz audio) shortens it where the point is another
-- (tests/gcstress.sh: the collector on every allocation, 2 minutes).
local minutes = tonumber(os.getenv("PS_SOAK_MINUTES") or "10")
soak.check(T, soak.run(math.floor(minutes * 60 * 48000), function(msg) print("# " .. msg); io.stdout:flush() end))
T.done()
