-- Soak: duplex float32 stereo loopback through stream:chunks{} for a long
-- time, every received sample checked against what was sent, and resident
-- memory sampled after a warm-up and at the end.
--
--   pastream-lua tests/lua/soak.lua        -- on a rig (make soak: 384 kHz)
--   SOAK_SECONDS=3600 (default) or SOAK_FRAMES=N: the length, in seconds of
--   48 kHz audio or in frames (a 384 kHz rig runs 8 of those per second).
--
-- tests/lua/test_soak_fast.lua runs a shorter soak through require "soak".
-- The playback is a pseudorandom source of SRC_FRAMES frames (a prime, so
-- that its seam falls anywhere in a chunk) looped by the callback; a lost,
-- repeated or changed frame shifts or alters what comes back, and the check
-- compares every chunk, sample for sample, with the frames expected at its
-- position.  Nothing is allocated per chunk (the expected frames are copied
-- into one reused Buffer), so the Lua heap and the process stay flat.
package.path = "tests/?.lua;" .. package.path
local ps = require "pastream"
local uv = require "luv"

local M = {}

local CHUNK = 2048
local SRC_FRAMES = 1000003      -- ~2.6 s at 384 kHz, prime

-- Resident memory in kB (VmRSS), after a full collection, so that what is
-- measured is memory still in use, not garbage waiting for the collector.
local function rss_kb()
  collectgarbage("collect")
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

local function source(frames, seed)
  local src = ps.Buffer(frames, 2)
  local x = seed
  for i = 1, #src do
    x = x * 6364136223846793005 + 1442695040888963407
    src[i] = ((x >> 40) - (1 << 23)) / (1 << 23)     -- exact in float32
  end
  return src
end

