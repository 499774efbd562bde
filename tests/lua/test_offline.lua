-- Offline chunks: the chunks interface over files, without a device.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"

local dir = os.tmpname(); os.remove(dir); assert(os.execute("mkdir -p " .. dir))
local N = 10007
local src = ps.Buffer(N, 2)
for i = 1, #src do src[i] = ((i * 7919) % 65536 - 32768) / 32768 end
local path = dir .. "/src.wav"
assert(ps.save(path, src, 44100))

for _, c in ipairs { { 1000, 0 }, { 1000, 250 }, { 1024, 1023 }, { 10007, 0 }, { 20000, 5 } } do
  local cs, ov = c[1], c[2]
  local name = string.format("file chunks %d/%d", cs, ov)
  T.group(name, function()
    local f <close> = assert(ps.open(path))
    local got, pos, prev, sizes, overlap_ok, lastflag = ps.Buffer(N, 2), 0, nil, true, true, 0
    for chunk, last in f:chunks{ chunksize = cs, overlap = ov } do
      local keep = prev and ov or 0
      if not last and chunk:frames() ~= cs then sizes = false end
      if last then lastflag = lastflag + 1 end
      if prev and ov > 0 and not chunk:sub(1, ov):equals(prev:sub(-ov)) then overlap_ok = false end
      got:copyfrom(chunk, pos + 1, keep + 1, chunk:frames() - keep)
      pos = pos + chunk:frames() - keep
      prev = chunk:copy()
    end
    T.eq(pos, N, name .. ": every frame once")
    T.ok(sizes, name .. ": exact chunk sizes")
    T.ok(overlap_ok, name .. ": overlap repeated exactly")
    T.ok(lastflag <= 1, name .. ": at most one short last chunk")
    T.ok(got:equals(src), name .. ": the chunks hold the file, bit-exact")
  end)
end

T.group("frames limit and processing to a file", function()
  local n = 0
  for chunk in ps.chunks{ input = path, chunksize = 300, frames = 1000 } do n = n + chunk:frames() end
  T.eq(n, 1000, "frames respected to the frame")
  local out = dir .. "/half.flac"
  for chunk in ps.chunks{ input = path, chunksize = 512, overlap = 0, out = out, out_subtype = "pcm_24" } do
    chunk:gain(0.5)
  end
  local h = assert(ps.load(out))
  T.eq(h:frames(), N, "the processed file has every frame")
  T.ok(h:equals(src:copy():gain(0.5)), "processed chunks are written in place, bit-exact (24-bit)")
  local ok = pcall(function() for chunk in ps.chunks{ input = path, chunksize = 64 } do error("x") end end)
  T.ok(not ok, "an error inside the loop comes through")
end)

T.group("SoundFile", function()
  local w <close> = assert(ps.open(dir .. "/w.au", "w", { samplerate = 8000, channels = 1, subtype = "pcm_16" }))
  w:write(ps.Buffer({ 0.5, -0.5, 0.25 }, 1))
  w:close()
  local r <close> = assert(ps.open(dir .. "/w.au"))
  T.ok(r.samplerate == 8000 and r.channels == 1 and r.frames == 3 and r.subtype == "pcm_16", "reads back what was written")
  local b = ps.Buffer(3, 1)
  T.eq(r:read(b), 3, "read returns the frames read")
  T.ok(b[1] == 0.5 and b[3] == 0.25, "values are exact")
  T.eq(r:seek(1), 1, "seek")
  T.eq(r:read(b, 1, 1), 1, "read after seek")
  T.eq(b[1], -0.5, "from the new position")
  T.eq(r:read(b), 1, "short read at the end")
  T.raises(function() r:read(ps.Buffer(3, 2)) end, "the buffer has 2 channels, the file 1", "channel mismatch")
  T.raises(function() r:write(b) end, "open for reading", "write to a read file")
  local none, err = ps.open(dir .. "/missing.wav")
  T.ok(none == nil and err:find("missing.wav", 1, true), "a missing file: nil and a message", err)
  local _, err2 = ps.open(dir .. "/x.raw")
  T.ok(err2 and err2:find("samplerate is missing", 1, true), "RAW says what is missing", err2)
  T.raises(function() ps.open(dir .. "/x.wav", "w") end, "needs samplerate and channels", "writing needs a rate")
end)

os.execute("rm -rf " .. dir)
T.done()
