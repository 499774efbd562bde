-- Sources that yield (issue 17, point 7): a source function may wait
-- (ps.sleep in it); the run it was called for may end meanwhile, and the
-- next run on the same stream is not disturbed.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"

T.group("a source that sleeps, then a second run", function()
  local d <close> = ps.DuplexStream{ device = "loopback" }
  local delay = d:roundtrip_frames()
  local calls = 0
  local ok, err = pcall(d.play, d, function(b)
    calls = calls + 1
    ps.sleep(0.01)
    b:fill(0.25)
  end, { frames = 9600, source = { fill = 4096, blocksize = 1024 } })
  T.ok(ok, "a source that sleeps in every call plays its run", err)
  T.ok(calls > 1, "it was called " .. calls .. " times")
  -- the second run on the same stream: a Buffer, played and recorded exactly
  local src = ps.Buffer(4800, 2)
  for i = 1, #src do src[i] = i / 1e5 end
  local rec
  ok, rec = pcall(d.playrec, d, src, { frames = 4800 + delay, pad = -1 })
  T.ok(ok, "the second run works", rec)
  T.ok(ok and rec:sub(delay + 1, delay + 4800):equals(src), "and is bit-exact")
end)

T.group("a source asleep when its run is stopped", function()
  local s = ps.OutputStream{ device = "loopback" }
  local asleep = false
  s:play(function(b)
    asleep = true
    ps.sleep(0.5)
    asleep = false
    b:fill(0)
  end, { frames = -1, pad = -1, blocking = false, source = { fill = 1024, blocksize = 512 } })
  ps.sleep(0.1)
  T.ok(asleep, "the source sleeps")
  s:stop()
  local calls = 0
  -- the fill level holds two of the rig's periods: a callback takes a
  -- whole period from the ring at once
  local fill = math.max(1024, 2 * s:roundtrip_frames())
  local ok, err = pcall(s.play, s, function(b)
    calls = calls + 1
    if calls > 4 then return 0 end
    b:fill(0.5)
  end, { source = { fill = fill, blocksize = 512 } })
  T.ok(ok, "a new run starts at once and ends normally", err)
  T.ok(pcall(s.close, s), "close has nothing left to raise")
  ps.sleep(0.6)                               -- the first source would wake now
  T.eq(ps.stream_count(), 0, "the stream is closed, and the program is still alive")
end)

T.done()
