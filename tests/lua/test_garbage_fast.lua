-- No frame lost over 60 s of 48 kHz audio (2.88 M frames, run on the fast
-- rig) of duplex loopback through chunk iteration, every sample checked,
-- while another task churns garbage (the collector completing cycle after
-- cycle all through).
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local uv = require "luv"

local FRAMES = 60 * 48000
local CHUNK = 2048
-- Under a sanitizer or a stressed collector (tests/sanitize.sh,
-- tests/gcstress.sh, tests/valgrind.sh) Lua allocates PS_SLOWDOWN times
-- slower: the floor on the garbage rate is scaled by it, and the garbage
-- task yields after every round with a ring that holds more time (2.7 s),
-- so that a slower Lua thread still keeps up with the rig.  What is checked
-- does not change: garbage churn loses no frame.
local SLOWDOWN = tonumber(os.getenv("PS_SLOWDOWN") or "1")
-- What the test needs of the garbage is that the collector works all
-- through the run: it counts the collector's completed cycles (a sentinel
-- whose finalizer makes the next one) and asks for at least CYCLES in each
-- part.  The garbage rate is printed; how many MB/s a machine allocates is
-- the machine's business (benchmarks), not a verdict on our code.
local CYCLES = 10
local cycles = 0
local sentinel_mt = {}
sentinel_mt.__gc = function() cycles = cycles + 1; setmetatable({}, sentinel_mt) end
setmetatable({}, sentinel_mt)
local ROUNDS = SLOWDOWN > 1 and 1 or 8
local BUFFERSIZE = SLOWDOWN > 1 and (1 << 20) or nil

local src = ps.Buffer(FRAMES, 2)
local x = 42
for i = 1, #src do
  x = x * 6364136223846793005 + 1442695040888963407
  src[i] = ((x >> 40) - (1 << 23)) / (1 << 23)
end

local stop, garbage = false, 0
local t0 = uv.hrtime()
ps.spawn(function()
  while not stop do
    for _ = 1, ROUNDS do
      local t = {}
      for i = 1, 2000 do t[i] = { i, tostring(i) } end   -- many small objects
      local s = string.rep("x", 65536) .. garbage        -- and some big ones
      garbage = garbage + 2000 * 120 + #s
    end
    ps.sleep(0)
  end
end)

-- The ring holds 16 of the rig's periods at least (the default 65536
-- frames is only 4 periods of a 16384-frame rig, 170 ms at 384 kHz): the
-- Lua thread is woken once a period, and the garbage task runs between.
local probe = ps.DuplexStream{ device = "loopback", channels = 2 }
local period = probe:roundtrip_frames()
probe:close()
if not BUFFERSIZE then
  BUFFERSIZE = 65536
  while BUFFERSIZE < 16 * period do BUFFERSIZE = BUFFERSIZE * 2 end
end
local s <close> = ps.DuplexStream{ device = "loopback", channels = 2, buffersize = BUFFERSIZE }
local delay = s:roundtrip_frames()
local total = FRAMES + delay
local pos, bad, badpos = 0, 0, nil
local silence = ps.Buffer(CHUNK, 2)
for chunk in s:chunks{ chunksize = CHUNK, frames = total, playback = src, pad = -1 } do
  local n = chunk:frames()
  -- frames pos+1 .. pos+n of the recording are src frames pos+1-delay ..
  local a, b = pos + 1 - delay, pos + n - delay
  local ok
  if b < 1 then
    ok = chunk:equals(silence:resize(n))
  elseif a < 1 then
    ok = chunk:sub(1, -a + 1):equals(silence:resize(-a + 1)) and chunk:sub(-a + 2):equals(src:sub(1, b))
  else
    ok = chunk:equals(src:sub(a, b))
  end
  if not ok then bad = bad + 1; badpos = badpos or pos end
  pos = pos + n
end
stop = true
local secs = (uv.hrtime() - t0) / 1e9
local rate = garbage / secs / 1e6
local chunk_cycles = cycles

-- The same through a file recording (C disk thread), garbage still churning.
stop = false
local g0, t1, c0 = garbage, uv.hrtime(), cycles
ps.spawn(function()
  while not stop do
    local t = {}
    for i = 1, 2000 do t[i] = { i, tostring(i) } end
    garbage = garbage + 2000 * 120 + #(string.rep("y", 65536) .. garbage)
    ps.yield()
  end
end)
local path = os.tmpname()
os.remove(path)             -- only its name: no empty file left behind
path = path .. ".wav"
s:playrec(src, { frames = total, pad = -1, out = path })
stop = true
local frate = (garbage - g0) / ((uv.hrtime() - t1) / 1e9) / 1e6
local rec = assert(ps.load(path))
os.remove(path)
T.eq(rec:frames(), total, "the file recording holds every frame")
T.ok(rec:sub(delay + 1):equals(src), "the file recording is bit-exact")
print(string.format("# the garbage task allocated %.0f MB/s meanwhile (not checked)", frate))
T.ok(cycles - c0 >= CYCLES, string.format("meanwhile the collector completed %d cycles (at least %d)",
                                           cycles - c0, CYCLES))

T.eq(pos, total, "every frame arrived (" .. total .. " frames)")
T.eq(bad, 0, "every chunk bit-exact" .. (badpos and (" (first bad at frame " .. badpos .. ")") or ""))
-- xruns are timing (benchmarks' business); lost or changed data is checked above
print(string.format("# xruns: %d", s.xruns))
print(string.format("# the garbage task allocated %.0f MB/s during the chunk loop (not checked)", rate))
T.ok(chunk_cycles >= CYCLES, string.format("the collector completed %d cycles during the chunk loop (at least %d)",
                                            chunk_cycles, CYCLES))
T.done()
