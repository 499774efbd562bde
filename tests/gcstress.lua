-- Loaded before each Lua test by tests/gcstress.sh (pastream-lua -e): the
-- garbage collector then runs all the time, so that an object that C code
-- still uses but nothing anchors is freed within a few allocations (and the
-- use after free shows up as a wrong value or a crash) instead of surviving
-- by luck until the next cycle.  Production defaults are not changed: this
-- only runs when the test runner passes it.
--
-- pause 0: a new cycle starts as soon as one ends.  stepsize 1 (2 bytes) and
-- a large step multiplier: every allocation pays for a step of collection,
-- so marking and sweeping never stop.  (collectgarbage("incremental", ...)
-- treats 0 as "unchanged", hence setpause for the pause.)
collectgarbage("incremental")
collectgarbage("setpause", 0)
collectgarbage("incremental", 0, 1000, 1)

-- Count completed cycles: a finalized sentinel re-creates itself, once per
-- cycle.  The count is printed when the state closes.
local cycles = 0
local sentinel = {}
sentinel.__gc = function()
  cycles = cycles + 1
  setmetatable({}, sentinel)
end
setmetatable({}, sentinel)
GCSTRESS_CLOSE = setmetatable({}, { __gc = function()
  io.stderr:write(string.format("# gcstress: %d collection cycles\n", cycles))
end })
