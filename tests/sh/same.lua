-- same.lua A B [N]: "same" when file B holds exactly the first N frames of
-- file A (all of A by default), sample for sample; else what differs:
-- "unreadable: ...", "F frames, want N", "C channels, want C'", or where
-- the first difference is.  The CLI tests compare recordings with it.
local ps = require "pastream"
local a, ea = ps.load(arg[1])
local b, eb = ps.load(arg[2])
if not a or not b then print("unreadable: " .. tostring(a and eb or ea)) return end
local n = tonumber(arg[3]) or a:frames()
if b:frames() ~= n then print(string.format("%d frames, want %d", b:frames(), n)) return end
if b:channels() ~= a:channels() then
  print(string.format("%d channels, want %d", b:channels(), a:channels())) return
end
if (n == a:frames() and a or a:sub(1, n)):equals(b) then print("same") return end
for f = 1, n do
  for c = 1, a:channels() do
    if a:sample(f, c) ~= b:sample(f, c) then
      print(string.format("differ at frame %d channel %d", f, c)) return
    end
  end
end
