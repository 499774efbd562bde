-- Per-chunk overhead of `for chunk in stream:chunks{...}` with an empty body.
--   pastream-lua tests/bench/chunks.lua MODE FRAMES [CHUNKSIZE] [DEVICE]
-- MODE "chunks": iterate over FRAMES frames in chunks of CHUNKSIZE;
-- MODE "record": the baseline, the same stream recording FRAMES frames with
-- no iteration (to the file CHUNKSIZE names, or a Buffer when none: the
-- disk thread keeps the Lua thread idle, where a Buffer of FRAMES frames
-- costs the Lua thread its page faults).  Prints one line:
--   <mode> <chunksize> <chunks> <frames> <lua cpu s> <process cpu s> <wall s>
-- Lua CPU is the CPU time of the thread Lua runs on (the main thread, from
-- /proc/thread-self/schedstat, in ns): the chunk iterator runs there and
-- nothing else of the stream does, so the audio threads' work, which the
-- machine's noise rides on, stays out.  Process CPU is os.clock(), every
-- thread.  Both from just before the stream starts to just after it ends.
local ps = require "pastream"
local uv = require "luv"
local mode, frames = arg[1], math.tointeger(tonumber(arg[2]))
local chunksize = math.tointeger(tonumber(arg[3] or "0")) or 0
local outfile = mode == "record" and arg[3] or nil
local device = arg[4] or "system"
assert((mode == "chunks" or mode == "record") and frames, "usage: chunks.lua chunks|record FRAMES [CHUNKSIZE] [DEVICE]")

local s <close> = ps.InputStream{ device = device, channels = 2, format = "float32" }
local function thread_cpu()
  local f = io.open("/proc/thread-self/schedstat")
  if not f then return 0 end
  local ns = f:read("n")
  f:close()
  return (ns or 0) / 1e9
end
local n, got = 0, 0
local t0, c0, w0 = thread_cpu(), os.clock(), uv.hrtime()
if mode == "chunks" then
  for chunk in s:chunks{ chunksize = chunksize, frames = frames } do
    n = n + 1
  end
  got = s.frame_count
else
  if outfile then
    s:record{ frames = frames, out = outfile }
    got = s.frame_count
  else
    got = s:record{ frames = frames }:frames()
  end
end
local t1, c1, w1 = thread_cpu(), os.clock(), uv.hrtime()
assert(got == frames, string.format("got %d of %d frames", got, frames))
print(string.format("%s\t%d\t%d\t%d\t%.6f\t%.6f\t%.6f", mode, chunksize, n, frames,
  t1 - t0, c1 - c0, (w1 - w0) / 1e9))
