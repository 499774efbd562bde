-- Errors as values (issue 17, point 5): an engine error is an Error with a
-- kind and numbers, comparable with ps.BufferFull and the others; misuse
-- says what it is at the caller's line.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"

T.group("BufferEmpty as a value", function()
  local s <close> = ps.OutputStream{ device = "loopback" }
  local ok, err = pcall(s.play, s, ps.Buffer(1000, 2), { frames = 4800 })
  T.eq(ok, false, "a playback shorter than frames fails")
  T.eq(type(err), "table", "with an error value")
  T.eq(err.kind, "BufferEmpty", "err.kind")
  T.eq(err.frames, 1000, "err.frames: when it happened")
  T.ok(err == ps.BufferEmpty, "err == ps.BufferEmpty")
  T.ok(err ~= ps.BufferFull, "err ~= ps.BufferFull")
  T.ok(ps.is(err, ps.BufferEmpty) and ps.is(err, "BufferEmpty") and ps.is(err), "ps.is")
  T.ok(not ps.is("BufferEmpty", ps.BufferEmpty), "a string is no Error")
  T.ok(tostring(err):find("^BufferEmpty: playback ended after 1000 of 4800 frames"), "tostring gives the message", tostring(err))
  T.ok(err:find("1000 of 4800", 1, true), "string methods work on it")
  T.ok(("x: " .. err):find("BufferEmpty", 1, true), "and concatenation")
end)

T.group("BufferFull as a value", function()
  local slow <close> = ps.InputStream{ device = "loopback", buffersize = 4096 }
  local ok, err = pcall(function()
    for _ in slow:chunks{ chunksize = 1024 } do ps.sleep(0.3) end
  end)
  T.eq(ok, false, "a slow chunk loop fails")
  T.ok(ps.is(err, ps.BufferFull), "with a BufferFull error", err)
  T.eq(math.type(err.frames), "integer", "err.frames is a frame count")
  T.eq(math.type(err.rx_frames), "integer", "err.rx_frames too")
end)

T.group("misuse names the caller's line", function()
  local s = ps.DuplexStream{ device = "loopback" }
  s:close()
  local l = debug.getinfo(1, "l").currentline
  local ok, err = pcall(function() local _ = s:playrec(ps.Buffer(10, 2)) end)
  T.ok(not ok and tostring(err):find("test_user_errors.lua:" .. (l + 1) .. ": attempt to use a closed stream", 1, true),
    "playrec on a closed stream says so, at the caller's line", err)
end)

-- 6. Properties that cannot lie.
T.group("read-only properties and misspelled keys", function()
  local s <close> = ps.DuplexStream{ device = "loopback" }
  local rate = s.samplerate
  T.raises(function() s.samplerate = 44100 end, "'samplerate' is a read-only property", "s.samplerate = 44100 is refused")
  T.eq(s.samplerate, rate, "and samplerate still reads the device's rate")
  T.raises(function() s.rxmaping = { 1 } end, "did you mean 'rxmapping'?", "a misspelled key suggests the right one")
  T.eq(rawequal(s.rxmaping, nil), true, "and nothing was stored")
  T.raises(function() s.record = 1 end, "'record' is a method", "a method cannot be assigned")
  T.raises(function() s.frames = 1.5 end, "frames must be an integer", "frames must be an integer")
end)

T.group("frames, pad and offset settable between runs", function()
  local s <close> = ps.DuplexStream{ device = "loopback" }
  s.frames = 4800
  T.eq(s.frames, 4800, "s.frames reads what was set")
  T.eq(s:record():frames(), 4800, "record() records s.frames")
  s.offset = 100
  T.eq(s:record():frames(), 4700, "with s.offset, frames - offset")
  T.eq(s:record{ frames = 2400 }:frames(), 2300, "a call's own frames win")
  s.frames, s.offset = nil, nil
  s.pad = -1
  local rec = s:playrec(ps.Buffer(1000, 2), { frames = 3000 })
  T.eq(rec:frames(), 3000, "s.pad = -1 pads out to frames")
end)

T.done()
