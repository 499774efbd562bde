-- Files through the disk threads on the loopback device: each lossless
-- format recorded and played back bit-exact, RAW in and out, looped file
-- playback, and errors that name what is wrong.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))

-- Samples k/32768: exact in float, PCM_16, PCM_24 and PCM_32 alike.
local function source(n, seed)
  local b = ps.Buffer(n, 2)
  local x = seed
  for i = 1, #b do
    x = x * 6364136223846793005 + 1442695040888963407
    b[i] = ((x >> 48) - 32768) / 32768
  end
  return b
end

local s <close> = ps.DuplexStream{ device = "loopback", channels = 2 }
local delay = s:roundtrip_frames()
local N = 24000
local src = source(N, 7)

local formats = {
  { "wav", "float" }, { "wav", "pcm_16" }, { "wav", "pcm_24" }, { "wav", "pcm_32" },
  { "aiff", "pcm_16" }, { "aiff", "float" }, { "au", "float" }, { "au", "pcm_24" },
  { "flac", "pcm_16" }, { "flac", "pcm_24" }, { "caf", "float" }, { "w64", "float" },
  { "rf64", "pcm_24" }, { "wavex", "float" }, { "raw", "float" },
}

for _, f in ipairs(formats) do
  local typ, sub = f[1], f[2]
  local name = typ .. "/" .. sub
  T.group(name, function()
    local path = string.format("%s/rec-%s-%s.%s", dir, typ, sub, typ)
    local ff = { type = typ, subtype = sub, samplerate = 48000, channels = 2 }
    -- record the played Buffer to the file
    s:playrec(src, { frames = N + delay, pad = -1, offset = delay, out = path, output_file = ff })
    local info = assert(ps.file_info(path, ff))
    T.eq(info.frames, N, name .. ": the file holds every recorded frame")
    T.eq(info.subtype, sub, name .. ": with the subtype asked for")
    -- play the file back and record it into a Buffer
    local rec = s:playrec(path, { frames = N + delay, pad = -1, offset = delay, input_file = ff })
    T.ok(rec:equals(src), name .. ": recorded to the file and played back, bit-exact")
  end)
end

T.group("subtype follows the device format", function()
  local path = dir .. "/default.wav"
  s:record{ frames = 1000, out = path }
  T.eq(ps.file_info(path).subtype, "float", "a float32 stream records 32-bit float WAV")
  local i16 <close> = ps.InputStream{ device = "loopback", format = "int16" }
  i16:record{ frames = 1000, out = dir .. "/i16.flac" }
  T.eq(ps.file_info(dir .. "/i16.flac").subtype, "pcm_16", "an int16 stream records PCM_16 FLAC")
end)

T.group("looped file playback has exact seams", function()
  local path = dir .. "/loop.wav"
  local short = source(4801, 3)
  assert(ps.save(path, short, 48000))
  local total = 4801 * 5 + 1000
  local rec = s:playrec(path, { frames = total + delay, offset = delay, loop = true })
  local ok = true
  for k = 0, 4 do
    if not rec:sub(k * 4801 + 1, (k + 1) * 4801):equals(short) then ok = false end
  end
  T.ok(ok, "five loops of a 4801-frame file, every seam exact")
  T.ok(rec:sub(5 * 4801 + 1):equals(short:sub(1, 1000)), "the sixth loop starts exactly")
end)

T.group("mono file plays on every output", function()
  local path = dir .. "/mono.wav"
  local mono = ps.Buffer(2000, 1)
  for i = 1, #mono do mono[i] = i / 4096 end
  assert(ps.save(path, mono, 48000))
  local rec = s:playrec(path, { frames = 2000 + delay, offset = delay, pad = -1 })
  local ok = true
  for f = 1, 2000 do
    if rec:sample(f, 1) ~= mono[f] or rec:sample(f, 2) ~= mono[f] then ok = false break end
  end
  T.ok(ok, "both channels carry the mono file")
end)

T.group("errors", function()
  T.raises(function() s:play(dir .. "/nothing.wav") end, "nothing.wav", "a missing file is named")
  T.raises(function() s:play(dir .. "/x.raw") end,
    "a RAW file needs samplerate, channels and subtype; samplerate is missing", "RAW input says what is missing")
  T.raises(function() s:play(dir .. "/x.raw", { input_file = { samplerate = 48000, channels = 2 } }) end,
    "subtype (encoding) is missing", "RAW input without subtype")
  local path44 = dir .. "/44k.wav"
  assert(ps.save(path44, ps.Buffer(100, 2), 44100))
  T.raises(function() s:play(path44, { input_file = { resample = false } }) end,
    "44k.wav is 44100 Hz but the stream runs at 48000 Hz (resample = false)",
    "with resample = false a rate mismatch is an error that names both rates")
  T.raises(function() s:record{ frames = 10, out = dir .. "/x.wav", output_file = { type = "mp5" } } end,
    "unknown file type 'mp5'", "an unknown type is named")
  T.raises(function() s:record{ frames = 10, out = dir .. "/x.wav", output_file = { subtype = "pcm_17" } } end,
    "unknown encoding 'pcm_17'", "an unknown encoding is named")
  T.raises(function() s:record{ frames = 10, out = dir .. "/x.flac", output_file = { subtype = "float" } } end,
    "a flac file cannot hold float", "an impossible type/subtype pair is named")
  local i8 <close> = ps.InputStream{ device = "loopback", format = "int8" }
  T.raises(function() i8:record{ frames = 10, out = dir .. "/x.wav" } end,
    "give a subtype", "a device format the file type cannot hold asks for a subtype")
end)

T.group("a 44.1 kHz file plays at the right pitch on the 48 kHz rig", function()
  local path = dir .. "/tone44.wav"
  local n = 44100
  local tone = ps.Buffer(n, 2)
  for f = 1, n do
    local v = 0.5 * math.sin(2 * math.pi * 1000 * (f - 1) / 44100)
    tone:sample(f, 1, v); tone:sample(f, 2, v)
  end
  assert(ps.save(path, tone, 44100))
  local rec = s:playrec(path, { frames = 48000 + delay, offset = delay, pad = -1 })
  T.ok(math.abs(rec:frames() - 48000) <= 2, "one second of audio at 48 kHz (" .. rec:frames() .. " frames)")
  -- frequency from rising zero crossings over the middle of the recording
  local first, last, count
  for f = 2000, 46000 do
    local a, b = rec:sample(f - 1, 1), rec:sample(f, 1)
    if a < 0 and b >= 0 then
      local t = f - 1 + (-a) / (b - a)
      first = first or t
      last, count = t, (count or -1) + 1
    end
  end
  local freq = count * 48000 / (last - first)
  T.ok(math.abs(freq - 1000) < 0.5, string.format("the recorded tone is %.3f Hz (1000 expected)", freq))
  T.ok(math.abs(rec:peak(1) - 0.5) < 0.01, string.format("its level is kept (peak %.4f)", rec:peak(1)))
end)

T.group("from_file and formats", function()
  local path = dir .. "/mono.wav"
  local d <close> = ps.DuplexStream.from_file(path, { device = "loopback" })
  T.eq(d.samplerate, 48000, "from_file takes the rate")
  T.eq(d.channels[2], 1, "from_file takes the channels")
  local f = ps.formats()
  T.ok(f.wav and f.flac and f.raw, "formats() lists wav, flac, raw")
end)

os.execute("rm -rf " .. dir)
T.done()