--- M.run(frames [, log]) -> a table of figures: frames (asked), received,
-- lost, changed (frames whose samples differ), bad_chunks, first_bad (frame,
-- 0-based, or nil), rss_warm, rss_end, rss_max (kB), xruns, wall (s),
-- rate (Hz), delay, error (a stream error message, or nil).  log(msg) gets
-- a progress line about every tenth of the run.
function M.run(frames, log)
  log = log or function() end
  local src = source(SRC_FRAMES, 20261124)
  local silence = ps.Buffer(CHUNK, 2)
  local expect = ps.Buffer(CHUNK, 2)
  local r = { frames = frames, received = 0, lost = 0, changed = 0, bad_chunks = 0 }

  local s <close> = ps.DuplexStream{ device = "loopback", channels = 2, format = "float32",
                                     buffersize = 1 << 18 }
  r.rate = s.samplerate
  local delay = s:roundtrip_frames()
  r.delay = delay
  local total = frames + delay
  -- The warm-up: the first tenth, at most 60 s of 48 kHz audio.
  local warm = math.min(total // 10, 60 * 48000)
  local progress_every = math.max(total // 10, 1)
  local next_progress = progress_every

  -- Fill `expect` with the n frames the recording holds from frame pos on
  -- (0-based): silence before the round trip, then the looped source.
  local function expected(pos, n)
    expect:resize(n)
    local d = 1
    while d <= n do
      local p = pos + d - 1
      if p < delay then
        local k = math.min(n - d + 1, delay - p)
        expect:copyfrom(silence, d, 1, k)
        d = d + k
      else
        local sf = (p - delay) % SRC_FRAMES + 1
        local k = math.min(n - d + 1, SRC_FRAMES - sf + 1)
        expect:copyfrom(src, d, sf, k)
        d = d + k
      end
    end
    return expect
  end

  -- Frames of a bad chunk whose samples differ (only then is it looked at
  -- sample by sample).
  local function count_changed(chunk, want)
    local n = 0
    for f = 1, chunk:frames() do
      if chunk:sample(f, 1) ~= want:sample(f, 1) or chunk:sample(f, 2) ~= want:sample(f, 2) then
        n = n + 1
      end
    end
    return n
  end

  local t0 = uv.hrtime()
  local pos = 0
  local ok, err = pcall(function()
    for chunk in s:chunks{ chunksize = CHUNK, frames = total, playback = src, loop = true } do
      local n = chunk:frames()
      local want = expected(pos, n)
      if not chunk:equals(want) then
        r.bad_chunks = r.bad_chunks + 1
        r.first_bad = r.first_bad or pos
        r.changed = r.changed + count_changed(chunk, want)
      end
      pos = pos + n
      if not r.rss_warm and pos >= warm then
        r.rss_warm = rss_kb()
        r.rss_max = r.rss_warm
      elseif r.rss_warm and pos >= next_progress then
        r.rss_max = math.max(r.rss_max, rss_kb())
      end
      if pos >= next_progress then
        next_progress = next_progress + progress_every
        log(string.format("%d of %d frames (%.0f%%), %d changed, xruns %d, RSS %d kB, %.0f s",
                          pos, total, 100 * pos / total, r.changed, s.xruns,
                          r.rss_max or rss_kb(), (uv.hrtime() - t0) / 1e9))
      end
    end
  end)
  if not ok then r.error = tostring(err) end
  r.wall = (uv.hrtime() - t0) / 1e9
  r.received = pos
  r.lost = total - pos
  r.xruns = s.xruns
  r.rss_end = rss_kb()
  r.rss_warm = r.rss_warm or r.rss_end
  r.rss_max = math.max(r.rss_max or 0, r.rss_end)
  return r
end

--- M.check(T, r): the TAP assertions on a run's figures (tests/tap.lua).
function M.check(T, r)
  local audio = r.frames / 48000
  print(string.format("# soak: %d frames (%.0f s of 48 kHz audio) at %d Hz in %.1f s wall, "
                      .. "round trip %d frames, xruns %d",
                      r.frames, audio, r.rate, r.wall, r.delay, r.xruns))
  print(string.format("# soak: received %d, lost %d, changed %d (%d bad chunks); "
                      .. "RSS warm %d kB, end %d kB, max %d kB",
                      r.received, r.lost, r.changed, r.bad_chunks,
                      r.rss_warm, r.rss_end, r.rss_max))
  T.ok(not r.error, "the stream ran to its end without an error", r.error)
  T.eq(r.lost, 0, "no frame lost (" .. r.received .. " received)")
  T.eq(r.changed, 0, "no frame changed" ..
       (r.first_bad and (" (first bad chunk at frame " .. r.first_bad .. ")") or ""))
  local growth = r.rss_max - r.rss_warm
  if os.getenv("PS_SANITIZER") then
    -- ASan keeps freed memory in quarantine (up to 256 MB) and memcheck has
    -- its own allocator, so resident memory says nothing about ours there;
    -- their leak checks at exit stand in for this one.
    print(string.format("# resident memory grew %d kB: not checked under %s",
                        growth, os.getenv("PS_SANITIZER")))
  else
    T.ok(growth < 1024, string.format("resident memory flat after the warm-up: "
         .. "grew %d kB (under 1024)", growth))
  end
  -- xruns are timing, left to the figures above; lost or changed data is checked
end

local function env_frames()
  local f, sec = os.getenv("SOAK_FRAMES"), os.getenv("SOAK_SECONDS")
  if f then
    return assert(math.tointeger(tonumber(f)), "SOAK_FRAMES must be an integer number of frames, got " .. f)
  end
  local n = tonumber(sec or "3600")
  assert(n and n > 0, "SOAK_SECONDS must be a number of seconds > 0, got " .. tostring(sec))
  return math.floor(n * 48000)
end

if ... == "soak" then return M end   -- required by a test: no run here

local T = require "tap"
local r = M.run(env_frames(), function(msg) print("# " .. msg); io.stdout:flush() end)
M.check(T, r)
T.done()
