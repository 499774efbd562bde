-- Damage accounting for loopback tests on short periods (issue: test
-- verdicts that do not depend on the machine's timing).
--
-- On a period of 5 ms a stalled virtual CPU can make the JACK rig run a
-- cycle late, and one period of a loopback then comes back changed, lost or
-- repeated, with or without an xrun reported to the client.  A test on such
-- a period cannot demand bit-exact audio; it can demand that every damaged
-- period coincides with an xrun someone reported (the client's PortAudio
-- flags, or the server's own log), and that nothing else is wrong.
--
-- The signal is a frame counter: frame f (0-based) of channel 1 is
-- (f + 1) / 2^24 and of channel 2 its negative, exact in float32 up to 2^24
-- frames, so every recorded frame says which source frame it is.  A frame
-- is good when it continues the frame before it (counter + 1), or is the
-- silence before the signal arrives or after it ends; after frames that
-- are no frame of the signal, the first that goes on where the signal
-- would have is good again.  Damaged frames are
-- grouped into bursts (gaps under two periods join); a burst from frame a
-- to frame b counts max(1, ceil((b - a) / period)) damaged periods.
local M = {}

local SCALE = 1 << 24

-- The counter signal as a Buffer of n frames (two channels, float32),
-- after `lead` frames of silence (default 0).
function M.signal(ps, n, lead)
  assert(n < SCALE, "the counter signal holds at most 2^24 - 1 frames")
  lead = lead or 0
  local buf = ps.Buffer(lead + n, 2)
  for f = 0, n - 1 do
    local v = (f + 1) / SCALE
    buf[2 * (lead + f) + 1] = v
    buf[2 * (lead + f) + 2] = -v
  end
  return buf
end

-- The source frame a recorded frame holds: 0-based index, "silence", or
-- nil when it is no frame of the signal.
local function decode(a, b, n)
  if a == 0 and b == 0 then return "silence" end
  if b ~= -a then return nil end
  local k = a * SCALE
  if k ~= math.floor(k) or k < 1 or k > n then return nil end
  return math.floor(k) - 1
end

-- A burst collector: add(i) marks frame i damaged (frames in increasing
-- order; gaps under two periods P join a burst); finish() gives the bursts
-- {first = frame, last = frame, periods = count} and the damaged periods:
-- a burst from frame a to frame b counts max(1, ceil((b - a) / P)).
function M.collector(P)
  local bursts, cur = {}, nil
  local c = {}
  function c.add(i)
    if cur and i - cur.last < 2 * P then
      cur.last = i
    else
      cur = { first = i, last = i }
      bursts[#bursts + 1] = cur
    end
  end
  function c.finish()
    local periods = 0
    for _, b in ipairs(bursts) do
      b.periods = math.max(1, math.ceil((b.last - b.first) / P))
      periods = periods + b.periods
    end
    return bursts, periods
  end
  return c
end

-- Bursts of damage in a recording `rec` (an array-like with rec[i] the
-- interleaved samples, 1-based, and `frames` frames) of a counter signal of
-- n frames, on a rig of period P.  Returns a list of bursts
-- {first = frame, last = frame, periods = count} and the summary
-- {frames = damaged frames, periods = damaged periods, arrived = bool}.
function M.bursts(rec, frames, n, P)
  local damaged = 0
  local prev = nil      -- what the previous frame held (index or "silence")
  local seen_end = false
  local arrived = false
  local last            -- the last good frame of the signal {k, i}
  local col = M.collector(P)
  local function mark(i)
    damaged = damaged + 1
    col.add(i)
  end
  for i = 0, frames - 1 do
    local k = decode(rec[2 * i + 1], rec[2 * i + 2], n)
    local good
    if k == nil then
      good = false
    elseif k == "silence" then
      -- before the first frame arrives, or after the last has gone by
      good = (not arrived) or seen_end
    elseif type(prev) == "number" then
      good = k == prev + 1
    elseif last then
      -- after frames that were no frame of the signal: good again when it
      -- goes on where it would have, had nothing happened
      good = k == last.k + (i - last.i)
    else
      good = k == 0 and not arrived   -- the signal starts at its frame 0
    end
    if good and type(k) == "number" then last = { k = k, i = i } end
    if k == n - 1 then seen_end = true end
    if type(k) == "number" then arrived = true end
    if not good then mark(i) end
    prev = k
  end
  local bursts, periods = col.finish()
  return bursts, { frames = damaged, periods = periods, arrived = arrived, ended = seen_end }
end

-- The time (seconds, on the clock of `marks`) at which recorded frame i
-- passed the callback, from marks = {{t = seconds, f = frames so far}, ...}
-- taken while the stream ran.
function M.time_of(marks, i)
  if #marks == 0 then return nil end
  if i <= marks[1].f then return marks[1].t end
  for j = 2, #marks do
    local a, b = marks[j - 1], marks[j]
    if i <= b.f then
      if b.f == a.f then return b.t end
      return a.t + (b.t - a.t) * (i - a.f) / (b.f - a.f)
    end
  end
  return marks[#marks].t
end

-- Account every burst for an xrun: xruns = list of times (same clock) at
-- which an xrun was seen reported; window = seconds either side of the
-- burst's start (a burst that goes on for seconds, the signal no longer
-- in step, began at its cause: an xrun in its middle does not explain it).
-- Returns accounted periods, unaccounted bursts (list).
function M.account(bursts, marks, xruns, window)
  local accounted, orphans = 0, {}
  for _, b in ipairs(bursts) do
    local t0 = M.time_of(marks, b.first)
    local hit = false
    for _, x in ipairs(xruns) do
      if t0 and x >= t0 - window and x <= t0 + window then hit = true; break end
    end
    if hit then accounted = accounted + b.periods
    else orphans[#orphans + 1] = b end
  end
  return accounted, orphans
end

M.decode = decode

-- What a burst of damage holds, for the record of one no xrun explains:
-- the source frames (or silence, or "noise": no frame of the signal) at
-- its first and last frame and either side, and where the signal arrived.
function M.describe(rec, n, b)
  local frames = rec:frames()
  local function at(i)
    if i < 0 or i >= frames then return "-" end
    local k = decode(rec[2 * i + 1], rec[2 * i + 2], n)
    if k == nil then return string.format("noise(%.3g)", rec[2 * i + 1]) end
    return tostring(k)
  end
  local arrival
  for i = 0, frames - 1 do
    if decode(rec[2 * i + 1], rec[2 * i + 2], n) == 0 then arrival = i break end
  end
  return string.format("holds [%d]=%s [%d]=%s .. [%d]=%s [%d]=%s; frame 0 of the signal at %s",
    b.first - 1, at(b.first - 1), b.first, at(b.first), b.last, at(b.last), b.last + 1, at(b.last + 1),
    tostring(arrival))
end

-- The verdict of one accounted run, as TAP lines through T (tests/tap.lua):
-- the signal came back start to end, and every damaged period lies within
-- `window` seconds of a reported xrun; prints the tally ("N periods
-- damaged, all N at reported xruns") and each burst no xrun explains.
-- client = how many of the xruns the client reported.
function M.verdict(T, label, rec, n, P, marks, xruns, client, window)
  local bursts, sum = M.bursts(rec, rec:frames(), n, P)
  T.ok(sum.arrived and sum.ended, label .. ": the signal came back, start to end")
  local accounted, orphans = M.account(bursts, marks, xruns, window)
  print(string.format("# %s: %d xrun(s) reported (%d by the client, %d in the server log)",
                      label, #xruns, client, #xruns - client))
  print(string.format("# %s: %d periods damaged, all %d at reported xruns%s", label, sum.periods,
                      sum.periods, #orphans == 0 and "" or " (NOT: see below)"))
  T.eq(accounted, sum.periods, label .. ": every damaged period at a reported xrun")
  for _, b in ipairs(orphans) do
    print(string.format("#   frames %d..%d (%d period(s)) at %.3f s, no xrun within %.1f s; %s",
      b.first, b.last, b.periods, M.time_of(marks, b.first) - marks[1].t, window,
      M.describe(rec, n, b)))
  end
  return sum, orphans
end

return M
