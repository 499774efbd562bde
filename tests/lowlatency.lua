-- A loopback run on a short-period rig with every damaged period accounted
-- for by a reported xrun (tests/damage.lua says how).  Run by
-- tests/sh/test_lowlatency.sh on rigs of its own:
--   pastream-lua tests/lowlatency.lua MODE SECONDS SERVERLOG [DIR]
-- MODE buffer: a Buffer played and recorded by the callback; MODE file: a
-- WAV file played and recorded through the disk threads (DIR holds them).
-- SERVERLOG is the rig's JACK server log, read while the stream runs: every
-- "XRun" line is stamped with the time it appeared.  Prints TAP lines and
-- the tally "N periods damaged, all N at reported xruns".
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local D = require "damage"
local ps = require "pastream"
local uv = require "luv"

local mode, seconds, serverlog, dir = arg[1], tonumber(arg[2]), arg[3], arg[4] or "."
assert(mode == "buffer" or mode == "file", "MODE is buffer or file")
assert(seconds and serverlog, "usage: lowlatency.lua MODE SECONDS SERVERLOG [DIR]")

-- How far (seconds) a burst of damage and the xrun that explains it may lie
-- apart: the log line and the frame count are both sampled every 10 ms by
-- the loop below, which the same stall can delay; half a second is many
-- stalls' worth, and still a small part of the time between xruns.
local WINDOW = 0.5

local s <close> = ps.DuplexStream{ device = "loopback", channels = 2 }
local rate = math.floor(s.samplerate)
-- the rig's period, as the test that started it says (RIG_PERIOD); else
-- the round trip PortAudio reports, one period on the JACK path
local P = tonumber(os.getenv("RIG_PERIOD")) or s:roundtrip_frames()
local n = math.floor(seconds * rate)
local margin = 4 * s:roundtrip_frames() + rate // 10
local src = D.signal(ps, n)
local name = string.format("%s, %g s at %d Hz, period %d", mode, seconds, rate, P)

-- The server log from its current end on, each XRun line stamped.
local log = assert(io.open(serverlog, "rb"))
log:seek("end")
local xruns, marks = {}, {}
local client_xruns = 0
local function now() return uv.hrtime() / 1e9 end
local function poll()
  local t = now()
  while true do
    local line = log:read("l")
    if not line then break end
    if line:find("XRun", 1, true) then xruns[#xruns + 1] = t end
  end
  local x = s.xruns
  if x > client_xruns then
    for _ = client_xruns + 1, x do xruns[#xruns + 1] = t end
    client_xruns = x
  end
  marks[#marks + 1] = { t = t, f = s.frame_count }
end

local rec, inpath, outpath
if mode == "buffer" then
  rec = s:playrec(src, { frames = n + margin, pad = -1, blocking = false })
else
  inpath, outpath = dir .. "/lowlat-in.wav", dir .. "/lowlat-out.wav"
  assert(ps.save(inpath, src, rate))   -- float32 in, float WAV
  s:playrec(inpath, { frames = n + margin, pad = -1, out = outpath, overwrite = true,
                      blocking = false })
end
poll()
while not s.finished do
  ps.sleep(0.01)
  poll()
end
local ok, err = s:wait()
poll()
log:close()
T.ok(ok, name .. ": the run ended without an error", tostring(err))
if mode == "file" then
  rec = ps.load(outpath)
  T.ok(rec, name .. ": the recording reads back")
  if not rec then T.done() return end
end
T.eq(rec:frames(), n + margin, name .. ": every frame recorded")

D.verdict(T, name, rec, n, P, marks, xruns, client_xruns, WINDOW)
if mode == "file" then os.remove(inpath); os.remove(outpath) end
T.done()
