-- Garbage-collector immunity: frames lost and xruns while a Lua task
-- allocates garbage as fast as it can (at least 100 MB/s is the point),
-- (1) iterating chunks and (2) recording to a file through the disk thread.
-- Each case runs twice, first without the garbage task: that control tells
-- xruns of the machine (a loaded host, the rig) from xruns of the garbage.
--   pastream-lua tests/bench/gc.lua FRAMES OUTFILE [CHUNKSIZE]
-- Output, one line per case and run:
--   gc|gcctl <chunks|file> <frames expected> <frames received> <xruns> <MB/s of garbage> <error or ->
local ps = require "pastream"
local uv = require "luv"
local frames = math.tointeger(tonumber(arg[1]))
local path = assert(arg[2], "usage: gc.lua FRAMES OUTFILE [CHUNKSIZE]")
local chunksize = math.tointeger(tonumber(arg[3] or "1024"))

local stop, garbage = false, 0
local function churn()
  while not stop do
    for _ = 1, 8 do
      local t = {}
      for i = 1, 2000 do t[i] = { i, tostring(i) } end    -- many small objects
      local s = string.rep("x", 65536) .. garbage         -- and some big ones
      garbage = garbage + 2000 * 120 + #s
    end
    ps.sleep(0)
  end
end

local function run(tag, name, body)
  stop, garbage = false, 0
  if tag == "gc" then ps.spawn(churn) end
  local t0 = uv.hrtime()
  local s <close> = ps.InputStream{ device = "system", channels = 2 }
  local ok, got_or_err = pcall(body, s)
  stop = true
  local secs = (uv.hrtime() - t0) / 1e9
  local got = ok and got_or_err or s.frame_count
  local err = ok and "-" or tostring(got_or_err):gsub("%s+", " ")
  print(string.format("%s\t%s\t%d\t%d\t%d\t%.0f\t%s", tag, name, frames, got, s.xruns,
    garbage / secs / 1e6, err))
  ps.sleep(0.05)                                         -- let the churn task end
end

local function case(name, body)
  run("gcctl", name, body)
  run("gc", name, body)
end

case("chunks", function(s)
  local n = 0
  for chunk in s:chunks{ chunksize = chunksize, frames = frames } do n = n + chunk:frames() end
  return n
end)
case("file", function(s)
  s:record{ frames = frames, out = path, overwrite = true }
  local info = assert(ps.file_info(path))
  return info.frames
end)
os.remove(path)
