-- The chunk example a user writes first runs right the first time (issue
-- 17, point 9): the dominant-frequency script of README.md (the same in
-- doc/API.md) finds tones of 300, 1000 and 1234.5 Hz within 0.5 Hz.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"

local code = T.read("README.md"):match("### Chunks: the dominant frequency of the input.-```lua\n(.-)```")
T.ok(code, "README.md has the example")
local indented = code:gsub("([^\n]+)", "    %1")
T.ok(T.read("doc/API.md"):find(indented, 1, true), "doc/API.md has the same example")

local tmp = os.tmpname()
for _, f in ipairs { 300, 1000, 1234.5 } do
  local b = ps.Buffer(48000, 1)
  for i = 1, 48000 do b[i] = 0.5 * math.sin(2 * math.pi * f * (i - 1) / 48000) end
  local path = tmp .. "-" .. f .. ".wav"
  assert(ps.save(path, b, 48000))
  local out = {}
  local env = setmetatable({ arg = { [0] = "dominant.lua", path },
                             print = function(s) out[#out + 1] = s end }, { __index = _G })
  local fn = assert(load(code, "=dominant.lua", "t", env))
  local ok, err = pcall(fn)
  T.ok(ok, f .. " Hz: the example runs", err)
  local worst = 0
  for _, line in ipairs(out) do
    local hz = tonumber(line:match("^([%d.]+) Hz$"))
    worst = math.max(worst, hz and math.abs(hz - f) or math.huge)
  end
  T.ok(#out >= 3 and worst <= 0.5, string.format("%g Hz: %d chunks, each within 0.5 Hz (worst %.3f)", f, #out, worst))
  os.remove(path)
end
os.remove(tmp)
T.done()
