-- pastream's remaining surface (issue 17, point 8): from_file for every
-- kind, to_file's result, aborted after abort, a never-started stream's
-- status, isduplex and samplesize, chunksize from blocksize, prebuffer as
-- frames, and the chunk loop's stream.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"

local wav = os.tmpname()
os.remove(wav)             -- only its name: no empty file left behind
wav = wav .. ".wav"
assert(ps.save(wav, ps.Buffer(4800, 1), 48000))

T.group("from_file", function()
  local o <close> = ps.OutputStream.from_file(wav, { device = "loopback" })
  T.eq(o.samplerate, 48000.0, "OutputStream.from_file takes the file's rate")
  T.eq(o.channels, 1, "and its channels")
  local i <close> = ps.InputStream.from_file(wav, { device = "loopback" })
  T.eq(i.samplerate, 48000.0, "InputStream.from_file too")
  T.eq(i.channels, 1, "channels too")
end)

T.group("flags", function()
  local d <close> = ps.DuplexStream{ device = "loopback" }
  T.eq(d.status, "idle", "a never-started stream's status is idle")
  T.eq(d.aborted, false, "not aborted")
  T.eq(d.isduplex, true, "isduplex")
  T.eq(d.device_name[1] .. "," .. d.device_name[2], "loopback,loopback", "device_name, per direction")
  T.eq(d.samplesize[1] .. "," .. d.samplesize[2], "4,4", "samplesize of float32, per direction")
  T.ok(rawequal(d:to_file(nil), d), "to_file returns the stream (chainable)")
  d:play(ps.Buffer(48000, 2), { blocking = false })
  ps.sleep(0.05)
  d:abort()
  T.eq(d.aborted, true, "aborted is true after abort()")
  d:play(ps.Buffer(480, 2))
  T.eq(d.aborted, false, "and false again after a new run")
  local i <close> = ps.InputStream{ device = "loopback", format = "int16" }
  T.eq(i.isduplex, false, "an InputStream is not duplex")
  T.eq(i.samplesize, 2, "int16: 2 bytes")
end)

T.group("chunksize from blocksize", function()
  local s <close> = ps.InputStream{ device = "loopback", blocksize = 512 }
  local sizes = {}
  for chunk in s:chunks{ frames = 2048 } do sizes[#sizes + 1] = chunk:frames() end
  T.eq(table.concat(sizes, ","), "512,512,512,512", "chunks come in blocksize frames")
end)

T.group("prebuffer as frames", function()
  local s <close> = ps.OutputStream{ device = "loopback" }
  local before = 0
  s:set_source(function(b)
    if not s.active then before = before + b:frames() end
    b:fill(0)
  end, { fill = 8192, blocksize = 512 })
  s:configure{ frames = 9600 }
  s:start{ prebuffer = 2048 }
  T.eq(before, 2048, "start{prebuffer = 2048} asks the source for 2048 frames before the device starts")
  s:wait()
  T.raises(function() s:start{ prebuffer = "lots" } end, "prebuffer must be", "a bad prebuffer is refused")
end)

T.group("the chunk loop's stream", function()
  local rate, kind
  for chunk, last, stream in ps.chunks{ device = "loopback", frames = 2048, chunksize = 1024 } do
    rate, kind = stream.samplerate, stream.kind
  end
  T.eq(rate, 48000.0, "ps.chunks gives its stream as the third loop value")
  T.eq(kind, "InputStream", "an InputStream")
  local frate
  for chunk, last, file in ps.chunks{ input = wav, chunksize = 1024 } do frate = file.samplerate end
  T.eq(frate, 48000, "offline, the third loop value is the SoundFile")
end)

os.remove(wav)
T.done()
