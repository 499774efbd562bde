-- The common Buffer operations through pastream's Lua API, per sample:
-- the same operations and block as tests/bench/bench_bufops.c (plain C).
--   pastream-lua tests/bench/bufops.lua [FRAMES [REPEATS]]
-- Output: bufop <op> lua <ns per sample> (best of 3 timings of REPEATS calls,
-- os.clock: process CPU time; nothing else runs in this process).
local ps = require "pastream"
local frames = math.tointeger(tonumber(arg[1] or "48000"))
local reps = math.tointeger(tonumber(arg[2] or "500"))
local CH = 2
local a, b = ps.Buffer(frames, CH), ps.Buffer(frames, CH)
-- the same contents as the C program's (filled through a table: fast enough)
local ta, tb = {}, {}
for i = 0, frames * CH - 1 do
  ta[i + 1] = math.sin(i * 0.001) * 0.5
  tb[i + 1] = math.cos(i * 0.0007) * 0.25
end
a = ps.Buffer(ta, CH); b = ps.Buffer(tb, CH)
ta, tb = nil, nil
collectgarbage()
assert(a:frames() == frames and a:format() == "float32")

local ops = {
  gain = function(k) a:gain((k & 1) == 1 and 2.0 or 0.5) end,
  peak = function() a:peak() end,
  rms  = function() a:rms() end,
  add  = function(k) a:add(b, (k & 1) == 1 and -0.5 or 0.5) end,
}
for _, name in ipairs{ "gain", "peak", "rms", "add" } do
  local fn, best = ops[name], math.huge
  for _ = 1, 3 do
    local t0 = os.clock()
    for k = 0, reps - 1 do fn(k) end
    local dt = os.clock() - t0
    if dt < best then best = dt end
  end
  print(string.format("bufop\t%s\tlua\t%.4f", name, best * 1e9 / (reps * frames * CH)))
end
