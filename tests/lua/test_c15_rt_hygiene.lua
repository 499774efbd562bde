-- Realtime hygiene, measured (issue 15, point 16): the page faults and
-- voluntary context switches of the callback thread over three runs that
-- touch fresh memory: a recording into a new Buffer (the default
-- s:record{frames = N}), a recording to a file, and a duplex run with
-- channel maps.  A page fault in the callback is a stall of the realtime
-- thread (glibc's large calloc gives untouched pages: 426 faults recording
-- 4.5 s before the fix).  Faults are a count, not a timing: the test
-- asserts none after start.  Context switches are reported, not judged:
-- the JACK client thread sleeps between cycles by design.
--
-- The callback thread is found from outside the realtime path: it is the
-- one thread of this process with a realtime scheduling policy (JACK's
-- client thread, made when the stream opens), read from
-- /proc/self/task/TID/stat; its fault counters are read there too.
--
-- Under ASan with detect_stack_use_after_return (tests/sanitize.sh), the
-- callback's locals live on ASan's "fake stack", which faults in as it
-- rotates through it: that memory is the sanitizer's, not the program's.
-- The test then runs itself again with that option off (the shadow memory
-- of our buffers is made present by ps_mem_populate's instrumented writes),
-- so the same 0 is asserted in the sanitized build too.
local asan = os.getenv("ASAN_OPTIONS")
if asan and asan:find("detect_stack_use_after_return=1", 1, true) and arg and arg[-1] then
  local opts = asan:gsub("detect_stack_use_after_return=1", "detect_stack_use_after_return=0")
  local p = io.popen(string.format("ASAN_OPTIONS='%s' '%s' '%s'", opts, arg[-1], arg[0]))
  io.write(p:read("a"))
  local ok, _, code = p:close()
  os.exit(ok and 0 or code or 1)
end

package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local uv = require "luv"

local pid = math.tointeger(uv.os_getpid())

local function stat(tid)
  local f = io.open(string.format("/proc/%d/task/%s/stat", pid, tid))
  if not f then return nil end
  local line = f:read("a")
  f:close()
  -- fields after "(comm) ": state is field 3, so field k is at k - 2
  local fl = {}
  for w in line:match("%) (.*)"):gmatch("%S+") do fl[#fl + 1] = w end
  local st = io.open(string.format("/proc/%d/task/%s/status", pid, tid))
  local vcs = st and tonumber(st:read("a"):match("voluntary_ctxt_switches:%s*(%d+)"))
  if st then st:close() end
  return { minflt = tonumber(fl[10 - 2]), majflt = tonumber(fl[12 - 2]),
           policy = tonumber(fl[41 - 2]), vcs = vcs }
end

-- The threads of this process with a realtime policy (SCHED_FIFO/RR).
local function rt_threads()
  local list = {}
  local p = io.popen(string.format("ls /proc/%d/task", pid))
  for tid in p:lines() do
    local s = stat(tid)
    if s and s.policy ~= 0 then list[#list + 1] = tid end
  end
  p:close()
  return list
end

local dir = os.tmpname()
os.remove(dir)
assert(uv.fs_mkdir(dir, 493))

-- Run `run(s)` (which starts a non-blocking run) and count the callback
-- thread's faults from the moment start returned to the end of the run.
local function measure(name, s, run)
  local rts = rt_threads()
  T.eq(#rts, 1, name .. ": one realtime thread (the stream's callback thread)")
  local tid = rts[1]
  if not tid then return end
  local before_start = stat(tid)
  run(s)
  local a = stat(tid)
  local ok, err = pcall(s.wait, s)
  local b = stat(tid)
  T.ok(ok, name .. ": the run completes", err)
  if os.getenv("PS_SANITIZER") then
    -- under ASan every access also touches shadow memory, whose pages the
    -- sanitizer maps lazily: its faults are not the build users run
    -- (the plain build asserts 0 here)
    print(string.format("# %s: %d minor fault(s) after start under %s (not checked)",
                        name, b.minflt - a.minflt, os.getenv("PS_SANITIZER")))
  else
    T.eq(b.minflt - a.minflt, 0, name .. ": no minor page fault in the callback thread after start")
  end
  T.eq(b.majflt - a.majflt, 0, name .. ": no major page fault in the callback thread after start")
  print(string.format("# %s: callback thread %s: %d minor faults from before start (JACK's "
    .. "activation included), %d voluntary context switches over the run",
    name, tid, b.minflt - before_start.minflt, b.vcs - a.vcs))
end

local N = 48000 * 3

T.group("a recording into a fresh Buffer", function()
  local s <close> = ps.InputStream{ device = "loopback" }
  local rec
  measure("record{frames}", s, function() rec = s:record{ frames = N, blocking = false } end)
  T.eq(rec:frames(), N, "the Buffer holds every frame")
end)

T.group("a recording to a file", function()
  local s <close> = ps.InputStream{ device = "loopback" }
  local path = dir .. "/rec.wav"
  measure("record to a file", s, function() s:record{ frames = N, out = path, blocking = false } end)
  T.eq(ps.file_info(path).frames, N, "the file holds every frame")
end)

T.group("a duplex run with maps into fresh Buffers", function()
  local s <close> = ps.DuplexStream{ device = "loopback" }
  s.txmapping = { 2, 1 }
  s.rxmapping = { 2, 1, 2 }
  local src = ps.Buffer(N, 2)          -- fresh too: the callback reads it
  local rec
  measure("playrec with maps", s, function()
    rec = s:playrec(src, { frames = N, blocking = false })
  end)
  T.eq(rec:channels(), 3, "the recording has the map's 3 channels")
  T.eq(rec:frames(), N, "and every frame")
end)

os.execute("rm -rf '" .. dir .. "'")
T.done()
