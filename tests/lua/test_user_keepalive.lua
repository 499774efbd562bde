-- Keep-alive playback as in pastream (issue 17, point 4): with frames < 0
-- and pad < 0, a stream fed from a ring plays silence whenever the ring is
-- dry and resumes as soon as data comes; pad = -1 alone used to abort with
-- BufferEmpty.  And where a dry ring ends a run (pastream's autoframes) and
-- where it is an underrun.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"

local function ramp(n, from)
  local b = ps.Buffer(n, 2)
  for i = 1, #b do b[i] = (from + i) / 1e6 end
  return b
end

T.group("a ring that runs dry, then gets data again", function()
  local d <close> = ps.DuplexStream{ device = "loopback" }
  d:open_txring(65536)
  local got = ps.Buffer(48000, 2)
  d:set_rxbuffer(got)
  d:configure{ frames = -1, pad = -1 }
  d:write(ramp(4800, 0))
  d:start()
  local waited = 0
  while d.tx_lost == 0 and waited < 5 do ps.sleep(0.05) waited = waited + 0.05 end
  ps.sleep(0.1)                              -- the ring has been dry a while
  T.ok(d.active, "the stream still runs after the ring ran dry")
  T.eq(d:error(), nil, "no BufferEmpty")
  local before = d.tx_frames
  T.eq(before, 4800, "it played the first data")
  d:write(ramp(4800, 1e5))
  waited = 0
  while d.tx_frames < 9600 and waited < 5 do ps.sleep(0.05) waited = waited + 0.05 end
  T.eq(d.tx_frames - before, 4800, "it played the new data when it came")
  T.ok(d.tx_lost > 0, "the silence in between is counted in tx_lost (" .. d.tx_lost .. ")")
  d:stop()
end)

T.group("a Lua source that has nothing for a while", function()
  local s <close> = ps.OutputStream{ device = "loopback" }
  local calls = 0
  local ok, err = pcall(s.play, s, function(b)
    calls = calls + 1
    if calls > 3 then ps.sleep(0.2) end      -- a producer that falls behind
    b:fill(0.1)
    if calls == 6 then return 0 end          -- and then ends
  end, { frames = -1, pad = -1, blocking = false, source = { fill = 1024, blocksize = 512 } })
  T.ok(ok, "started", err)
  ps.sleep(1.5)
  T.eq(s:error(), nil, "a slow producer with pad = -1 causes no BufferEmpty")
  s:abort()
end)

-- pastream ends a run whose ring runs dry (with frames < 0 and pad >= 0:
-- the pad, then the end).  A source function says where it ends, so its
-- ring running dry before that is its producer falling behind: an error,
-- never a playback cut short without a word.
T.group("a source function that falls behind is BufferEmpty, pad or not", function()
  local s <close> = ps.OutputStream{ device = "loopback" }
  local calls = 0
  local ok, err = pcall(s.play, s, function(b)
    calls = calls + 1
    if calls == 4 then ps.sleep(0.5) end     -- late, far past the ring's fill
    b:fill(0.1)
  end, { frames = -1, pad = 48000, source = { fill = 1024, blocksize = 512 } })
  T.ok(not ok and ps.is(err, ps.BufferEmpty), "BufferEmpty, not the pad and a quiet end", err)
  T.ok(tostring(err):find("ran dry", 1, true), "it says the source ran dry", err)
end)

T.group("a ring the script writes ends where it runs dry (pastream's autoframes)", function()
  local s <close> = ps.OutputStream{ device = "loopback" }
  s:open_txring(4096)
  s:configure{ frames = -1, pad = 2400 }
  s:write(ramp(1000, 0))
  s:start()
  local ok, err = pcall(s.wait, s, 5)
  T.ok(ok and err == true, "the run ends by itself", err)
  T.eq(s.frame_count, 1000 + 2400, "after the ring's 1000 frames and the pad")
  T.eq(s.tx_frames, 1000, "tx_frames")
end)

T.group("pad >= 0 keeps pastream's end", function()
  local s <close> = ps.OutputStream{ device = "loopback" }
  s:open_txring(4096)
  s:configure{ frames = 9600 }
  s:write(ramp(1000, 0))
  s:start()
  local ok, err = pcall(s.wait, s, 5)
  T.ok(not ok and ps.is(err, ps.BufferEmpty), "a dry ring without padding is BufferEmpty", err)
end)

T.done()
