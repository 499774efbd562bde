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

--- M.run(frames [, log [, opts]]) -> a table of figures: frames (asked),
-- received, lost, changed (frames whose samples differ), bad_chunks,
-- first_bad (frame, 0-based, or nil), rss_warm, rss_end, rss_max (kB),
-- xruns, wall (s), rate (Hz), delay, error (a stream error message, or
-- nil).  log(msg) gets a progress line about every tenth of the run.
-- opts (the soaks on the other paths, tests/sh/test_paths_soak.sh):
--   device   the device (default "loopback")
--   measure  true: the round trip is measured first (stream:measure_roundtrip,
--            r.measured) and the delay is where the signal's first frame
--            comes back (r.delay; r.arrived false when it never does), not
--            PortAudio's figure, which is wrong on these paths
--   account  { logs = {path...}, period = P, window = seconds }: changed
--            frames are grouped into bursts (tests/damage.lua) and each is
--            accounted for by an xrun reported within `window` seconds, by
--            the stream (stream.xruns) or in a server's log (lines with
--            "xrun", "XRun" or PipeWire's "client too slow"): r.bursts,
--            r.periods (damaged), r.accounted, r.orphans, r.log_xruns
function M.run(frames, log, opts)
  log = log or function() end
  opts = opts or {}
  local src = source(SRC_FRAMES, 20261124)
  local silence = ps.Buffer(CHUNK, 2)
  local expect = ps.Buffer(CHUNK, 2)
  local r = { frames = frames, received = 0, lost = 0, changed = 0, bad_chunks = 0 }

  local s <close> = ps.DuplexStream{ device = opts.device or "loopback", channels = 2,
                                     format = "float32", buffersize = 1 << 18 }
  r.rate = s.samplerate
  local delay = s:roundtrip_frames()
  -- Damage accounting (opts.account): the server logs read as they grow,
  -- from before the round trip is measured (a fault at the end of the
  -- measuring run can show in the first periods of the soak's), xrun times
  -- on the clock of `marks` (recorded frame counts over time, one about
  -- every tenth of a second: the table stays small)
  local acc = opts.account
  local logs, xruns, marks, client, loglines = {}, {}, {}, 0, {}
  local D = require "damage"
  local col = D.collector(acc and acc.period or 1024)
  local function now() return uv.hrtime() / 1e9 end
  local next_mark = 0
  local function poll(pos)
    local t = now()
    for _, f in ipairs(logs) do
      -- whole lines only: a line still being written waits for its end
      local text = f.part .. (f.file:read("a") or "")
      f.part = text:match("[^\n]*$")
      for line in text:gmatch("([^\n]*)\n") do
        -- the first 2000 lines kept with their times: a failed check shows
        -- what the servers said around each unexplained burst
        if #loglines < 2000 then loglines[#loglines + 1] = { t = t, line = line } end
        if line:find("xrun", 1, true) or line:find("XRun", 1, true) or line:find("client too slow", 1, true) then
          xruns[#xruns + 1] = t
          r.log_xruns = r.log_xruns + 1
        end
      end
    end
    local x = s.xruns
    for _ = client + 1, x do xruns[#xruns + 1] = t end
    client = math.max(client, x)
    if t >= next_mark then
      marks[#marks + 1] = { t = t, f = s.frame_count }
      next_mark = t + 0.1
    end
  end
  if acc then
    r.log_xruns = 0
    for _, path in ipairs(acc.logs or {}) do
      local f = assert(io.open(path, "rb"))
      f:seek("end")
      logs[#logs + 1] = { file = f, part = "" }
    end
  end

  if opts.measure then
    require "pastream.roundtrip"
    r.measure = true
    r.measured, r.measure_err = s:measure_roundtrip()
    if acc then
      -- the measuring run's xruns (its counters, until the soak's run
      -- starts them at 0 again) and what the logs said meanwhile
      poll(0)
      client, marks, next_mark = 0, {}, 0
    end
    -- the recording runs past the signal by the measured delay and a second
    delay = (r.measured or 0) + math.floor(r.rate)
  end
  r.delay = not opts.measure and delay or nil
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
  -- sample by sample); pos: the chunk's first frame, for the bursts.
  local function count_changed(chunk, want, pos)
    local n = 0
    for f = 1, chunk:frames() do
      if chunk:sample(f, 1) ~= want:sample(f, 1) or chunk:sample(f, 2) ~= want:sample(f, 2) then
        n = n + 1
        if acc then col.add(pos + f - 1) end
      end
    end
    return n
  end

  -- Realignment (opts.account): an xrun on a path of two clients (the ALSA
  -- PCMs' playback and capture) can leave the round trip a period longer or
  -- shorter for good.  The frames from the xrun to where the signal goes on
  -- in step again are damage, accounted as such; from there on the check
  -- follows the new delay (r.realigned lists the changes) instead of
  -- counting every later frame.  Which source frame a recorded one is comes
  -- from a table of the source's frames (its two 24-bit samples as one key).
  local where
  -- (nil for a frame no source frame can be: not a multiple of 2^-23 in
  -- [-1, 1), NaN, infinite)
  local function key(x, y)
    local a, b = math.tointeger(x * (1 << 23)), math.tointeger(y * (1 << 23))
    if not a or not b or a < -(1 << 23) or a >= (1 << 23) or b < -(1 << 23) or b >= (1 << 23) then return nil end
    return (a + (1 << 23)) << 24 | (b + (1 << 23))
  end
  if acc then
    where = {}
    for f = 1, SRC_FRAMES do where[key(src:sample(f, 1), src:sample(f, 2))] = f end
    r.realigned = {}
  end
  local function realign(chunk, pos)
    local n = chunk:frames()
    if n < 2 then return end
    local x, y = chunk:sample(n, 1), chunk:sample(n, 2)
    if x == 0 and y == 0 then return end
    local k = key(x, y)
    local j = k and where[k]
    -- the frame before must be the source frame before, too
    local jp = j and (j == 1 and SRC_FRAMES or j - 1)
    if not j or chunk:sample(n - 1, 1) ~= src:sample(jp, 1) or chunk:sample(n - 1, 2) ~= src:sample(jp, 2) then return end
    local p = pos + n - 1                  -- 0-based recorded frame holding src frame j
    local d = (p - (j - 1) - delay) % SRC_FRAMES
    if d > SRC_FRAMES // 2 then d = d - SRC_FRAMES end
    if d ~= 0 then
      delay = delay + d
      r.realigned[#r.realigned + 1] = { at = p, by = d }
    end
  end

  -- opts.measure: the signal's delay is where its first frame arrives (the
  -- first frame that is not silence must be it, else it counts as damage)
  local found = not opts.measure
  local a1, a2 = src:sample(1, 1), src:sample(1, 2)
  local function find_start(chunk, pos)
    for f = 1, chunk:frames() do
      local x, y = chunk:sample(f, 1), chunk:sample(f, 2)
      if x ~= 0 or y ~= 0 then
        if x == a1 and y == a2 then
          delay, r.delay, r.arrived = pos + f - 1, pos + f - 1, true
        else
          r.arrived = false
          delay, r.delay = r.measured or 0, r.measured
        end
        found = true
        return
      end
    end
  end

  local t0 = uv.hrtime()
  local pos = 0
  -- (no poll before the first chunk: until the run starts, the stream's
  -- counters are the measuring run's, and each run starts them at 0)
  local ok, err = pcall(function()
    for chunk in s:chunks{ chunksize = CHUNK, frames = total, playback = src, loop = true } do
      local n = chunk:frames()
      if not found then find_start(chunk, pos) end
      local want = expected(pos, n)
      if not chunk:equals(want) then
        r.bad_chunks = r.bad_chunks + 1
        r.first_bad = r.first_bad or pos
        r.changed = r.changed + count_changed(chunk, want, pos)
        if acc and found then realign(chunk, pos) end
      end
      pos = pos + n
      if acc then poll(pos) end
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
  if acc then
    poll(pos)
    for _, f in ipairs(logs) do f.file:close() end
    local bursts
    bursts, r.periods = col.finish()
    r.accounted, r.orphans = D.account(bursts, marks, xruns, acc.window or 0.5)
    r.bursts, r.marks, r.xrun_times, r.loglines = bursts, marks, xruns, loglines
  end
  r.rss_end = rss_kb()
  r.rss_warm = r.rss_warm or r.rss_end
  r.rss_max = math.max(r.rss_max or 0, r.rss_end)
  return r
end

--- M.check(T, r [, label]): the TAP assertions on a run's figures
-- (tests/tap.lua).  A run with accounting (opts.account) passes with damaged
-- periods when each lies at a reported xrun; one without, only with none.
function M.check(T, r, label)
  local pre = label and (label .. ": ") or ""
  local audio = r.frames / 48000
  print(string.format("# %ssoak: %d frames (%.0f s of 48 kHz audio) at %d Hz in %.1f s wall, "
                      .. "round trip %s frames%s, xruns %d",
                      pre, r.frames, audio, r.rate, r.wall, tostring(r.delay),
                      r.measured and (" (measured " .. r.measured .. ")") or "", r.xruns))
  print(string.format("# %ssoak: received %d, lost %d, changed %d (%d bad chunks); "
                      .. "RSS warm %d kB, end %d kB, max %d kB",
                      pre, r.received, r.lost, r.changed, r.bad_chunks,
                      r.rss_warm, r.rss_end, r.rss_max))
  T.ok(not r.error, pre .. "the stream ran to its end without an error", r.error)
  T.eq(r.lost, 0, pre .. "no frame lost (" .. r.received .. " received)")
  if r.measure then
    T.ok(r.measured, pre .. "stream:measure_roundtrip() found the round trip", r.measure_err)
    T.ok(r.arrived, pre .. "the signal came back from its first frame on",
         r.arrived == nil and "nothing but silence came back" or nil)
    T.ok(r.measured and r.delay == r.measured, pre .. "it came back at the measured round trip (stream:measure_roundtrip)",
         string.format("came back at %s, measured %s", tostring(r.delay), tostring(r.measured)))
  end
  if r.periods then
    print(string.format("# %ssoak: %d xrun(s) reported (%d by the client, %d in the servers' logs); "
                        .. "%d periods damaged in %d burst(s), %d of them at reported xruns",
                        pre, #r.xrun_times, r.xruns, r.log_xruns, r.periods, #r.bursts, r.accounted))
    for _, a in ipairs(r.realigned) do
      print(string.format("# %ssoak: from recorded frame %d on, the round trip changed by %+d frames", pre, a.at, a.by))
    end
    local D = require "damage"
    -- the reported xrun nearest to a burst's start, in seconds from it
    local function nearest(b)
      local t0, near = D.time_of(r.marks, b.first), nil
      for _, x in ipairs(r.xrun_times) do
        if not near or math.abs(x - t0) < math.abs(near - t0) then near = x end
      end
      return t0, near and near - t0
    end
    for i, b in ipairs(r.bursts) do
      if i > 10 then print("# " .. pre .. "soak: ...") break end
      local t0, d = nearest(b)
      print(string.format("# %ssoak: burst at %.3f s, frames %d..%d (%d period(s)), the nearest reported xrun %s",
        pre, t0 - r.marks[1].t, b.first, b.last, b.periods, d and string.format("at %+.3f s", d) or "none"))
    end
    T.eq(r.accounted, r.periods, pre .. "every damaged period at a reported xrun, none changed otherwise")
    for i, b in ipairs(r.orphans) do
      if i > 10 then print("#   ...") break end
      local t0, d = nearest(b)
      print(string.format("#   frames %d..%d (%d period(s)) at %.3f s, no xrun within the window%s",
        b.first, b.last, b.periods, t0 - r.marks[1].t,
        d and string.format(" (the nearest at %+.3f s)", d) or " (none reported)"))
      if i <= 3 then
        for _, l in ipairs(r.loglines) do
          if math.abs(l.t - t0) <= 2 then
            print(string.format("#     log at %+.3f s: %s", l.t - t0, l.line:sub(1, 160)))
          end
        end
      end
    end
  else
    T.eq(r.changed, 0, pre .. "no frame changed" ..
         (r.first_bad and (" (first bad chunk at frame " .. r.first_bad .. ")") or ""))
  end
  local growth = r.rss_max - r.rss_warm
  if os.getenv("PS_SANITIZER") then
    -- ASan keeps freed memory in quarantine (up to 256 MB) and memcheck has
    -- its own allocator, so resident memory says nothing about ours there;
    -- their leak checks at exit stand in for this one.
    print(string.format("# resident memory grew %d kB: not checked under %s",
                        growth, os.getenv("PS_SANITIZER")))
  else
    T.ok(growth < 1024, string.format("%sresident memory flat after the warm-up: "
         .. "grew %d kB (under 1024)", pre, growth))
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
