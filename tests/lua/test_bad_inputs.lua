-- The bad-input matrix: every row is a bad input to the Lua API, the
-- `pastream` command line, a recipe or a file call, with the error it must
-- give.  For each row the test also checks that nothing crashed (a CLI row
-- exits 1 or 2, never by a signal or the timeout), that no stream was left
-- open (ps.stream_count) and that every file the row names as kept is
-- byte for byte as it was, and every file it must not create is absent.
-- At the end the streams the rows used, and a new one, still record.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local uv = require "luv"

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local top = uv.cwd()
-- CLI and recipe rows run under the host that runs this test (the ASan
-- build's, under tests/sanitize.sh), given as an absolute path.
local PL = arg and arg[-1] and arg[-1]:match("pastream%-lua$") and arg[-1] or "./pastream-lua"
if PL:sub(1, 1) ~= "/" then PL = top .. "/" .. PL end
local PS = sh_quote(PL) .. " " .. sh_quote(top .. "/scripts/pastream")
local dir = os.tmpname()
os.remove(dir)
assert(uv.fs_mkdir(dir, 493))

---------------------------------------------------------------------------
-- Fixtures: good files, and files that are empty, huge or lie
---------------------------------------------------------------------------

local function P(name) return dir .. "/" .. name end

local function write(name, data)
  local f = assert(io.open(P(name), "wb"))
  f:write(data)
  f:close()
end

local read = T.read

local good = ps.Buffer(4800, 2)
for i = 1, #good do good[i] = ((i * 7919) % 65536 - 32768) / 65536 end
assert(ps.save(P("good.wav"), good, 48000))
assert(ps.save(P("mono.wav"), ps.Buffer(4800, 1), 48000))
assert(ps.save(P("g16.wav"), ps.Buffer(4800, 2, "int16"), 48000))
write("empty.wav", "")
write("text.wav", "this is not a sound file\n")
write("x.raw", string.rep("\0", 4096))
assert(uv.fs_mkdir(P("adir"), 493))
assert(uv.fs_link(P("good.wav"), P("link.wav")))     -- the same file under another name
write("keep.wav", read(P("good.wav")))                 -- an existing output

-- Headers that lie: a WAV field patched in place.
local function patched(name, from, field, fmt, value)
  local d = read(P(from))
  local pos = assert(d:find(field, 1, true))
  local at = pos + (field == "fmt " and 8 or 4)
  local off = ({ channels = 2, samplerate = 4, bits = 14, size = 0 })
  return function(which)
    local p = at + off[which]
    write(name, d:sub(1, p - 1) .. string.pack(fmt, value) .. d:sub(p + string.packsize(fmt)))
  end
end
patched("lie-data.wav", "good.wav", "data", "<I4", 0x7FFFFFF0)("size")   -- data larger than the file
patched("lie-ch0.wav", "g16.wav", "fmt ", "<I2", 0)("channels")
patched("lie-ch3.wav", "g16.wav", "fmt ", "<I2", 3)("channels")         -- 3 channels, 2 recorded
patched("lie-ch5000.wav", "g16.wav", "fmt ", "<I2", 5000)("channels")
patched("lie-rate0.wav", "good.wav", "fmt ", "<I4", 0)("samplerate")

-- A huge file: an RF64 header claiming 2^37 bytes (16 G frames of stereo
-- float), on a sparse file of that size (no data is written).
do
  local hdr = "RF64" .. string.pack("<I4", 0xFFFFFFFF) .. "WAVE"
    .. "ds64" .. string.pack("<I4I8I8I8I4", 28, 2 ^ 37 + 72, 2 ^ 37, 2 ^ 37 // 8, 0)
    .. "fmt " .. string.pack("<I4I2I2I4I4I2I2", 16, 3, 2, 48000, 48000 * 8, 8, 32)
    .. "data" .. string.pack("<I4", 0xFFFFFFFF)
  write("huge.wav", hdr)
  local fd = assert(uv.fs_open(P("huge.wav"), "r+", 420))
  assert(uv.fs_ftruncate(fd, #hdr + 2 ^ 37))
  uv.fs_close(fd)
end

-- What a file is now: absent, or its size and a hash of its content (the
-- huge sparse file: its size and first 64 KiB).
local function fingerprint(path)
  local st = uv.fs_stat(path)
  if not st then return "absent" end
  if st.type ~= "file" then return st.type end
  local f = assert(io.open(path, "rb"))
  local d = f:read(st.size > 1 << 24 and 65536 or "a") or ""
  f:close()
  local h = 2166136261
  for i = 1, #d do h = ((h ~ d:byte(i)) * 16777619) & 0xffffffff end
  return string.format("%d bytes, fnv %08x", st.size, h)
end

local function listing() return T.listing(dir) end

---------------------------------------------------------------------------
-- The streams the Lua rows use (left open on purpose: rows must not
-- disturb them), and the count of open streams they make
---------------------------------------------------------------------------

local S_in = ps.InputStream{ device = "loopback" }
local S_out = ps.OutputStream{ device = "loopback" }
local S_dup = ps.DuplexStream{ device = "loopback" }
local BASE = ps.stream_count()

local function loop(o)
  local t = { device = "loopback" }
  for k, v in pairs(o) do t[k] = v end
  return t
end

---------------------------------------------------------------------------
-- The rows.  lua = a function (a raised error, or nil plus a message, is
-- its error); cli / recipe = arguments to scripts/pastream or to a recipe,
-- run in the fixtures' directory.  want: the text the error must contain
-- (plain); keep: files that must stay as they were; absent: files that
-- must not exist after the row; code: the exit status (CLI rows: 2 unless
-- given).  frames: for the lying headers that are read anyway, the frames
-- that really are there (no error, and no lie believed).
---------------------------------------------------------------------------

local rows = {
  -- wrong types
  { "stream options not a table", lua = function() return ps.InputStream("loopback") end,
    want = "bad argument #1 to 'InputStream' (options table expected)" },
  { "device a boolean", lua = function() return ps.InputStream{ device = true } end,
    want = "bad argument #1 to 'device' (index or name expected, got boolean)" },
  { "device kind unknown", lua = function() return ps.device("loopback", "sideways") end,
    want = "bad argument #2 to 'device' (\"input\" or \"output\" expected, got sideways)" },
  { "channels a string", lua = function() return ps.InputStream(loop{ channels = "two" }) end,
    want = "input channels must be an integer >= 1, got two" },
  { "samplerate a string", lua = function() return ps.InputStream(loop{ samplerate = "fast" }) end,
    want = "option 'samplerate' must be a number or an {input, output} pair" },
  { "blocksize a string", lua = function() return ps.InputStream(loop{ blocksize = "big" }) end,
    want = "option 'blocksize' must be a number or an {input, output} pair" },
  { "format a number", lua = function() return ps.InputStream(loop{ format = 5 }) end,
    want = "unknown sample format '5' (float32, int32, int24, int16, int8, uint8)" },
  { "latency a word", lua = function() return ps.InputStream(loop{ latency = "medium" }) end,
    want = "input latency must be \"low\", \"high\" or seconds >= 0, got medium" },
  { "rxmapping a string", lua = function() return ps.InputStream(loop{ rxmapping = "1,2" }) end,
    want = "bad argument #1 to 'set_rxmap' (table expected, got string)" },
  { "play a number", lua = function() return S_out:play(42) end,
    want = "bad argument #1 to 'play' (Buffer, function or file name expected, got number)" },
  { "record out a number", lua = function() return S_in:record{ frames = 10, out = 5 } end,
    want = "out must be a Buffer or a function, got number" },
  { "record frames a string", lua = function() return S_in:record{ frames = "ten" } end,
    want = "frames must be an integer (-1: no end), got string ten" },
  { "playrec pad a string", lua = function() return S_dup:playrec(good, { pad = "x" }) end,
    want = "pad must be an integer (-1: pad out to frames, or forever), got string x" },
  { "to_file a number", lua = function() return S_in:to_file(5) end,
    want = "bad argument #1 to 'to_file' (file name expected, got number)" },
  { "spawn a number", lua = function() return ps.spawn(5) end,
    want = "bad argument #1 to 'spawn' (function expected)" },
  { "Buffer from a bad string", lua = function() return ps.Buffer("x") end,
    want = "a string of 1 bytes is not a whole number of 4-byte frames" },
  { "file option a table", lua = function() return S_in:record{ frames = 10, out = P("t1.wav"), output_file = { type = {} } } end,
    want = "file option 'type' must be a string", absent = { "t1.wav" } },
  { "ps.open mode unknown", lua = function() return ps.open(P("good.wav"), "a") end,
    want = "bad argument #2 to 'open' (\"r\" or \"w\" expected)", keep = { "good.wav" } },

  -- out-of-range numbers
  { "device index out of range", lua = function() return ps.InputStream{ device = 99 } end,
    want = "no device 99 (there are " },
  { "no device by that name", lua = function() return ps.InputStream{ device = "no such thing" } end,
    want = "no input device matches 'no such thing'" },
  { "channels 0", lua = function() return ps.InputStream(loop{ channels = 0 }) end,
    want = "input channels must be an integer >= 1, got 0" },
  { "channels negative", lua = function() return ps.OutputStream(loop{ channels = -2 }) end,
    want = "output channels must be an integer >= 1, got -2" },
  { "channels more than any device", lua = function() return ps.InputStream(loop{ channels = 99 }) end,
    want = "input channels must be 1..64, got 99" },
  { "samplerate negative", lua = function() return ps.InputStream(loop{ samplerate = -48000 }) end,
    want = "samplerate must be > 0, got -48000" },
  { "samplerate 0", lua = function() return ps.InputStream(loop{ samplerate = 0 }) end,
    want = "samplerate must be > 0, got 0" },
  { "samplerate the device refuses", lua = function() return ps.DuplexStream(loop{ samplerate = 1e9 }) end,
    want = "refuses 2 channels of float32 at 1e+09 Hz: Invalid sample rate" },
  { "blocksize negative", lua = function() return ps.InputStream(loop{ blocksize = -1 }) end,
    want = "blocksize must be >= 0, got -1" },
  { "latency negative", lua = function() return ps.OutputStream(loop{ latency = -1 }) end,
    want = "output latency must be \"low\", \"high\" or seconds >= 0, got -1" },
  { "frames not whole", lua = function() return S_in:record{ frames = 1.5 } end,
    want = "frames must be an integer (-1: no end), got 1.5" },
  { "offset negative", lua = function() return S_in:record{ frames = 100, offset = -5 } end,
    want = "offset must be an integer >= 0, got -5" },
  { "a recording with no end into a Buffer", lua = function() return S_in:record{} end,
    want = "a recording with no end needs frames >= 0" },
  { "sample frame out of range", lua = function() return ps.Buffer(10, 2):sample(11, 1) end,
    want = "frame 11 out of range 1..10" },
  { "sleep negative", lua = function() return ps.sleep(-1) end,
    want = "bad argument #1 to 'sleep' (seconds >= 0 expected)" },
  { "offline frames not whole", lua = function()
      for _ in ps.chunks{ input = P("good.wav"), frames = 2.5 } do end
    end, want = "frames must be an integer (-1: to the end), got 2.5", keep = { "good.wav" } },

  -- zero and negative sizes, buffersize not a power of two
  { "buffersize not a power of two", lua = function()
      local s <close> = ps.InputStream(loop{ buffersize = 1000 })
      return s:record{ frames = 10, out = P("b1.wav") }
    end, want = "buffersize must be a power of two, got 1000", absent = { "b1.wav" } },
  { "buffersize 0", lua = function() for _ in ps.chunks(loop{ buffersize = 0, frames = 10 }) do end end,
    want = "buffersize must be a power of two, got 0" },
  { "buffersize negative", lua = function()
      local s <close> = ps.DuplexStream(loop{ buffersize = -1024 })
      return s:playrec(P("good.wav"), { out = P("b2.wav") })
    end, want = "buffersize must be a power of two, got -1024", absent = { "b2.wav" } },
  { "Buffer frames negative", lua = function() return ps.Buffer(-1, 2) end,
    want = "bad argument #1 to 'Buffer' (frames must be >= 0)" },
  { "Buffer channels 0", lua = function() return ps.Buffer(10, 0) end,
    want = "bad argument #2 to 'Buffer' (channels must be 1..1024)" },
  { "chunksize negative", lua = function() for _ in ps.chunks(loop{ chunksize = -1 }) do end end,
    want = "chunksize must be an integer >= 0, got -1" },
  { "overlap as large as the chunk", lua = function() for _ in ps.chunks(loop{ chunksize = 64, overlap = 64 }) do end end,
    want = "overlap must be 0..chunksize-1 (chunksize 64), got 64" },
  { "offline chunksize 0", lua = function() for _ in ps.chunks{ input = P("good.wav"), chunksize = 0 } do end end,
    want = "chunksize must be an integer >= 1, got 0" },

  -- unknown formats and subtypes
  { "sample format unknown", lua = function() return ps.InputStream(loop{ format = "float64" }) end,
    want = "unknown sample format 'float64' (float32, int32, int24, int16, int8, uint8)" },
  { "Buffer format unknown", lua = function() return ps.Buffer(10, 2, "float64") end,
    want = "unknown sample format 'float64'" },
  { "file type unknown", lua = function() return S_in:record{ frames = 10, out = P("t2.wav"), output_file = { type = "mp5" } } end,
    want = "unknown file type 'mp5' (wav, aiff, au, raw,", absent = { "t2.wav" } },
  { "encoding unknown", lua = function() return S_in:record{ frames = 10, out = P("t3.wav"), output_file = { subtype = "pcm_99" } } end,
    want = "unknown encoding 'pcm_99' (pcm_s8, pcm_16,", absent = { "t3.wav" } },
  { "endian unknown", lua = function() return S_in:record{ frames = 10, out = P("t4.wav"), output_file = { endian = "middle" } } end,
    want = "unknown endian 'middle' (file, little, big, cpu)", absent = { "t4.wav" } },
  { "encoding the type cannot hold", lua = function() return S_in:record{ frames = 10, out = P("t5.flac"), output_file = { subtype = "float" } } end,
    want = "t5.flac: a flac file cannot hold float at 48000 Hz, 2 channels", absent = { "t5.flac" } },
  { "ps.open writing without a rate", lua = function() return ps.open(P("t6.wav"), "w") end,
    want = "t6.wav needs samplerate and channels", absent = { "t6.wav" } },
  { "RAW without its format", lua = function() return ps.file_info(P("x.raw")) end,
    want = "x.raw: a RAW file needs samplerate, channels and subtype; samplerate is missing", keep = { "x.raw" } },

  -- maps out of range
  { "rxmapping channel too high", lua = function() return ps.InputStream(loop{ rxmapping = { 5 } }) end,
    want = "rxmapping[1] must be a channel 0..2 (0 = silence)" },
  { "rxmapping channel negative", lua = function() return ps.InputStream(loop{ rxmapping = { 1, -1 } }) end,
    want = "rxmapping[2] must be a channel 0..2 (0 = silence)" },
  { "txmapping names a channel the source lacks", lua = function()
      local s <close> = ps.DuplexStream(loop{ txmapping = { 1, 7 } })
      return s:playrec(good, { out = P("m1.wav") })
    end, want = "txmapping names a channel the playback source (2 channels) does not have", absent = { "m1.wav" } },
  { "a file with more channels than the device", lua = function() return S_out:play(P("lie-ch3.wav")) end,
    want = "lie-ch3.wav has 3 channels but the device plays 2 (choose them with txmapping)", keep = { "lie-ch3.wav" } },

  -- empty, huge and lying files; directories; missing files
  { "an empty file's info", lua = function() return ps.file_info(P("empty.wav")) end,
    want = "empty.wav: the file is empty (0 bytes)", keep = { "empty.wav" } },
  { "playing an empty file", lua = function() return S_out:play(P("empty.wav")) end,
    want = "empty.wav: the file is empty (0 bytes)", keep = { "empty.wav" } },
  { "loading an empty file", lua = function() return ps.load(P("empty.wav")) end,
    want = "empty.wav: the file is empty (0 bytes)", keep = { "empty.wav" } },
  { "chunks of an empty file", lua = function() for _ in ps.chunks{ input = P("empty.wav") } do end end,
    want = "empty.wav: the file is empty (0 bytes)", keep = { "empty.wav" } },
  { "a text file named .wav", lua = function() return ps.file_info(P("text.wav")) end,
    want = "text.wav: Format not recognised", keep = { "text.wav" } },
  { "loading a huge file", lua = function() return ps.load(P("huge.wav")) end,
    want = "huge.wav: 17179869184 frames of 2 channels (131072 MiB as float32) are more than half this machine's memory",
    keep = { "huge.wav" } },
  { "a header with 0 channels", lua = function() return ps.file_info(P("lie-ch0.wav")) end,
    want = "lie-ch0.wav: Channel count is zero", keep = { "lie-ch0.wav" } },
  { "a header with 5000 channels", lua = function() return S_out:play(P("lie-ch5000.wav")) end,
    want = "lie-ch5000.wav: Too many channels specified", keep = { "lie-ch5000.wav" } },
  { "a header with rate 0", lua = function() return ps.load(P("lie-rate0.wav")) end,
    want = "lie-rate0.wav: Internal error : SF_INFO struct incomplete", keep = { "lie-rate0.wav" } },
  { "a data chunk larger than the file is read as far as it goes",
    lua = function() return ps.load(P("lie-data.wav")) end, frames = 4800, keep = { "lie-data.wav" } },
  { "a data chunk larger than the file plays what is there", lua = function()
      local b = ps.Buffer(4800, 2)
      local n = 0
      for c in ps.chunks{ input = P("lie-data.wav"), chunksize = 1000 } do n = n + c:frames() end
      return b:resize(n)
    end, frames = 4800, keep = { "lie-data.wav" } },
  { "a missing input", lua = function() return ps.file_info(P("nope.wav")) end,
    want = "nope.wav: System error : No such file or directory" },
  { "a directory as input", lua = function() return S_out:play(P("adir")) end,
    want = "adir: is a directory, not a sound file" },
  { "a directory as offline input", lua = function() for _ in ps.chunks{ input = P("adir") } do end end,
    want = "adir: is a directory, not a sound file" },
  { "a directory as output", lua = function() return S_in:record{ frames = 10, out = P("adir") } end,
    want = "adir is a directory, not a file" },
  { "a directory as offline output", lua = function()
      for _ in ps.chunks{ input = P("good.wav"), out = P("adir") } do end
    end, want = "adir is a directory, not a file", keep = { "good.wav" } },
  { "ps.save to a directory", lua = function() return ps.save(P("adir"), good, 48000) end,
    want = "adir: is a directory, not a sound file" },

  -- unwritable output paths (we may run as root: a missing directory, /sys
  -- and /proc refuse even root)
  { "output in a missing directory", lua = function() return S_in:record{ frames = 10, out = P("nodir/x.wav") } end,
    want = "nodir/x.wav: directory " .. P("nodir") .. " does not exist", absent = { "nodir" } },
  { "output under a file", lua = function() return S_in:record{ frames = 10, out = P("good.wav/x.wav") } end,
    want = "good.wav/x.wav: " .. P("good.wav") .. " is not a directory", keep = { "good.wav" } },
  { "output in /sys", lua = function() return S_in:record{ frames = 10, out = "/sys/pastream-test.wav" } end,
    want = "/sys/pastream-test.wav: System error : Permission denied" },
  { "output in /proc", lua = function() return S_dup:playrec(good, { out = "/proc/pastream-test.wav" }) end,
    want = "/proc/pastream-test.wav: System error : No such file or directory" },
  { "overwriting a /proc file", lua = function() return S_in:record{ frames = 10, out = "/proc/version", overwrite = true } end,
    want = "/proc/version: cannot create a temporary file beside it to record into" },

  -- the output is the input
  { "playrec into its own input", lua = function()
      return S_dup:playrec(P("good.wav"), { out = P("good.wav"), overwrite = true })
    end, want = "good.wav is the same file as the input " .. P("good.wav"), keep = { "good.wav" } },
  { "playrec into a hard link of its input", lua = function()
      return S_dup:playrec(P("good.wav"), { out = P("link.wav"), overwrite = true })
    end, want = "link.wav is the same file as the input " .. P("good.wav"), keep = { "good.wav" } },
  { "offline chunks into their own input", lua = function()
      for _ in ps.chunks{ input = P("good.wav"), out = P("good.wav"), overwrite = true } do end
    end, want = "good.wav is the same file as the input " .. P("good.wav"), keep = { "good.wav" } },
  { "offline chunks into their input, not asked to overwrite", lua = function()
      for _ in ps.chunks{ input = P("good.wav"), out = "./" .. P("good.wav"):match("[^/]+$") } do end
    end, want = "is the same file as the input", keep = { "good.wav" }, cwd = true },

  -- existing outputs, no overwrite asked
  { "record over an existing file", lua = function() return S_in:record{ frames = 10, out = P("keep.wav") } end,
    want = "keep.wav exists; pass overwrite = true to replace it", keep = { "keep.wav" } },
  { "playrec over an existing file", lua = function() return S_dup:playrec(good, { out = P("keep.wav") }) end,
    want = "keep.wav exists; pass overwrite = true to replace it", keep = { "keep.wav" } },
  { "to_file over an existing file", lua = function()
      S_in:to_file(P("keep.wav"))
      local ok, err = pcall(S_in.record, S_in, { frames = 10 })
      S_in:to_file(nil)
      if not ok then error(err, 0) end
    end, want = "keep.wav exists; pass overwrite = true to replace it", keep = { "keep.wav" } },
  { "offline chunks over an existing file", lua = function()
      for _ in ps.chunks{ input = P("good.wav"), out = P("keep.wav") } do end
    end, want = "keep.wav exists; pass overwrite = true to replace it", keep = { "keep.wav", "good.wav" } },

  -- the command line
  { "CLI: no arguments", cli = "", want = "missing input: a file to play (- for standard input), or null to only record" },
  { "CLI: an unknown option", cli = "--bogus good.wav", want = "unknown option '--bogus'" },
  { "CLI: three files", cli = "good.wav a.wav b.wav", want = "too many files: 'b.wav'", absent = { "a.wav", "b.wav" } },
  { "CLI: both null", cli = "null null", want = "nothing to do: the input and the output are both null" },
  { "CLI: channels 0", cli = "-D loopback -c 0 null c.wav", want = "-c/--channels: '0' is not a channel count", absent = { "c.wav" } },
  { "CLI: channels a word", cli = "-D loopback -c two null c.wav", want = "-c/--channels: 'two' is not a channel count", absent = { "c.wav" } },
  { "CLI: channels more than the device", cli = "-D loopback -c 9 -d 0.1 null c.wav",
    want = "-c/--channels: device 'loopback' has 2 input channels, 9 asked for", absent = { "c.wav" } },
  { "CLI: buffersize not a power of two", cli = "-D loopback --buffersize=1000 null c.wav",
    want = "--buffersize: 1000 is not a power of two (512 or 1024 would do)", absent = { "c.wav" } },
  { "CLI: buffersize 0", cli = "-D loopback --buffersize=0 null c.wav", want = "--buffersize: 0 is not a power of two (1, 2, 4, ... 65536, ...)", absent = { "c.wav" } },
  { "CLI: blocksize negative", cli = "-D loopback -b -5 null c.wav", want = "-b/--blocksize: '-5' is not a size in frames (e.g. 2048, 64K)", absent = { "c.wav" } },
  { "CLI: rate a word", cli = "-D loopback -r fast null c.wav", want = "-r/--rate: 'fast' is not a sample rate (e.g. 48000, 48k, 44.1k)", absent = { "c.wav" } },
  { "CLI: rate the device refuses", cli = "-D loopback -r 44.1k -d 0.1 null c.wav",
    want = "-r/--rate: input device 'loopback' refuses 2 channels of float32 at 44100 Hz: Invalid sample rate", absent = { "c.wav" } },
  { "CLI: duration negative", cli = "-D loopback -d -5 null c.wav", want = "-d/--duration: '-5' is not a time ([[hh:]mm:]ss[.frac]", absent = { "c.wav" } },
  { "CLI: frames not whole", cli = "-D loopback -n 1.5 null c.wav", want = "-n/--frames: '1.5' is not a whole number of frames", absent = { "c.wav" } },
  { "CLI: offset longer than the duration", cli = "-D loopback -d 1 -o 2 null c.wav",
    want = "-o/--offset (96000 frames) is longer than the duration (48000 frames)", absent = { "c.wav" } },
  { "CLI: sample format unknown", cli = "-D loopback -f float64 null c.wav", want = "-f/--format: 'float64' is not a sample format (float32, int32, int24, int16, int8, uint8)", absent = { "c.wav" } },
  { "CLI: file type unknown", cli = "-D loopback -d 0.1 -t mp5 null c.wav", want = "-t/--file-type: unknown file type 'mp5' (wav, aiff, au,", absent = { "c.wav" } },
  { "CLI: encoding unknown", cli = "-D loopback -d 0.1 -e pcm_99 null c.wav",
    want = "-e/--encoding: unknown encoding 'pcm_99'", absent = { "c.wav" } },
  { "CLI: map out of range", cli = "-D loopback -d 0.1 -m 5 null c.wav",
    want = "-m/--map: device 'loopback' has 2 input channels, 5 asked for", absent = { "c.wav" } },
  { "CLI: map of an input channel the file lacks", cli = "-D loopback -d 0.1 -m 3:1 mono.wav",
    want = "-m/--map: input channel 3 is out of range (the input has 1)" },
  { "CLI: device index out of range", cli = "-D 99 -d 0.1 null c.wav", want = "-D/--device: no device 99 (there are ", absent = { "c.wav" } },
  { "CLI: an unknown device", cli = "-D nosuch -d 0.1 good.wav", want = "-D/--device: no output device matches 'nosuch'" },
  { "CLI: a missing input", cli = "-D loopback nope.wav", want = "input file 'nope.wav': No such file or directory" },
  { "CLI: an empty input", cli = "-D loopback empty.wav", want = "empty.wav: the file is empty (0 bytes)", keep = { "empty.wav" } },
  { "CLI: a text file as input", cli = "-D loopback text.wav", want = "text.wav: Format not recognised", keep = { "text.wav" } },
  { "CLI: a directory as input", cli = "-D loopback adir", want = "adir: is a directory, not a sound file" },
  { "CLI: a header with 0 channels", cli = "-D loopback lie-ch0.wav", want = "lie-ch0.wav: Channel count is zero", keep = { "lie-ch0.wav" } },
  { "CLI: a header with 5000 channels", cli = "-D loopback lie-ch5000.wav", want = "lie-ch5000.wav: Too many channels specified" },
  { "CLI: a header with more channels than the device", cli = "-D loopback lie-ch3.wav",
    want = "the input has 3 channels but device 'loopback' plays 2: choose with -m/--map" },
  { "CLI: RAW input without its format", cli = "-D loopback x.raw", want = "input file 'x.raw' is RAW: give its -r/--rate, -c/--channels, -e/--encoding" },
  { "CLI: a missing @argfile", cli = "@nope.args", want = "@nope.args: cannot read it" },
  { "CLI: a directory as output", cli = "-D loopback -d 0.1 null adir", want = "output file 'adir' is a directory" },
  { "CLI: output in a missing directory", cli = "-D loopback -d 0.1 null nodir/c.wav",
    want = "output file 'nodir/c.wav': directory 'nodir' does not exist", absent = { "nodir" } },
  { "CLI: output under a file", cli = "-D loopback -d 0.1 null good.wav/c.wav",
    want = "output file 'good.wav/c.wav': 'good.wav' is not a directory", keep = { "good.wav" } },
  { "CLI: output in /sys", cli = "-D loopback -d 0.1 null /sys/pastream-test.wav",
    want = "/sys/pastream-test.wav: System error : Permission denied" },
  { "CLI: output is the input", cli = "-D loopback -y good.wav good.wav",
    want = "output file 'good.wav' is the same file as the input 'good.wav'", keep = { "good.wav" } },
  { "CLI: output is a link to the input", cli = "-D loopback -y good.wav link.wav",
    want = "output file 'link.wav' is the same file as the input 'good.wav'", keep = { "good.wav" } },
  { "CLI: output exists", cli = "-D loopback -d 0.1 null keep.wav",
    want = "output file 'keep.wav' exists (use -y/--overwrite to replace it)", keep = { "keep.wav" } },
  { "CLI: output exists, playing too", cli = "-D loopback good.wav keep.wav",
    want = "output file 'keep.wav' exists (use -y/--overwrite to replace it)", keep = { "keep.wav", "good.wav" } },
  { "CLI: overwrite, but the rate is refused", cli = "-D loopback -y -r 44.1k -d 0.1 null keep.wav",
    want = "-r/--rate: input device 'loopback' refuses", keep = { "keep.wav" } },
  { "CLI: --loop with nothing played", cli = "-D loopback --loop null c.wav",
    want = "--loop repeats the playback, but nothing is played", absent = { "c.wav" } },

  -- recipes
  { "record.lua over an existing file", recipe = "record.lua keep.wav -d 0.1 -D loopback",
    want = "record.lua: keep.wav exists (use -y/--overwrite to replace it)", keep = { "keep.wav" } },
  { "playrec.lua over an existing file", recipe = "playrec.lua good.wav keep.wav -D loopback",
    want = "playrec.lua: keep.wav exists (use -y/--overwrite to replace it)", keep = { "keep.wav", "good.wav" } },
  { "tone.lua -o over an existing file", recipe = "tone.lua -d 0.1 -D loopback -o keep.wav",
    want = "tone.lua: keep.wav exists (use -y/--overwrite to replace it)", keep = { "keep.wav" } },
  { "filter.lua into its own input", recipe = "filter.lua good.wav good.wav -t lowpass -f 1000 -y",
    want = "filter.lua: good.wav is the same file as the input good.wav: choose another output file", keep = { "good.wav" }, code = 1 },
  { "filter.lua over an existing file", recipe = "filter.lua good.wav keep.wav -t lowpass -f 1000",
    want = "filter.lua: keep.wav exists (use -y/--overwrite to replace it)", keep = { "keep.wav", "good.wav" } },
  { "record.lua into a directory", recipe = "record.lua adir -d 0.1 -D loopback",
    want = "record.lua: adir is a directory, not a file" },
}

---------------------------------------------------------------------------
-- Running the rows
---------------------------------------------------------------------------

-- Run a command in the fixtures' directory: its exit status (nil when a
-- signal ended it), stderr and stdout.
local function run(cmd)
  local full = string.format("cd %s && exec timeout -s KILL 60 %s </dev/null >%s 2>%s",
    sh_quote(dir), cmd, sh_quote(P(".out")), sh_quote(P(".err")))
  local ok, how, code = os.execute(full)
  local err, out = read(P(".err")) or "", read(P(".out")) or ""
  os.remove(P(".out")); os.remove(P(".err"))
  if ok then code = 0 end
  -- the shell reports a signal that ended its child as 128 + n
  if how == "signal" or (code and code > 128) then return nil, err, out, code end
  return code, err, out
end

local tried = { lua = 0, cli = 0, recipe = 0 }
for _, row in ipairs(rows) do
  local name = row[1]
  T.group(name, function()
    local before = {}
    for _, f in ipairs(row.keep or {}) do before[f] = fingerprint(P(f)) end
    local files_before = listing()
    local msg, detail
    if row.lua then
      tried.lua = tried.lua + 1
      local saved = uv.cwd()
      if row.cwd then uv.chdir(dir) end
      local res = table.pack(pcall(row.lua))
      if row.cwd then uv.chdir(saved) end
      if not res[1] then msg = tostring(res[2])
      elseif res[2] == nil then msg = tostring(res[3])
      elseif row.frames then
        local b = res[2]
        T.eq(b:frames(), row.frames, name .. ": reads the " .. row.frames .. " frames that are there")
      else
        detail = "no error; it returned " .. tostring(res[2])
      end
      T.eq(ps.stream_count(), BASE, name .. ": no stream left open")
      T.ok(not (S_in.active or S_out.active or S_dup.active), name .. ": the shared streams are idle")
    else
      local script = row.cli and PS or (sh_quote(PL) .. " " .. sh_quote(top .. "/scripts/" .. row.recipe:match("^%S+")))
      local args = row.cli or row.recipe:match("^%S+%s*(.*)$")
      tried[row.cli and "cli" or "recipe"] = tried[row.cli and "cli" or "recipe"] + 1
      local code, err = run(script .. " " .. args)
      msg = err
      T.eq(code, row.code or 2, name .. ": exits with status " .. (row.code or 2) .. ", no crash or hang")
      T.ok(not err:find("traceback", 1, true), name .. ": no traceback", err)
    end
    if not row.frames then
      T.ok(msg and msg:find(row.want, 1, true), name .. ": says '" .. row.want .. "'",
        detail or string.format("the error was: %s", msg))
    end
    for _, f in ipairs(row.keep or {}) do
      T.eq(fingerprint(P(f)), before[f], name .. ": " .. f .. " is unchanged")
    end
    for _, f in ipairs(row.absent or {}) do
      T.eq(fingerprint(P(f)), "absent", name .. ": " .. f .. " was not created")
    end
    T.eq(listing(), files_before, name .. ": no file made or removed in the directory")
  end)
end

-- After all that, the shared streams and a new one on the same device work.
T.group("the device still works", function()
  local rec = S_dup:playrec(good, { frames = 4800 + S_dup:roundtrip_frames(),
                                   offset = S_dup:roundtrip_frames(), pad = -1 })
  T.ok(rec:equals(good), "the duplex stream the rows used still plays and records bit-exact")
  T.eq(S_in:record{ frames = 480 }:frames(), 480, "the input stream the rows used records")
  local s <close> = ps.InputStream{ device = "loopback" }
  T.eq(s:record{ frames = 480 }:frames(), 480, "a new stream on the same device records")
end)

local n = tried.lua + tried.cli + tried.recipe
print(string.format("# bad inputs tried: %d (Lua API and files %d, CLI %d, recipes %d)",
  n, tried.lua, tried.cli, tried.recipe))
T.ok(n >= 60, "at least 60 bad inputs in the matrix")
S_in:close(); S_out:close(); S_dup:close()
os.execute("rm -rf " .. sh_quote(dir))
T.done()
