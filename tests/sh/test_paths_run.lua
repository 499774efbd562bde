-- One loopback run on a rig of tests/sh/test_paths.sh (ALSA through the JACK
-- PCM plugin, netjack2, PipeWire), with every damaged period accounted for
-- by a reported xrun (tests/damage.lua, as tests/lowlatency.lua does):
--   pastream-lua tests/sh/test_paths_run.lua DEVICE MODE SECONDS NAME [SERVERLOG...]
-- MODE playrec: one duplex stream plays a frame counter and records it;
-- MODE split: an InputStream records while an OutputStream plays (record
-- and play as two programs would); MODE file: a WAV file played and
-- recorded into another through the disk threads (DIR: $TMPDIR).  The SERVERLOGs (JACK servers' logs,
-- PipeWire's) are read while the stream runs, each xrun line stamped ("XRun",
-- or PipeWire's "client too slow!").  Prints TAP lines,
-- the tally "N periods damaged, all N at reported xruns", and, for playrec,
-- the round trip the counter shows ("measured delay N frames") beside
-- PortAudio's figure ("portaudio roundtrip_frames N").
--
-- The counter starts after PATHS_LEAD seconds of silence (default 0.25).
-- The first period a stream played could be lost at its start, with no
-- xrun: PipeWire's JACK library (0.3.65) returns from jack_connect before
-- the link is active (its log: "link ... added complete:0", then "our link
-- ... completed" a few ms later), PortAudio's JACK host API starts the
-- stream as soon as its jack_connect calls return, and a cycle that ran in
-- between played into a port not yet linked.  Under injected stalls
-- (build/stall 12 1 40) 5 of 20 one-second runs without the lead lost
-- exactly the signal's first period (recorded: silence, then source frame
-- 1024 onwards, bit-exact), with no xrun in the client's or the server's
-- log (PIPEWIRE_DEBUG=3).  Streams on PipeWire's JACK library now sit out
-- their first 0.1 s of cycles (src/device.h, ps_device_settle).
-- PATHS_LEAD=0 runs without the lead and checks that nothing is lost at the
-- start: the signal from its first frame, to its end, every frame.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local D = require "damage"
local ps = require "pastream"
local uv = require "luv"

local device, mode, seconds, name = arg[1], arg[2], tonumber(arg[3]), arg[4]
assert(device and (mode == "playrec" or mode == "split" or mode == "file") and seconds and name,
  "usage: test_paths_run.lua DEVICE playrec|split|file SECONDS NAME [SERVERLOG...]")
local WINDOW = 0.5     -- seconds between a burst and the xrun that explains it

local logs = {}
for i = 5, #arg do
  local f = assert(io.open(arg[i], "rb"))
  f:seek("end")
  logs[#logs + 1] = f
end

local out, inp
if mode ~= "split" then
  out = ps.DuplexStream{ device = device, channels = 2 }
  inp = out
else
  inp = ps.InputStream{ device = device, channels = 2 }
  out = ps.OutputStream{ device = device, channels = 2 }
end
local rate = math.floor(inp.samplerate)
local n = math.floor(seconds * rate)
-- PortAudio's round trip is not trusted here (it is what is being checked):
-- the recording runs a second past the signal, whatever the path's delay.
local margin = rate
-- The period, for grouping damage: the JACK rigs' (PATHS_PERIOD), frames.
local P = math.tointeger(tonumber(os.getenv("PATHS_PERIOD"))) or 1024
local lead = math.floor((tonumber(os.getenv("PATHS_LEAD")) or 0.25) * rate + 0.5)
local src = D.signal(ps, n, lead)
local label = string.format("%s: %s, %g s at %d Hz", name, mode, seconds, rate)
do
  local l = out.latency
  print(string.format("# %s: latency %s s, blocksize %d", label,
    type(l) == "table" and string.format("%.4f/%.4f", l[1], l[2]) or tostring(l), out.blocksize))
end

-- The cycles a stream sits out at its start (src/device.h): 0.1 s on
-- PipeWire's JACK library, whose links go live after the start; one
-- period on JACK2 (a synchronous netjack2 slave drops the first period
-- played); none on ALSA.
local want_settle = name:match("^pipewire") and math.ceil(rate * 0.1)
  or name:match("^netjack") and P or 0
T.eq(out.settle, want_settle, label .. ": the stream sits out " .. want_settle .. " frames at its start")
if inp ~= out then T.eq(inp.settle, want_settle, label .. ": ... its input stream too") end

local xruns, marks, client = {}, {}, 0
local function now() return uv.hrtime() / 1e9 end
local function poll()
  local t = now()
  for _, f in ipairs(logs) do
    for line in f:lines() do
      -- JACK's "XRun"; PipeWire's "client too slow!" (scripts/pwrig.sh)
      if line:find("XRun", 1, true) or line:find("xrun", 1, true) or line:find("client too slow", 1, true) then
        xruns[#xruns + 1] = t
      end
    end
  end
  local x = inp.xruns + (out ~= inp and out.xruns or 0)
  for _ = client + 1, x do xruns[#xruns + 1] = t end
  client = math.max(client, x)
  marks[#marks + 1] = { t = t, f = inp.frame_count }
end

local rec, inpath, outpath
if mode == "playrec" then
  rec = out:playrec(src, { frames = lead + n + margin, pad = -1, blocking = false })
elseif mode == "file" then
  local dir = os.getenv("TMPDIR") or "/tmp"
  inpath = string.format("%s/paths-%s-in.wav", dir, name:gsub("%W", "_"))
  outpath = string.format("%s/paths-%s-out.wav", dir, name:gsub("%W", "_"))
  assert(ps.save(inpath, src, rate))
  out:playrec(inpath, { frames = lead + n + margin, pad = -1, out = outpath, overwrite = true, blocking = false })
else
  rec = inp:record{ frames = lead + n + margin, blocking = false }
  -- silence after the signal until the recording ends: a stopped ALSA PCM
  -- of the JACK plugin may leave its last period on the ports
  out:play(src, { frames = lead + n + 2 * margin, pad = -1, blocking = false })
end
poll()
while not (inp.finished and out.finished) do
  ps.sleep(0.01)
  poll()
end
local ok, err = inp:wait()
if out ~= inp then
  local ok2, err2 = out:wait()
  ok, err = ok and ok2, err or err2
end
poll()
T.ok(ok, label .. ": the run ended without an error", tostring(err))
if mode == "file" then
  rec = ps.load(outpath)
  os.remove(inpath); os.remove(outpath)
  T.ok(rec, label .. ": the recording reads back")
  if not rec then T.done() return end
end
T.eq(rec:frames(), lead + n + margin, label .. ": every frame recorded")

if lead > 0 then
  D.verdict(T, label, rec, n, P, marks, xruns, client, WINDOW)
else
  -- the start without a lead: from recorded frame `at` on, the signal
  -- from its frame k0 (a whole number of periods: those played before the
  -- links were active) to its end, every frame, then silence; before `at`,
  -- each channel silent or already its counter in step (the links of the
  -- two channels can become active a cycle apart)
  local frames, SC = rec:frames(), 1 << 24
  local at, k0
  for i = 0, frames - 1 do
    local k = D.decode(rec[2 * i + 1], rec[2 * i + 2], n)
    if math.type(k) == "integer" then at, k0 = i, k break end
  end
  local whole, bad = at ~= nil, nil
  if whole then
    for i = 0, at - 1 do
      local want = (k0 - (at - i) + 1) / SC
      local a, b = rec[2 * i + 1], rec[2 * i + 2]
      if not ((a == 0 or a == want) and (b == 0 or b == -want)) then whole, bad = false, i break end
    end
  end
  print(string.format("# %s: the signal came back from its frame %s on (%s period(s) lost at the start), at recorded frame %s",
    label, tostring(k0), k0 and string.format("%g", k0 / P) or "?", tostring(at)))
  T.ok(whole and k0 == 0, label .. ": nothing lost at the start: the signal from its first frame (the stream sat out the links' first cycles)",
    whole and ("starts at source frame " .. tostring(k0))
    or ("damage at recorded frame " .. tostring(bad) .. ": " .. D.describe(rec, n, { first = bad or 0, last = bad or 0 })))
  if whole then
    -- from there on, the accounted verdict: the rest as a counter of its own
    -- (source frame k0 + j as frame j: exact, multiples of 2^-24 below 1)
    local rest = ps.Buffer(frames - at, 2)
    for i = at, frames - 1 do
      local a, b = rec[2 * i + 1], rec[2 * i + 2]
      local j = 2 * (i - at)
      rest[j + 1] = a ~= 0 and a - k0 / SC or 0
      rest[j + 2] = b ~= 0 and b + k0 / SC or 0
    end
    local shifted = {}
    for x, m in ipairs(marks) do shifted[x] = { t = m.t, f = m.f - at } end
    D.verdict(T, label .. " (from the first whole frame)", rest, n - k0, P, shifted, xruns, client, WINDOW)
  end
end
if mode ~= "split" then
  -- the first recorded frame that holds source frame 0 gives the delay
  local delay
  for g = 0, rec:frames() - 1 do
    if rec[2 * g + 1] == 1 / (1 << 24) and rec[2 * g + 2] == -1 / (1 << 24) then delay = g - lead break end
  end
  print(string.format("# %s: measured delay %s frames, portaudio roundtrip_frames %d",
                      label, tostring(delay), out:roundtrip_frames()))
  print(string.format("delay %s portaudio %d", tostring(delay), out:roundtrip_frames()))
end
if out ~= inp then out:close() end
inp:close()
T.done()
