-- The damage accounting of the short-period loopback tests (tests/damage.lua)
-- on recordings made here with known damage: a clean one passes, and each
-- kind of damage a late JACK cycle causes (a period changed, lost,
-- repeated, or silent) is found, counted in periods, and accounted only
-- when an xrun was reported near it.  No rig: pure logic.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local D = require "damage"

local P = 256
local N = 40 * P           -- source frames
local DELAY = P            -- the round trip

-- A recording of the counter signal as a plain array (interleaved, 1-based),
-- `frames` long: silence, the source from DELAY on, then silence; edit(rec,
-- frame_of_source) may change it.
local function recording(frames, map)
  local rec = {}
  for i = 0, frames - 1 do
    local k = i - DELAY
    if map then k = map(i) end
    local v = 0
    if k and k >= 0 and k < N then v = (k + 1) / (1 << 24) end
    rec[2 * i + 1], rec[2 * i + 2] = v, -v
  end
  return rec
end
local FRAMES = N + 4 * P
-- marks: frame i passed at i / 48000 s
local marks = { { t = 0, f = 0 }, { t = FRAMES / 48000, f = FRAMES } }
local at = function(frame) return frame / 48000 end

T.group("clean", function()
  local b, sum = D.bursts(recording(FRAMES), FRAMES, N, P)
  T.eq(#b, 0, "a clean recording has no damage")
  T.ok(sum.arrived and sum.ended, "start and end found")
end)

T.group("a changed period", function()
  local rec = recording(FRAMES)
  for i = 10 * P, 11 * P - 1 do rec[2 * i + 1] = 0.25; rec[2 * i + 2] = -0.25 end
  local b, sum = D.bursts(rec, FRAMES, N, P)
  T.eq(#b, 1, "one burst")
  T.eq(sum.periods, 1, "one period damaged")
  local acc, orphans = D.account(b, marks, {}, 0.5)
  T.eq(#orphans, 1, "no xrun reported: the burst is not accounted")
  T.eq(acc, 0, "no period accounted")
  acc, orphans = D.account(b, marks, { at(10 * P) + 0.2 }, 0.5)
  T.eq(#orphans, 0, "an xrun 0.2 s after it accounts for it")
  T.eq(acc, 1, "one period accounted")
  acc, orphans = D.account(b, marks, { at(10 * P) + 3 }, 0.5)
  T.eq(#orphans, 1, "an xrun 3 s away does not")
  -- a long burst is accounted for at its start, not by an xrun within it
  local long = { { first = 10 * P, last = 10 * P + 96000, periods = 94 } }
  local m10 = { { t = 0, f = 0 }, { t = 10, f = 480000 } }     -- 10 s at 48 kHz
  acc, orphans = D.account(long, m10, { at(10 * P) + 1.5 }, 0.5)
  T.eq(#orphans, 1, "a burst of 2 s: an xrun 1.5 s after its start does not account for it")
  acc, orphans = D.account(long, m10, { at(10 * P) - 0.1 }, 0.5)
  T.eq(acc, 94, "an xrun 0.1 s before its start does")
end)

T.group("a repeated period", function()
  local rec = recording(FRAMES, function(i)
    if i < 12 * P then return i - DELAY end
    return i - DELAY - P            -- from here on one period late: a repeat
  end)
  local b, sum = D.bursts(rec, FRAMES, N, P)
  T.eq(#b, 1, "one burst")
  T.ok(sum.periods >= 1, "at least one period damaged")
  T.eq(b[1] and b[1].first, 12 * P, "at the repeat")
end)

T.group("a lost period", function()
  local rec = recording(FRAMES, function(i)
    if i < 12 * P then return i - DELAY end
    return i - DELAY + P            -- one period skipped
  end)
  local b = D.bursts(rec, FRAMES, N, P)
  T.eq(#b, 1, "one burst")
  T.eq(b[1] and b[1].first, 12 * P, "at the gap")
end)

T.group("a silent period in the middle", function()
  local rec = recording(FRAMES)
  for i = 20 * P, 21 * P - 1 do rec[2 * i + 1] = 0; rec[2 * i + 2] = 0 end
  local b, sum = D.bursts(rec, FRAMES, N, P)
  T.eq(#b, 1, "one burst")
  T.eq(sum.periods, 1, "one period")
end)

T.group("one wrong sample", function()
  local rec = recording(FRAMES)
  rec[2 * (15 * P + 7) + 2] = 0.5    -- channel 2 only
  local b, sum = D.bursts(rec, FRAMES, N, P)
  T.eq(#b, 1, "found")
  T.eq(sum.frames >= 1, true, "counted")
end)

T.group("two bursts far apart, one explained", function()
  local rec = recording(FRAMES)
  for i = 5 * P, 6 * P - 1 do rec[2 * i + 1] = 0 end
  for i = 30 * P, 31 * P - 1 do rec[2 * i + 1] = 0 end
  local b, sum = D.bursts(rec, FRAMES, N, P)
  T.eq(#b, 2, "two bursts")
  local acc, orphans = D.account(b, marks, { at(5 * P) }, 0.05)
  T.eq(acc, 1, "one period accounted")
  T.eq(#orphans, 1, "the other is not")
  T.eq(sum.periods, 2, "two periods in all")
end)

T.group("a period from the cycle before (stale audio)", function()
  local rec = recording(FRAMES, function(i)
    if i >= 10 * P and i < 11 * P then return i - DELAY - P end
    return i - DELAY
  end)
  local b, sum = D.bursts(rec, FRAMES, N, P)
  T.eq(#b, 1, "one burst")
  T.eq(sum.periods, 1, "one period")
end)

T.group("the first period damaged", function()
  local rec = recording(FRAMES, function(i)
    if i < DELAY + P then return nil end
    return i - DELAY
  end)
  for i = DELAY, DELAY + P - 1 do rec[2 * i + 1] = 0.75; rec[2 * i + 2] = 0.75 end
  local b, sum = D.bursts(rec, FRAMES, N, P)
  T.eq(#b, 1, "one burst")
  T.eq(sum.periods, 1, "one period, not the whole recording")
end)

T.group("signal never arrives", function()
  local rec = recording(FRAMES, function() return nil end)
  local _, sum = D.bursts(rec, FRAMES, N, P)
  T.ok(not sum.arrived, "silence is not the signal")
end)

T.done()
