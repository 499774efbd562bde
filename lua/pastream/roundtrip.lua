--- pastream.roundtrip: measure a duplex stream's round trip.
--
--   local ps = require "pastream"
--   require "pastream.roundtrip"          -- adds the method to streams
--   local s <close> = ps.DuplexStream{ device = "loopback" }
--   local frames, err = s:measure_roundtrip()
--
-- PortAudio's reported latency is a hint: through netjack2 the round trip
-- measured 6144 frames against 3072 reported (7168 against 4096 on an
-- asynchronous slave), through PipeWire's JACK library 1024 against 2^33.
-- Where alignment matters it is measured: a short burst of noise is
-- played, found in what comes back, and its delay, to the frame, is the
-- round trip.  The whole measurement takes 0.35 s of
-- audio (0.1 s of silence first, see LEAD; longer only when the reported
-- latency is longer).
--
-- s:measure_roundtrip([opts]) -> frames, or nil and a message when nothing
-- came back (the output does not reach the input).  The stream must be a
-- DuplexStream that is not running; it is left stopped.  opts: seconds
-- (how long to listen, default 0.25 s beyond the reported latency), level
-- (the burst's peak, default 0.5).  The result is remembered:
-- s:measured_roundtrip() returns the last one (nil before any).
local core = require "pastream.core"
local ps = require "pastream"

local M = {}

local BURST = 256                -- frames of noise: unmistakable, and short
-- Silence before the burst, in seconds: the first period a stream plays can
-- be lost.  PipeWire's JACK library (0.3.65) returns from jack_connect
-- before the link is active, so PortAudio's JACK host API starts the
-- stream while its ports are still being linked, and a period or so of
-- what it plays goes nowhere, with no xrun reported (tests/sh/test_paths.sh
-- shows it under injected stalls).  A burst played then never comes back.
local LEAD = 0.1
local measured = setmetatable({}, { __mode = "k" })   -- stream -> frames

local function pick(v, i) if type(v) == "table" then return v[i] end return v end

-- The burst: deterministic pseudo-random noise, so that any stretch of it
-- correlates with itself and with nothing else.
local function burst_values(level)
  local v, x = {}, 20231
  for i = 1, BURST do
    x = (x * 1103515245 + 12345) % 2147483648
    v[i] = (x / 1073741824 - 1) * level
  end
  return v
end

--- The lag (0-based frame) at which `values` best matches channel c of
-- rec, searched from lag lo to hi; and the correlation there.
local function best_lag(rec, c, values, lo, hi)
  local n = rec:frames()
  local best, at = -math.huge, nil
  for lag = math.max(0, lo), math.min(hi, n - #values) do
    local sum = 0
    for i = 1, #values do sum = sum + values[i] * rec:sample(lag + i, c) end
    if sum > best then best, at = sum, lag end
  end
  return at, best
end

--- M.find(rec, values) -> the frame (0-based) where the burst `values`
-- starts in the recording rec, or nil when no channel holds it.  The
-- first frame louder than half the loudest gives the place; a cross-
-- correlation around it gives the frame.
function M.find(rec, values)
  local peak = 0
  for _, p in ipairs { rec:peak() } do if p > peak then peak = p end end
  if peak < 1e-4 then return nil end          -- silence (or noise far below)
  local best, where
  for c = 1, rec:channels() do
    local onset
    for f = 1, rec:frames() do
      if math.abs(rec:sample(f, c)) >= peak / 2 then onset = f - 1 break end
    end
    if onset then
      local lag, score = best_lag(rec, c, values, onset - #values, onset + 8)
      if lag and (not best or score > best) then best, where = score, lag end
    end
  end
  -- A real burst correlates with itself: its energy, give or take the
  -- device's gain; a click or hum does not.
  return best and best > 0 and where or nil
end

local Stream = core.stream_methods

function Stream:measure_roundtrip(o)
  o = o or {}
  if self.kind ~= "DuplexStream" then
    error("measure_roundtrip: the round trip needs a DuplexStream (this is an " .. tostring(self.kind) .. ")", 2)
  end
  if self.active then error("measure_roundtrip: the stream is running", 2) end
  local level = o.level or 0.5
  local rate = self.samplerate
  -- PortAudio's figure widens the window; one over a second is not
  -- believed (pipewire-jack's port latencies read as 2^33 - 2048 frames)
  local reported = self:roundtrip_frames()
  if reported > rate then reported = 0 end
  local lead = math.floor(LEAD * rate + 0.5)
  local listen = lead + math.floor((o.seconds or 0.25) * rate + 0.5) + reported + BURST
  local nout = pick(self.channels, 2)
  local values = burst_values(level)
  local buf = ps.Buffer(lead + BURST, nout, "float32")
  for f = 1, BURST do
    for c = 1, nout do buf:sample(lead + f, c, values[f]) end
  end
  local rec = self:playrec(buf, { frames = listen, pad = -1 })
  local at = M.find(rec, values)
  if at and at < lead then at = nil end         -- before the burst was played: not it
  if not at then
    return nil, string.format("no sound came back within %.2f s: is the output connected to the input?",
      (listen - lead) / rate)
  end
  at = at - lead
  measured[self] = at
  return at
end

function Stream:measured_roundtrip() return measured[self] end

M.burst_values = burst_values
return M
