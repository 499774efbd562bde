-- The command line's pure parts: every value parser (good values and the
-- error text of bad ones), option syntax, @argfiles, the help text, the
-- device table, and the status and summary lines.  No audio device needed.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local cli = require "pastream.cli"

-- The error message of fn(...), or nil when it did not raise.
local function errmsg(fn, ...)
  local ok, e = pcall(fn, ...)
  if ok then return nil end
  return tostring(e)
end

local function raises(fn, args, want, name)
  local msg = errmsg(fn, table.unpack(args))
  T.ok(msg and msg:find(want, 1, true), name,
    string.format("error %s does not contain %q", msg and ("%q"):format(msg) or "(none)", want))
end

local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function show(v)
  if type(v) ~= "table" then return tostring(v) end
  local keys, parts = {}, {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. show(v[k]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function deep(got, want, name)
  T.ok(same(got, want), name, "got " .. show(got) .. ", want " .. show(want))
end

T.group("parse_time", function()
  T.eq(cli.parse_time("10", 48000), 480000, "seconds")
  T.eq(cli.parse_time("2.5", 48000), 120000, "fractional seconds")
  T.eq(cli.parse_time(".5", 48000), 24000, "a fraction alone")
  T.eq(cli.parse_time("10:00", 48000), 28800000, "mm:ss is ten minutes")
  T.eq(cli.parse_time("1:02:03.5", 1000), 3723500, "hh:mm:ss.frac")
  T.eq(cli.parse_time("90", 1000), 90000, "the first part may pass 59")
  T.eq(cli.parse_time("0", 48000), 0, "zero")
  T.eq(cli.parse_time("1.00001", 48000), 48000, "rounds to the nearest frame")
  T.eq(cli.parse_time("480000s"), 480000, "samples")
  T.eq(cli.parse_time("480ks"), 480000, "k = 1000")
  T.eq(cli.parse_time("1Ks"), 1024, "K = 1024")
  T.eq(cli.parse_time("2ms"), 2000000, "m = 10^6")
  T.eq(cli.parse_time("1Ms"), 1048576, "M = 2^20")
  T.eq(cli.parse_time("1.5ks"), 1500, "a fractional multiple")
  T.eq(math.type(cli.parse_time("480ks")), "integer", "samples are an integer")
  T.eq(math.type(cli.parse_time("2.5", 48000)), "integer", "frames are an integer")
  T.eq(cli.parse_time("-1"), -1, "-1 is unlimited")
  local f, sec = cli.parse_time("1:30")
  T.ok(f == nil and sec == 90, "without a rate: nil and the seconds", tostring(f) .. " " .. tostring(sec))
  raises(cli.parse_time, { "1:60" }, "minutes and seconds must be below 60", "seconds 60")
  raises(cli.parse_time, { "1:75:00" }, "below 60", "minutes 75")
  raises(cli.parse_time, { "1:2:3:4" }, "'1:2:3:4' is not a time", "four parts")
  raises(cli.parse_time, { "abc" }, "'abc' is not a time ([[hh:]mm:]ss[.frac]", "letters")
  raises(cli.parse_time, { "" }, "'' is not a time", "empty")
  raises(cli.parse_time, { "-2" }, "'-2' is not a time", "negative other than -1")
  raises(cli.parse_time, { "1e3" }, "is not a time", "exponent")
  raises(cli.parse_time, { "1.5:00" }, "is not a time", "fraction before the last part")
  raises(cli.parse_time, { "1xs" }, "'1xs' is not a time", "bad multiplier")
  raises(cli.parse_time, { "1.0001ks" }, "'1.0001k' is not a whole number of samples", "fractional samples")
  raises(cli.parse_time, { "s" }, "'s' is not a time", "s alone")
end)

T.group("parse_frames", function()
  T.eq(cli.parse_frames("480000"), 480000, "a count")
  T.eq(cli.parse_frames("480k"), 480000, "480k")
  T.eq(cli.parse_frames("64K"), 65536, "64K")
  T.eq(cli.parse_frames("1m"), 1000000, "1m")
  T.eq(cli.parse_frames("2M"), 2097152, "2M")
  T.eq(cli.parse_frames("480ks"), 480000, "an s suffix is allowed")
  T.eq(cli.parse_frames("0"), 0, "zero")
  T.eq(cli.parse_frames("-1"), -1, "-1 is unlimited")
  raises(cli.parse_frames, { "10:00" }, "'10:00' is not a frame count (e.g. 480000, 480k", "a time")
  raises(cli.parse_frames, { "-5" }, "'-5' is not a frame count", "negative")
  raises(cli.parse_frames, { "" }, "'' is not a frame count", "empty")
  raises(cli.parse_frames, { "1.5" }, "'1.5' is not a whole number of frames", "a fraction")
  raises(cli.parse_frames, { "99999999999999999999999" }, "too large", "too large")
end)

T.group("parse_size", function()
  T.eq(cli.parse_size("2048"), 2048, "a size")
  T.eq(cli.parse_size("0"), 0, "zero without pow2")
  T.eq(cli.parse_size("64K", true), 65536, "64K, a power of two")
  T.eq(cli.parse_size("1M", true), 1048576, "1M")
  T.eq(cli.parse_size("1", true), 1, "1 is 2^0")
  raises(cli.parse_size, { "1000", true }, "1000 is not a power of two (512 or 1024 would do)", "1000")
  raises(cli.parse_size, { "64k", true }, "64000 is not a power of two", "64k is 64000")
  raises(cli.parse_size, { "0", true }, "0 is not a power of two", "zero with pow2")
  raises(cli.parse_size, { "big" }, "'big' is not a size in frames (e.g. 2048, 64K)", "text")
  raises(cli.parse_size, { "-4" }, "'-4' is not a size in frames", "negative")
end)

T.group("parse_rate", function()
  T.eq(cli.parse_rate("48000"), 48000, "Hz")
  T.eq(cli.parse_rate("48k"), 48000, "48k")
  T.eq(cli.parse_rate("48K"), 48000, "48K is kHz too")
  T.eq(cli.parse_rate("44.1k"), 44100, "44.1k")
  T.eq(math.type(cli.parse_rate("44.1k")), "integer", "a whole rate is an integer")
  T.eq(cli.parse_rate("22050.5"), 22050.5, "a fractional rate stays")
  raises(cli.parse_rate, { "48q" }, "'48q' is not a sample rate (e.g. 48000, 48k, 44.1k)", "48q")
  raises(cli.parse_rate, { "0" }, "'0' is not a sample rate", "zero")
  raises(cli.parse_rate, { "" }, "'' is not a sample rate", "empty")
  raises(cli.parse_rate, { "-48k" }, "is not a sample rate", "negative")
end)

T.group("parse_map", function()
  deep(cli.parse_map("2,1"), { { 2, 1 }, { 1, 2 } }, "2,1: CHOUT is the position")
  deep(cli.parse_map("1:2,2:1"), { { 1, 2 }, { 2, 1 } }, "CHIN:CHOUT")
  deep(cli.parse_map("0,1"), { { 0, 1 }, { 1, 2 } }, "0 is silence")
  deep(cli.parse_map("1:3"), { { 1, 3 } }, "one entry")
  deep(cli.parse_map(" 1 : 2 , 2 : 1 "), { { 1, 2 }, { 2, 1 } }, "spaces around numbers")
  T.eq(cli.parse_map("null"), nil, "null: no map")
  T.eq(cli.parse_map("^"), nil, "^: no map")
  T.eq(cli.parse_map(""), nil, "empty: no map")
  raises(cli.parse_map, { "1,,2" }, "'' is not a channel map entry (CHIN or CHIN:CHOUT", "empty entry")
  raises(cli.parse_map, { "a" }, "'a' is not a channel map entry", "letters")
  raises(cli.parse_map, { "1:0" }, "'1:0': channels to map to count from 1", "CHOUT 0")
  raises(cli.parse_map, { "1:2,3:2" }, "channel 2 is mapped to twice ('1:2' and '3:2')", "twice")
  raises(cli.parse_map, { "1:2,1" }, "channel 2 is mapped to twice ('1:2' and '1')", "explicit and positional collide")
  raises(cli.parse_map, { "-1" }, "'-1' is not a channel map entry", "negative")
end)

T.group("maps to stream mappings", function()
  deep(cli.txmapping(cli.parse_map("1:2"), 2), { 0, 1 }, "txmapping: output 1 silent, output 2 plays channel 1")
  deep(cli.txmapping(cli.parse_map("2,1"), 2), { 2, 1 }, "txmapping swaps")
  deep(cli.rxmapping(cli.parse_map("2")), { 2 }, "rxmapping: record input 2 as channel 1")
  deep(cli.rxmapping(cli.parse_map("1:3")), { 0, 0, 1 }, "rxmapping: channels before are silent")
end)

T.group("parse_pair and placeholders", function()
  deep(cli.parse_pair("1,2"), { input = "1", output = "2" }, "a pair")
  deep(cli.parse_pair("3"), { input = "3", output = "3" }, "one value for both")
  deep(cli.parse_pair(",2"), { output = "2" }, "empty placeholder")
  deep(cli.parse_pair("null,2"), { output = "2" }, "null placeholder")
  deep(cli.parse_pair("NULL,2"), { output = "2" }, "NULL in capitals")
  deep(cli.parse_pair("2,^"), { input = "2" }, "^ placeholder")
  deep(cli.parse_pair("{},x"), { output = "x" }, "{} placeholder (as pastream)")
  deep(cli.parse_pair(""), {}, "empty: both default")
  deep(cli.parse_pair("1,2", tonumber), { input = 1, output = 2 }, "convert")
  raises(cli.parse_pair, { "1,2,3" }, "'1,2,3' has 3 values; give one, or a pair INPUT,OUTPUT", "three values")
  for _, s in ipairs { "null", "Null", "^", "", "{}" } do
    T.ok(cli.is_null(s), "is_null(" .. s .. ")")
  end
  T.ok(not cli.is_null("-"), "- is not null")
  T.ok(not cli.is_null("nul"), "nul is not null")
end)

T.group("parse_args: positionals", function()
  local o = cli.parse_args { "in.wav", "out.wav" }
  T.ok(o.input == "in.wav" and o.output == "out.wav", "input and output")
  o = cli.parse_args { "in.wav" }
  T.ok(o.input == "in.wav" and o.output == nil, "one file: play only")
  o = cli.parse_args { "null", "out.wav" }
  T.ok(o.input == nil and o.output == "out.wav", "null input: record only")
  o = cli.parse_args { "^", "out.wav" }
  T.ok(o.input == nil and o.output == "out.wav", "^ input")
  o = cli.parse_args { "", "out.wav" }
  T.ok(o.input == nil and o.output == "out.wav", "empty input")
  o = cli.parse_args { "in.wav", "null" }
  T.ok(o.input == "in.wav" and o.output == nil, "null output: play only")
  o = cli.parse_args { "-", "-" }
  T.ok(o.input == "-" and o.output == "-", "- and -")
  o = cli.parse_args { "--", "-x.wav", "@y" }
  T.ok(o.input == "-x.wav" and o.output == "@y", "-- ends the options (and @ expansion)")
  raises(cli.parse_args, { {} }, "missing input: a file to play (- for standard input), or null to only record", "no files")
  raises(cli.parse_args, { { "a", "b", "c" } }, "too many files: 'c'", "three files")
  raises(cli.parse_args, { { "null", "^" } }, "nothing to do: the input and the output are both null", "both null")
  local e = select(2, pcall(cli.parse_args, { "--bogus", "x" }))
  T.eq(type(e) == "table" and e.code, 2, "a usage error has code 2")
end)

T.group("parse_args: option syntax", function()
  local function rate(args) return cli.parse_args(args).rate end
  T.eq(rate { "-r48k", "x" }, 48000, "-r48k")
  T.eq(rate { "-r", "48k", "x" }, 48000, "-r 48k")
  T.eq(rate { "-r=48k", "x" }, 48000, "-r=48k")
  T.eq(rate { "--rate=48k", "x" }, 48000, "--rate=48k")
  T.eq(rate { "--rate", "48k", "x" }, 48000, "--rate 48k")
  T.eq(rate { "x", "-r", "44.1k" }, 44100, "options after the files")
  T.eq(rate { "-r8k", "-r16k", "x" }, 16000, "the last one wins")
  local o = cli.parse_args { "-c1", "-r48k", "-e=pcm_16", "output.raw" }
  T.ok(o.channels.input == 1 and o.channels.output == 1 and o.rate == 48000
    and o.encoding.input == "pcm_16" and o.input == "output.raw", "the RAW example of pastream's docs")
  o = cli.parse_args { "null", "output.wav", "-r48k", "-n=480k" }
  T.ok(o.frames == 480000 and o.output == "output.wav", "-n=480k")
  o = cli.parse_args { "null", "output.wav", "-r48k", "-d10:00" }
  T.eq(o.duration, "10:00", "-d10:00 (kept as text until the rate is known)")
  T.eq(cli.parse_args({ "--duration=10", "x" }).duration, "10", "--duration=10")
  o = cli.parse_args { "-ql", "x" }
  T.ok(o.quiet and o.list, "a cluster of flags")
  o = cli.parse_args { "-qc", "2", "x" }
  T.ok(o.quiet and o.channels.input == 2, "a flag then an option taking the next argument")
  o = cli.parse_args { "-qc2", "x" }
  T.ok(o.quiet and o.channels.input == 2, "a flag then an option with its value attached")
  o = cli.parse_args { "--fatal_xruns", "--file_type=wav", "x" }
  T.ok(o.fatal_xruns and o.file_type.input == "wav", "underscores in long names (as pastream's --file_type)")
  T.eq(cli.parse_args({ "-c=", "x" }).channels.input, nil, "-c= keeps the default")
  raises(cli.parse_args, { { "--bogus", "x" } }, "unknown option '--bogus'", "unknown long option")
  raises(cli.parse_args, { { "-z", "x" } }, "unknown option '-z'", "unknown short option")
  raises(cli.parse_args, { { "-qz", "x" } }, "unknown option '-z' (in '-qz')", "unknown option in a cluster")
  raises(cli.parse_args, { { "x", "-r" } }, "-r/--rate needs a value", "a missing value")
  raises(cli.parse_args, { { "--rate" } }, "-r/--rate needs a value", "a missing long value")
  raises(cli.parse_args, { { "--loop=yes", "x" } }, "--loop takes no value", "a value for a flag")
  raises(cli.parse_args, { { "-r", "48k,44.1k", "x" } }, "-r/--rate: '48k,44.1k': give one value", "a pair for the rate")
  raises(cli.parse_args, { { "-b", "1,2", "x" } }, "-b/--blocksize: '1,2': give one value", "a pair for the blocksize")
end)

T.group("parse_args: every option", function()
  local o = cli.parse_args {
    "--buffersize=64K", "-d", "1:00", "-o", "256s", "-p", "0.5", "--loop", "--fatal-xruns",
    "-b", "512", "-c", "1,2", "-D", "loopback,0", "-f", "int16,float32", "-r", "48k",
    "-m", "2,1", "-m", "1:2", "-t", "WAV,au", "-e", "PCM_16,float", "--endian", "little,big",
    "-q", "in.wav", "out.wav" }
  T.eq(o.buffersize, 65536, "--buffersize")
  T.eq(o.duration, "1:00", "-d")
  T.eq(o.offset, "256s", "-o")
  T.eq(o.pad, "0.5", "-p VALUE")
  T.ok(o.loop and o.fatal_xruns and o.quiet, "--loop --fatal-xruns -q")
  T.eq(o.blocksize, 512, "-b")
  deep(o.channels, { input = 1, output = 2 }, "-c pair")
  deep(o.device, { input = "loopback", output = "0" }, "-D pair")
  deep(o.format, { input = "int16", output = "float32" }, "-f pair")
  T.eq(o.rate, 48000, "-r")
  deep(o.map, { { { 2, 1 }, { 1, 2 } }, { { 1, 2 } } }, "-m twice: playback map, then recording map")
  deep(o.file_type, { input = "wav", output = "au" }, "-t pair, in small letters (as ps.formats() names them)")
  deep(o.encoding, { input = "pcm_16", output = "float" }, "-e pair, in small letters")
  deep(o.endian, { input = "little", output = "big" }, "--endian pair")
  T.ok(cli.parse_args({ "-h" }).help, "-h needs no files")
  T.ok(cli.parse_args({ "--help" }).help, "--help")
  T.ok(cli.parse_args({ "-l" }).list, "-l needs no files")
  T.ok(cli.parse_args({ "--list" }).list, "--list")
  T.ok(cli.parse_args({ "--version" }).version, "--version")
  T.eq(cli.parse_args({ "-n", "-1", "x" }).frames, -1, "-n -1")
  T.eq(cli.parse_args({ "-d", "-1", "x" }).duration, "-1", "-d -1")
  deep(cli.parse_args({ "-m", "null", "-m", "2", "a", "b" }).map, { false, { { 2, 1 } } }, "-m null skips the playback map")
end)

T.group("parse_args: --pad's optional value", function()
  T.eq(cli.parse_args({ "-p", "in.wav", "out.wav" }).pad, true, "-p then a file: no value")
  T.eq(cli.parse_args({ "in.wav", "-p" }).pad, true, "-p last")
  T.eq(cli.parse_args({ "-p", "1.5", "in.wav" }).pad, "1.5", "-p 1.5")
  T.eq(cli.parse_args({ "-p1.5", "in.wav" }).pad, "1.5", "-p1.5")
  T.eq(cli.parse_args({ "-p=100s", "in.wav" }).pad, "100s", "-p=100s")
  T.eq(cli.parse_args({ "--pad", "in.wav" }).pad, true, "--pad then a file")
  T.eq(cli.parse_args({ "--pad", "2", "in.wav" }).pad, "2", "--pad 2")
  T.eq(cli.parse_args({ "--pad=-1", "in.wav" }).pad, "-1", "--pad=-1")
  raises(cli.parse_args, { { "-pq", "in.wav" } }, "-p/--pad: 'q' is not a time", "-pq: the rest of a cluster is the value")
end)

T.group("parse_args: bad values name the option", function()
  local cases = {
    { { "-d", "1:75", "x" }, "-d/--duration: '1:75': minutes and seconds must be below 60" },
    { { "-d", "ten", "x" }, "-d/--duration: 'ten' is not a time" },
    { { "-o", "-1", "x", "y" }, "-o/--offset: must be >= 0" },
    { { "-o", "x.wav", "x", "y" }, "-o/--offset: 'x.wav' is not a time" },
    { { "-n", "10:00", "x" }, "-n/--frames: '10:00' is not a frame count" },
    { { "-p=abc", "x" }, "-p/--pad: 'abc' is not a time" },
    { { "--buffersize", "1000", "x" }, "--buffersize: 1000 is not a power of two (512 or 1024 would do)" },
    { { "-b", "fast", "x" }, "-b/--blocksize: 'fast' is not a size in frames" },
    { { "-c", "0", "x" }, "-c/--channels: '0' is not a channel count (a whole number >= 1)" },
    { { "-c", "two", "x" }, "-c/--channels: 'two' is not a channel count" },
    { { "-c", "1,2,3", "x" }, "-c/--channels: '1,2,3' has 3 values" },
    { { "-f", "float64", "x" }, "-f/--format: 'float64' is not a sample format (float32, int32, int24, int16, int8, uint8)" },
    { { "-r", "fast", "x" }, "-r/--rate: 'fast' is not a sample rate" },
    { { "-m", "1:0", "x" }, "-m/--map: '1:0': channels to map to count from 1" },
    { { "-m", "1", "-m", "2", "-m", "3", "x", "y" }, "-m/--map: given more than twice" },
    { { "--endian", "middle", "x" }, "--endian: 'middle' is not a byte order (file, little, big, cpu)" },
  }
  for _, c in ipairs(cases) do
    raises(cli.parse_args, { c[1] }, c[2], table.concat(c[1], " "))
  end
end)

T.group("parse_args: options that make no sense together", function()
  raises(cli.parse_args, { { "-d", "1", "-n", "10", "x" } },
    "-d/--duration and -n/--frames both set the length: give one", "-d and -n")
  raises(cli.parse_args, { { "-o", "1", "in.wav" } },
    "-o/--offset drops recorded frames, but nothing is recorded", "-o when only playing")
  raises(cli.parse_args, { { "-p", "null", "out.wav" } },
    "-p/--pad pads the playback, but nothing is played", "-p when only recording")
  raises(cli.parse_args, { { "--loop", "null", "out.wav" } },
    "--loop repeats the playback, but nothing is played", "--loop when only recording")
  raises(cli.parse_args, { { "-m", "1", "-m", "2", "in.wav" } },
    "-m/--map is given twice, but only playing: give it once", "-m twice when only playing")
end)

T.group("@argfile", function()
  local dir = os.tmpname()
  os.remove(dir)
  local function write(name, text)
    local path = dir .. "-" .. name
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
    return path
  end
  local a = write("a", "-r 48k  -c1 # a comment -q\n\n'my file.wav' \"x\\\"y\"\n-e=pcm_16 ''\n")
  deep(cli.read_argfile(a), { "-r", "48k", "-c1", "my file.wav", 'x"y', "-e=pcm_16", "" },
    "words, quotes, escapes, comments, an empty word")
  local b = write("b", "a\\ b c#d 'it''s' \"$HOME\" '#x'")
  deep(cli.read_argfile(b), { "a b", "c#d", "its", "$HOME", "#x" },
    "backslash, # inside a word, adjacent quotes, no expansion")
  local c = write("c", "ok\n'never closed\n")
  raises(cli.read_argfile, { c }, "@" .. c .. ":2: the ' quote is never closed", "an unclosed quote says where")
  raises(cli.read_argfile, { dir .. "-missing" }, "@" .. dir .. "-missing: cannot read it", "a missing file")

  local args = write("args", "-r48k -c 1\nnull\n")
  local o = cli.parse_args { "@" .. args, "out.wav" }
  T.ok(o.rate == 48000 and o.channels.input == 1 and o.input == nil and o.output == "out.wav",
    "@file expands in place")
  local outer = write("outer", "@" .. args .. " -q\n")
  o = cli.parse_args { "@" .. outer, "out.wav" }
  T.ok(o.rate == 48000 and o.quiet, "@files nest")
  local loop = write("loop", "@" .. dir .. "-loop\n")
  raises(cli.parse_args, { { "@" .. loop } }, "too many @argfiles (does one include itself?)", "a loop")
  raises(cli.parse_args, { { "@" .. dir .. "-none", "x" } }, "cannot read it", "a missing @file is a usage error")
  T.eq(cli.parse_args({ "-D", "@dev", "x" }).device.input, "@dev", "an option's value is not expanded")
  for _, n in ipairs { "a", "b", "c", "args", "outer", "loop" } do os.remove(dir .. "-" .. n) end
end)

T.group("help", function()
  local h = cli.help()
  for _, o in ipairs(cli.options) do
    T.ok(h:find("--" .. o.long, 1, true), "help mentions --" .. o.long)
    if o.short then
      T.ok(h:find("-" .. o.short .. ", --" .. o.long, 1, true), "help pairs -" .. o.short .. " with --" .. o.long)
    end
  end
  T.ok(h:find("@FILE", 1, true), "help mentions @argfiles")
  T.ok(h:find("usage: pastream [options] input|NULL [output|NULL]", 1, true), "help starts with the usage")
  T.ok(h:find("1Ks is 1024 samples", 1, true), "help explains the sample multipliers")
  T.ok(h:find("null, ^ or ''", 1, true), "help explains the placeholders")
  T.ok(h:find("exit status", 1, true), "help gives the exit statuses")
  local long = 0
  for line in h:gmatch("[^\n]*") do long = math.max(long, #line) end
  T.ok(long <= 79, "help fits 80 columns", "longest line " .. long)
end)

T.group("format_devices", function()
  local devs = {
    { index = 0, name = "system", hostapi_name = "JACK", max_input_channels = 2, max_output_channels = 2,
      default_samplerate = 48000.0, default_input = true, default_output = true },
    { index = 1, name = "loopback", hostapi_name = "JACK", max_input_channels = 2, max_output_channels = 2,
      default_samplerate = 48000.0 },
    { index = 2, name = "mic", hostapi_name = "ALSA", max_input_channels = 1, max_output_channels = 0,
      default_samplerate = 44100.0, default_input = true },
    { index = 3, name = "speaker", hostapi_name = "ALSA", max_input_channels = 0, max_output_channels = 8,
      default_samplerate = 44100.0, default_output = true },
  }
  local t = cli.format_devices(devs)
  local lines = {}
  for l in t:gmatch("[^\n]+") do lines[#lines + 1] = l end
  T.eq(#lines, 8, "a header, a heading per host API, one line per device, a legend")
  T.ok(lines[1]:find("#", 1, true) and lines[1]:find("name", 1, true) and lines[1]:find("rate", 1, true), "the header")
  T.eq(lines[2], "JACK", "a host API's heading (no -D prefix for a name it does not know)")
  T.ok(lines[3]:match("^%*%s+0%s+system%s+2%s+2%s+48000$"), "default input and output: *", lines[3])
  T.ok(lines[4]:match("^%s+1%s+loopback%s+2%s+2%s+48000$"), "not a default: no mark", lines[4])
  T.eq(lines[5], "ALSA (-D alsa:NAME)", "the next host API's heading names its -D prefix")
  T.ok(lines[6]:match("^>%s+2%s+mic%s+1%s+0%s+44100$"), "default input: >", lines[6])
  T.ok(lines[7]:match("^<%s+3%s+speaker"), "default output: <", lines[7])
  T.eq(lines[8], "> default input, < default output, * both", "the legend")
  T.eq(lines[3]:find("system", 1, true), lines[6]:find("mic", 1, true), "names are aligned across groups")
  -- with PortAudio's host API list: its order, full names, empty ones left out
  local apis = { { index = 0, name = "ALSA" }, { index = 1, name = "OSS" },
                 { index = 2, name = "JACK Audio Connection Kit" } }
  for _, d in ipairs(devs) do
    if d.hostapi_name == "JACK" then d.hostapi_name = "JACK Audio Connection Kit" end
  end
  local heads = {}
  for l in cli.format_devices(devs, apis):gmatch("[^\n]+") do
    if not l:find("%d") and not l:find("#", 1, true) and not l:find("default", 1, true) then heads[#heads + 1] = l end
  end
  T.eq(table.concat(heads, " | "), "ALSA (-D alsa:NAME) | JACK Audio Connection Kit (-D jack:NAME)",
    "groups in PortAudio's host API order, each with its -D prefix; OSS (no devices) left out")
  T.ok(cli.format_devices({}):find("(no audio devices)", 1, true), "no devices")
end)

T.group("status_line", function()
  T.eq(cli.format_time(0), "00:00.0", "format_time 0")
  T.eq(cli.format_time(75.34), "01:15.3", "format_time mm:ss.t")
  T.eq(cli.format_time(59.96), "01:00.0", "format_time rounds up to the minute")
  T.eq(cli.format_time(3723.5), "1:02:03.5", "format_time with hours")
  T.eq(cli.db(1), "  0.0", "db full scale")
  T.eq(cli.db(0.5), " -6.0", "db half")
  T.eq(cli.db(0), " -inf", "db silence")
  T.eq(cli.db(nil), " -inf", "db nothing")

  local l = cli.status_line { elapsed = 15, total = 60, xruns = 0, cpu = 0.031 }
  T.eq(l, "00:15.0/01:00.0 [##--------]  25% xruns 0 cpu   3%", "elapsed, total, bar, xruns, cpu")
  l = cli.status_line { elapsed = 15, xruns = 2 }
  T.eq(l, "00:15.0 xruns 2", "no total: no bar; no cpu: not shown")
  l = cli.status_line { elapsed = 90, total = 60 }
  T.ok(l:find("[##########] 100%", 1, true), "past the total: a full bar", l)
  l = cli.status_line { elapsed = 0, total = 0 }
  T.ok(l:find("[##########] 100%", 1, true), "a zero total is done", l)
  l = cli.status_line { elapsed = 1, play_peak = 0.5, rec_peak = { 0.25, 0.1 } }
  T.eq(l, "00:01.0 play  -6.0dB rec -12.0/-20.0dB xruns 0", "peaks in dBFS, each channel (a dead one shows)")
  l = cli.status_line { elapsed = 1, rec_peak = { 0.1, 1.0 } }
  T.ok(l:find("rec -20.0/0.0dB CLIP", 1, true), "full scale is a clip", l)
  l = cli.status_line { elapsed = 1, rec_peak = 32767 / 32768 }
  T.ok(l:find("CLIP", 1, true), "int16 full scale is a clip", l)
  l = cli.status_line { elapsed = 1, rec_peak = 0.999 }
  T.ok(not l:find("CLIP", 1, true), "just below is not", l)
  l = cli.status_line { elapsed = 1, play_peak = 0.01, play_clip = true }
  T.ok(l:find("play -40.0dB CLIP", 1, true), "a clip stays marked (latched by the caller)", l)
  l = cli.status_line { elapsed = 1, rec_peak = 0 }
  T.ok(l:find("rec  -infdB", 1, true), "silence is -inf", l)
  l = cli.status_line { elapsed = 1 }
  T.ok(not l:find("play") and not l:find("rec"), "no peak reading: no meter")
  l = cli.status_line { elapsed = 15, total = 60, play_peak = 0.5, rec_peak = 0.5, xruns = 3, cpu = 0.5 }
  T.eq(l, "00:15.0/01:00.0 [##--------]  25% play  -6.0dB rec  -6.0dB xruns 3 cpu  50%",
    "both meters, bar and cpu fit 80 columns")
  l = cli.status_line { elapsed = 15, total = 60, play_peak = 1, rec_peak = 1, xruns = 3, cpu = 0.5 }
  T.eq(l, "00:15.0/01:00.0  25% play   0.0dB CLIP rec   0.0dB CLIP xruns 3 cpu  50%",
    "too wide for 80 columns: the bar goes first")
  l = cli.status_line { elapsed = 15, total = 60, play_peak = 1, rec_peak = 1, xruns = 3, cpu = 0.5, width = 70 }
  T.eq(l, "00:15.0/01:00.0  25% play   0.0dB CLIP rec   0.0dB CLIP xruns 3",
    "then the cpu load")
  l = cli.status_line { elapsed = 15, total = 60, play_peak = 1, rec_peak = 1, xruns = 3, cpu = 0.5, width = 40 }
  T.eq(#l, 39, "then the line is cut to the width - 1")
  l = cli.status_line { elapsed = 15, total = 60, play_peak = 0.5, rec_peak = 0.5, width = 200 }
  T.ok(l:find("[##--------]", 1, true), "a wide terminal keeps everything", l)
  l = cli.status_line { elapsed = 3600, total = 7200, play_peak = 1, rec_peak = 1, xruns = 123, cpu = 0.999 }
  T.ok(#l <= 79 and l:find("xruns 123", 1, true) and l:find(" 50%", 1, true),
    "hours, two clips, many xruns: what matters fits 80 columns", #l .. ": " .. l)
end)

T.group("summary_line", function()
  local s = cli.summary_line { frames = 480000, samplerate = 48000,
    input_underflows = 1, input_overflows = 2, output_underflows = 3, output_overflows = 4,
    tx_lost = 5, rx_lost = 6 }
  T.eq(s, "480000 frames (10.000 s at 48000 Hz); xruns 10 (input underflow 1, input overflow 2, "
    .. "output underflow 3, output overflow 4); lost frames 11 (playback 5, recording 6)", "the summary")
  s = cli.summary_line { frames = 24000, samplerate = 48000, interrupted = "SIGINT" }
  T.ok(s:find("^interrupted %(SIGINT%) after 24000 frames %(0%.500 s at 48000 Hz%); xruns 0; lost frames 0$"),
    "interrupted; counts that are all zero are one word", s)
  s = cli.summary_line { frames = 44100, samplerate = 44100.0 }
  T.ok(s:find("(1.000 s at 44100 Hz)", 1, true), "a float rate prints as a whole number", s)
end)

T.group("file_message", function()
  T.eq(cli.file_message("unknown file type 'wacv' (wav, aiff)"),
    "-t/--file-type: unknown file type 'wacv' (wav, aiff)", "a file type names -t")
  T.eq(cli.file_message("/x/init.lua:12: unknown encoding 'pcm_17' (pcm_16)"),
    "-e/--encoding: unknown encoding 'pcm_17' (pcm_16)", "an encoding names -e, without the position")
  T.eq(cli.file_message("unknown endian 'middle' (file, little, big, cpu)"),
    "--endian: unknown endian 'middle' (file, little, big, cpu)", "an endian names --endian")
  T.eq(cli.file_message("o.au: a AU file cannot hold float at 48000 Hz, 2 channels; give a subtype (encoding)"),
    "o.au: a AU file cannot hold float at 48000 Hz, 2 channels; give one with -e/--encoding", "a subtype names -e")
  T.eq(cli.file_message("in.wav has 6 channels but the device plays 2 (choose them with txmapping)", "in.wav"),
    "in.wav has 6 channels but the device plays 2 (choose them with -m/--map)", "txmapping is -m")
  T.eq(cli.file_message("File contains data in an unknown format.", "in.wav"),
    "input file 'in.wav': File contains data in an unknown format.", "the input file is named")
end)

T.group("main: usage errors and help without a device", function()
  local function capture()
    local t = { text = "" }
    function t:write(...) for _, v in ipairs { ... } do self.text = self.text .. tostring(v) end return self end
    return t
  end
  local out, err = capture(), capture()
  T.eq(cli.main({ "-h" }, { stdout = out, stderr = err }), 0, "-h exits 0")
  T.eq(out.text, cli.help(), "-h prints the help on stdout")
  T.eq(err.text, "", "and nothing on stderr")
  out, err = capture(), capture()
  T.eq(cli.main({ "--frobnicate", "x" }, { stdout = out, stderr = err }), 2, "an unknown option exits 2")
  T.eq(err.text, "pastream: unknown option '--frobnicate'\nusage: pastream [options] input|NULL [output|NULL]\n"
    .. "Try 'pastream --help' for more.\n", "one line naming it, then the usage")
  T.eq(out.text, "", "nothing on stdout")
  out, err = capture(), capture()
  T.eq(cli.main({}, { stdout = out, stderr = err }), 2, "no arguments exits 2")
  T.ok(err.text:find("missing input", 1, true), "and says what is missing")
  T.ok(not err.text:find("traceback", 1, true), "no traceback")
end)

T.done()
