-- One soak on a rig of tests/sh/test_paths_soak.sh: duplex loopback through
-- stream:chunks{} for MINUTES of 48 kHz audio (at the rig's rate), every
-- sample checked against what was sent (tests/lua/soak.lua), the delay
-- where the signal's first frame comes back and equal to the measured round
-- trip, every damaged period accounted for by an xrun reported by the
-- stream or in a server's LOG, resident memory flat after the warm-up.
--   pastream-lua tests/sh/test_paths_soak.lua DEVICE MINUTES NAME PERIOD [LOG...]
package.path = "tests/?.lua;tests/lua/?.lua;" .. package.path
local T = require "tap"
local soak = require "soak"

local device, minutes, name, period = arg[1], tonumber(arg[2]), arg[3], math.tointeger(tonumber(arg[4]))
assert(device and minutes and name and period,
  "usage: test_paths_soak.lua DEVICE MINUTES NAME PERIOD [LOG...]")
local logs = {}
for i = 5, #arg do logs[#logs + 1] = arg[i] end
local r = soak.run(math.floor(minutes * 60 * 48000), function(msg) print("# " .. name .. ": " .. msg); io.stdout:flush() end,
  { device = device, measure = true, account = { logs = logs, period = period, window = 0.5 } })
soak.check(T, r, name)
T.done()
