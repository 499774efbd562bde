--- pastream.cli: the bundled command line, a sox-like player and recorder.
--
--   pastream [options] input|NULL [output|NULL]
--
-- cli.main(argv) runs it and returns the exit status: 0 done, 1 a runtime
-- failure, 2 a usage error (a bad option or value, a missing file, no such
-- device, a rate the device refuses: anything that fails before the audio
-- starts), 128 + the signal's number when SIGINT/SIGTERM stopped it.
-- The parsers and the renderers of the status and summary lines are pure
-- functions, exported for the tests.
local options = require "pastream.options"
local output = require "pastream.output"

local cli = {}

local PROG = "pastream"
local USAGE = "usage: pastream [options] input|NULL [output|NULL]"

---------------------------------------------------------------------------
-- Errors
---------------------------------------------------------------------------

-- An error the CLI raises on purpose: a message for the user (no position,
-- no traceback) and the exit status.  tostring() gives the message, so
-- tests can match it.
local Failure = {}
Failure.__index = Failure
Failure.__tostring = function(e) return e.message end

local function fail(code, fmt, ...)
  local msg = select("#", ...) > 0 and string.format(fmt, ...) or fmt
  error(setmetatable({ code = code, message = msg }, Failure), 0)
end
local function usage_error(...) fail(2, ...) end
local function runtime_error(...) fail(1, ...) end

local function is_failure(e) return getmetatable(e) == Failure end

-- A library error's message without the "file.lua:123: " position.
local function clean(err)
  if is_failure(err) then return err.message end
  local msg = tostring(err)
  msg = msg:gsub("\nstack traceback:.*$", "")
  local stripped
  repeat
    stripped = msg
    msg = msg:gsub("^[^\n:]-%.lua:%d+: ", ""):gsub("^%(command line%):%d+: ", "")
  until msg == stripped
  return msg
end

-- Run fn(...); a plain error becomes a Failure with `code`, its message
-- prefixed by `prefix` (when given).
local function try(code, prefix, fn, ...)
  local res = table.pack(pcall(fn, ...))
  if res[1] then return table.unpack(res, 2, res.n) end
  if is_failure(res[2]) then error(res[2], 0) end
  local msg = clean(res[2])
  fail(code, "%s", prefix and (prefix .. ": " .. msg) or msg)
end

---------------------------------------------------------------------------
-- Value parsers (each raises a plain message without the option's name;
-- parse_args adds it)
---------------------------------------------------------------------------

-- "12", "1.5", ".5" -> number; anything else (signs, exponents, hex) -> nil
local function decimal(s)
  if s:match("^%d+%.?%d*$") or s:match("^%.%d+$") then return tonumber(s) end
  return nil
end

local MULT = { k = 1000, K = 1024, m = 1000000, M = 1048576 }

-- A number with an optional k/K/m/M multiplier, as a whole number.
local function scaled(str, what)
  local num, suffix = str:match("^(.-)([kKmM]?)$")
  local v = decimal(num)
  if not v then return nil end
  local mult = MULT[suffix] or 1
  if math.type(v) == "integer" and v <= math.maxinteger // mult then
    v = v * mult
  else
    v = v * 1.0 * mult     -- an integer product would wrap past 2^63
  end
  local n = math.floor(v + 0.5)
  if math.abs(v - n) > 1e-6 then
    error(string.format("'%s' is not a whole number of %s", str, what), 0)
  end
  return math.tointeger(n) or error(string.format("'%s' is too large", str), 0)
end

local TIME_HELP = "[[hh:]mm:]ss[.frac], or samples with an s suffix like 480ks"

--- cli.parse_time(str [, rate]) -> frames.
-- str is [[hh:]mm:]ss[.frac] (the leading parts optional; minutes and
-- seconds after the first part below 60), or a number of samples with an
-- `s` suffix and an optional multiplier (k 1000, K 1024, m 10^6, M 2^20:
-- 1Ks = 1024, 480ks = 480000), or -1 (unlimited).  A time in seconds needs
-- the rate to become frames: without one, returns nil and the seconds.
function cli.parse_time(str, rate)
  if type(str) ~= "string" then error("a time must be a string, got " .. type(str), 0) end
  if str == "-1" then return -1 end
  if str:sub(-1) == "s" and str:sub(-2, -2):match("[%d.kKmM]") then
    local n = scaled(str:sub(1, -2), "samples")
    if not n then
      error(string.format("'%s' is not a time (%s)", str, TIME_HELP), 0)
    end
    return n
  end
  local parts = {}
  for p in (str .. ":"):gmatch("([^:]*):") do parts[#parts + 1] = p end
  local seconds = 0
  local ok = #parts >= 1 and #parts <= 3
  for i, p in ipairs(ok and parts or {}) do
    local last = i == #parts
    local v = last and decimal(p) or (p:match("^%d+$") and tonumber(p))
    if not v then ok = false break end
    if i > 1 and v >= 60 then
      error(string.format("'%s': minutes and seconds must be below 60", str), 0)
    end
    seconds = seconds * 60.0 + v   -- float: integer parts would wrap past 2^63
  end
  if not ok then
    error(string.format("'%s' is not a time (%s; -1 for unlimited)", str, TIME_HELP), 0)
  end
  -- A long run of digits is a float, up to infinity: a count of frames
  -- must still be an integer.
  local frames = rate and math.tointeger(math.floor(seconds * rate + 0.5))
  if seconds == math.huge or (rate and not frames) then
    error(string.format("'%s' is too long", str), 0)
  end
  if rate then return frames end
  return nil, seconds
end

--- cli.parse_frames(str) -> a frame count: 480000, 480k (k 1000, K 1024,
-- m 10^6, M 2^20), an optional s suffix (480ks), or -1 (unlimited).
function cli.parse_frames(str)
  if str == "-1" then return -1 end
  local s = str:gsub("s$", "")
  local n = s ~= "" and scaled(s, "frames")
  if not n then
    error(string.format("'%s' is not a frame count (e.g. 480000, 480k, 64K; -1 for unlimited)", str), 0)
  end
  return n
end

--- cli.parse_size(str [, pow2]) -> a size in frames (k 1000, K 1024,
-- m 10^6, M 2^20).  With pow2 it must be a power of two.
function cli.parse_size(str, pow2)
  local n = scaled(str, "frames")
  if not n then
    error(string.format("'%s' is not a size in frames (e.g. 2048, 64K)", str), 0)
  end
  if pow2 and n < 1 then
    error(string.format("%d is not a power of two (1, 2, 4, ... 65536, ...)", n), 0)
  end
  if pow2 and n & (n - 1) ~= 0 then
    local p = 1
    while p <= n // 2 do p = p * 2 end     -- not p * 2 <= n: that wraps past 2^62
    if p > math.maxinteger // 2 then
      error(string.format("%d is not a power of two (%d would do)", n, p), 0)
    end
    error(string.format("%d is not a power of two (%d or %d would do)", n, p, p * 2), 0)
  end
  return n
end

--- cli.blocksize(str) -> frames per callback.  sox's -b is bits per
-- sample; pastream's is frames per callback, so a value under 32 (other
-- than 0, the host's choice) is refused with a hint rather than run.
function cli.blocksize(str)
  local n = cli.parse_size(str)
  if n > 0 and n < 32 then
    local bits = (n == 8 or n == 16 or n == 24)
      and string.format(": for %d-bit samples use -e pcm_%d (file) or -f int%d (device)", n, n, n) or ""
    error(string.format("%d frames per callback is too small (at least 32, or 0 for the host's "
      .. "choice); -b is the blocksize here, not sox's bits per sample%s", n, bits), 0)
  end
  return n
end

--- cli.parse_rate(str) -> a sample rate in Hz: 48000, 48k, 44.1k (k or K
-- both mean kHz here).
function cli.parse_rate(str)
  local num, k = str:match("^(.-)([kK]?)$")
  local v = decimal(num)
  if v and k ~= "" then v = v * 1000.0 end   -- float: an integer would wrap
  if not v or v <= 0 or v == math.huge then
    error(string.format("'%s' is not a sample rate (e.g. 48000, 48k, 44.1k)", str), 0)
  end
  local n = math.floor(v + 0.5)
  -- near 2^63 a whole rate has no integer form: it stays a float
  if math.abs(v - n) < 1e-6 and math.tointeger(n) then return math.tointeger(n) end
  return v
end

--- cli.parse_map("CHIN[:CHOUT][,...]") -> list of {chin, chout}.
-- Entry k sends channel CHIN to channel CHOUT (k when omitted); CHIN 0 is
-- silence.  "null", "^" or "" -> nil (no map).
function cli.parse_map(str)
  if cli.is_null(str) then return nil end
  local map, used = {}, {}
  local k = 0
  for entry in (str .. ","):gmatch("([^,]*),") do
    k = k + 1
    local a, b = entry:match("^%s*(%d+)%s*:%s*(%d+)%s*$")
    if not a then a = entry:match("^%s*(%d+)%s*$") b = tostring(k) end
    if not a then
      error(string.format("'%s' is not a channel map entry (CHIN or CHIN:CHOUT, e.g. 2,1 or 1:2,2:1)", entry), 0)
    end
    local chin, chout = math.tointeger(tonumber(a)), math.tointeger(tonumber(b))
    if not chin or not chout then   -- more digits than an integer holds
      error(string.format("'%s': a channel number is too large", entry), 0)
    end
    if chout < 1 then
      error(string.format("'%s': channels to map to count from 1", entry), 0)
    end
    if used[chout] then
      error(string.format("channel %d is mapped to twice ('%s' and '%s')", chout, used[chout], entry), 0)
    end
    used[chout] = entry
    map[#map + 1] = { chin, chout }
  end
  return map
end

--- cli.device_sides(text, matches) -> {input = q1, output = q2}: the
-- device queries of -D for the playback and the recording side.  A whole
-- value that names a device comes first, commas and all, so that ALSA
-- names such as "HDA Intel PCH: ALC (hw:0,0)" can be given; only then is a
-- comma the separator of a pair, and then every part must name a device
-- (the unused side too: "hw:0,0" must not quietly become device 0).
-- matches(query) -> true, or false and the reason.
function cli.device_sides(text, matches)
  if not text:find(",", 1, true) then
    local q = not cli.is_null(text) and text or nil
    return { input = q, output = q }
  end
  if matches(text) then return { input = text, output = text } end
  local pair = cli.parse_pair(text)
  for _, q in ipairs { pair.input or false, pair.output or false } do
    if q then
      local good, why = matches(q)
      if not good then
        error(string.format("%s (in '%s', a comma separates the playback and the recording "
          .. "device)", clean(why), text), 0)
      end
    end
  end
  return pair
end

--- cli.verbosity(str) -> 0..3, sox's -V levels: 0 silent, 1 errors only,
-- 2 (the default) the status line and summary, 3 the device and format
-- details too.
function cli.verbosity(str)
  local n = str:match("^[0-3]$") and tonumber(str)
  if not n then
    error(string.format("'%s' is not a level (0 silent, 1 errors, 2 status and summary, 3 details)", str), 0)
  end
  return n
end

--- cli.volume(str) -> a linear gain: 0.5, 2, or -6dB (decibels).
function cli.volume(str)
  local db = str:match("^(%-?[%d.]+)[dD][bB]$")
  local neg, num = (db or str):match("^(%-?)(.*)$")
  local v = decimal(num)
  if v and db then v = 10 ^ ((neg == "-" and -v or v) / 20)
  elseif v and neg == "-" then v = nil end
  if not v or v ~= v or v == math.huge then
    error(string.format("'%s' is not a volume (a factor such as 0.5 or 2, or decibels such as -6dB)", str), 0)
  end
  return v
end

--- cli.is_null(s): true for the "use the default / nothing" placeholders
-- null (any case), ^, {} and the empty string.
function cli.is_null(s)
  return s == nil or s == "" or s == "^" or s == "{}" or s:lower() == "null"
end

--- cli.output_message(path, why, code, what) -> the CLI's words for a
-- refusal of pastream.output.check (its message, code and subject).
function cli.output_message(path, why, code, what)
  local words = {
    directory = "output file '%s' is a directory",
    input = "output file '%s' is the same file as the input '%s'",
    exists = "output file '%s' exists (use -y/--overwrite to replace it)",
    nodir = "output file '%s': directory '%s' does not exist",
    notdir = "output file '%s': '%s' is not a directory",
  }
  if words[code] then return string.format(words[code], path, what) end
  return why
end

--- cli.parse_pair(value [, convert]) -> {input = a, output = b}.
-- "a,b" gives a pair, "a" the same value for both; a null placeholder gives
-- nil (the default) on its side.  convert(text) turns each present value
-- into what is stored.  input is the input file's side (playback), output
-- the output file's side (recording), as on the command line.
function cli.parse_pair(value, convert)
  local items = {}
  for item in (value .. ","):gmatch("([^,]*),") do items[#items + 1] = item end
  if #items > 2 then
    error(string.format("'%s' has %d values; give one, or a pair INPUT,OUTPUT", value, #items), 0)
  end
  local out = {}
  for i, item in ipairs(items) do
    if not cli.is_null(item) then
      out[i] = convert and convert(item) or item
    end
  end
  if #items == 1 then out[2] = out[1] end
  return { input = out[1], output = out[2] }
end

local FORMATS = { "float32", "int32", "int24", "int16", "int8", "uint8" }
local ENDIANS = { "file", "little", "big", "cpu" }

local function one_of(list, what)
  return function(v)
    local l = v:lower()
    for _, x in ipairs(list) do if x == l then return x end end
    error(string.format("'%s' is not a %s (%s)", v, what, table.concat(list, ", ")), 0)
  end
end

local function channels_value(v)
  local n = v:match("^%d+$") and math.tointeger(tonumber(v))
  if not n or n < 1 then
    error(string.format("'%s' is not a channel count (a whole number >= 1)", v), 0)
  end
  return n
end

---------------------------------------------------------------------------
-- @argfile
---------------------------------------------------------------------------

--- cli.read_argfile(path) -> list of arguments read from a file: one or
-- more per line, split at blanks as a shell would, with '...' (literal)
-- and "..." (\" \\ \$ \` escapes) quoting, backslash escapes outside quotes,
-- and # comments from the start of a word to the end of the line.
function cli.read_argfile(path)
  local f, err = io.open(path, "rb")
  if not f then error(string.format("@%s: cannot read it (%s)", path, err), 0) end
  local text = f:read("a")
  f:close()
  local args, word, line = {}, nil, 1
  local i, n = 1, #text
  local quote, quote_line
  while i <= n do
    local c = text:sub(i, i)
    if quote == "'" then
      if c == "'" then quote = nil else word = word .. c end
    elseif quote == '"' then
      if c == '"' then
        quote = nil
      elseif c == "\\" and text:sub(i + 1, i + 1):match('["\\$`\n]') then
        i = i + 1
        if text:sub(i, i) == "\n" then line = line + 1   -- a continuation
        else word = word .. text:sub(i, i) end
      else
        word = word .. c
      end
    elseif c == "'" or c == '"' then
      quote, quote_line = c, line
      word = word or ""
    elseif c == "\\" then
      -- backslash-newline joins the lines (counted); a backslash at the
      -- very end of the file escapes nothing and adds no argument
      i = i + 1
      local nx = text:sub(i, i)
      if nx == "\n" then line = line + 1
      elseif nx ~= "" then word = (word or "") .. nx end
    elseif c:match("%s") then
      if word then args[#args + 1] = word; word = nil end
    elseif c == "#" and not word then
      while i <= n and text:sub(i, i) ~= "\n" do i = i + 1 end
      i = i - 1
    else
      word = (word or "") .. c
    end
    if c == "\n" then line = line + 1 end
    i = i + 1
  end
  if quote then
    error(string.format("@%s:%d: the %s quote is never closed", path, quote_line, quote), 0)
  end
  if word then args[#args + 1] = word end
  return args
end

---------------------------------------------------------------------------
-- Options
---------------------------------------------------------------------------

local function time_value(allow_unlimited)
  return function(v)
    local frames = cli.parse_time(v)
    if frames == -1 and not allow_unlimited then
      error("must be >= 0 (-1 means nothing here)", 0)
    end
    return v       -- kept as text: it becomes frames once the rate is known
  end
end

-- Every option, in the order --help shows them: short and long name, the
-- METAVAR and help text, and how its value is read (none for flags;
-- optional for -V, -p and --monitor; multi for --map).  pastream.options
-- parses by this table and writes --help from it (cli.help).
local function single(parse, what)    -- a stream has one rate, volume, blocksize
  return function(v)
    if v:find(",", 1, true) then
      error(string.format("'%s': give one value (a stream has one %s)", v, what), 0)
    end
    return parse(v)
  end
end
local function pair(convert) return function(v) return cli.parse_pair(v, convert) end end

local SPEC = {
  prog = PROG,
  usage = [[pastream [options] input|NULL [output|NULL]
       pastream rec FILE [options]     record into FILE (as sox's rec)
       pastream play FILE [options]    play FILE (as sox's play)
       pastream -i FILE...             what soxi says of each FILE]],
  about = [[

Play a sound file, record one, or both at once (full duplex) through an
audio device. A live status line goes to standard error.

  input      the file to play; - reads standard input
  output     the file to record into; - writes standard output; an
             existing file is kept unless -y is given
             null, ^ or '' in place of a file: only record, or only play]],
  column = 26, value_sep = "=",
  argfile = function(path) return cli.read_argfile(path) end,

  { heading = "general options" },
  { "h", "help", nil, "show this help and exit", kind = "help" },
  { "l", "list", nil, [[list the audio devices by host API (defaults marked)
and exit]] },
  { "q", "quiet", nil, "no status line and no summary (errors still show)" },
  { "V", "verbosity", "N", [[-V0 silent, -V1 errors only, -V2 (default) the
status line and summary, -V3 (-V alone) device and
format details too]], parse = function(v) return cli.verbosity(v) end, optional = true, bare = 3 },
  { "i", "info", nil, [[print each file's type, encoding, rate, channels,
frames, duration and size, as soxi does, and exit]] },
  { nil, "version", nil, "print the versions and exit" },
  { row = "@FILE", help = [[read more arguments from FILE: one or more a line,
'' and "" quote, # starts a comment]] },

  { heading = "playback/record options" },
  { nil, "buffersize", "N", [[ring buffer frames between the device and the files,
a power of two (default 65536, also written 64K)]], parse = function(v) return cli.parse_size(v, true) end },
  { "d", "duration", "TIME", [[play TIME of the input (record TIME when only
recording); without -p an input shorter than that
ends in silence (as sox does); -1 (default): to the
end of the input, or Ctrl-C when only recording]], parse = time_value(true) },
  { "n", "frames", "N", "the same as a frame count: 480k is 480000 frames", parse = cli.parse_frames },
  { "o", "offset", "TIME", [[drop TIME from the start of the recording (e.g. the
round-trip latency), counted in the run]], parse = time_value(false) },
  { "v", "volume", "FACTOR", [[scale the playback by FACTOR (0.5, 2) or decibels
(-6dB); what passes full scale is clipped, and
the summary counts it]], parse = single(function(v) return cli.volume(v) end, "volume") },
  { "p", "pad", "TIME", [[play TIME of silence after the input, or after its
-d/-n part: the run lasts both (as in pastream);
with no value, pad out to -d (forever without it)]], parse = time_value(true), optional = true },
  { nil, "loop", nil, "play the input again and again" },
  { nil, "process", "SCRIPT", [[run the Lua chunk SCRIPT's function on the audio:
file to device when playing a file, else device
to file (return function(chunk) ... end[, size];
scripts/hooks/highpass.lua is an example); with
null null, live: device -> SCRIPT -> device a
fixed time later (s:process; the summary says
the latency and the frames it was too late for)]] },
  { nil, "align", nil, [[measure the device's round trip (a short burst)
and line the recording up with the playback: the
round trip is dropped from the front of the
recording and played as silence at the end]] },
  { nil, "fatal-xruns", nil, "stop at the first xrun (exit status 1)" },
  { nil, "monitor", "PORT", [[serve a live monitor page on http://127.0.0.1:PORT/
(default 8000): meters, spectrum, time, xruns, file]],
    parse = function(v) return require("pastream.monitor").parse_port(v) end, optional = true },
  { text = [==[
  TIME is [[hh:]mm:]ss[.frac] (10:00 is ten minutes, 2.5 is 2.5 seconds) or
  samples with an s suffix and an optional multiplier: 480000s, 480ks
  (k 1000, K 1024, m 1000000, M 1048576: 1Ks is 1024 samples). -1 means
  unlimited.]==] },

  { heading = "audio device options" },
  { "b", "blocksize", "N", [[frames per callback (default 0: the host decides,
the lowest latency)]], parse = single(function(v) return cli.blocksize(v) end, "blocksize") },
  { "c", "channels", "N[,N]", [[channels (default: the input file's for playback,
where a mono file plays on every output; up to 2
for recording)]], parse = pair(channels_value) },
  { "D", "device", "DEV[,DEV]", [[device: an index, a name, HOSTAPI:NAME (jack:NAME,
alsa:NAME), hw:CARD,DEV, or words of its name]],
    parse = pair(), raw = true },    -- the text: see cli.device_sides
  { "f", "format", "F[,F]", [[sample format: float32 (default), int32, int24,
int16, int8, uint8]], parse = pair(one_of(FORMATS, "sample format")) },
  { "r", "rate", "RATE", [[sample rate in Hz, k for kHz: 48000, 48k, 44.1k
(default: the input file's, else the device's)]], parse = single(cli.parse_rate, "rate") },
  { "m", "map", "CHIN[:CHOUT][,...]", [[channel map: entry k sends channel CHIN to channel
CHOUT (k if omitted); CHIN 0 is silence. Playing, it
maps input file channels to device outputs;
recording, device inputs to output file channels.
Playing and recording, the first -m maps the
playback and a second the recording (-m null for
none). 2,1 swaps a stereo pair; 1:2 plays file
channel 1 on device output 2 only.]],
    parse = function(v) return cli.parse_map(v) or false end,   -- false: -m null
    multi = 2, too_many = "given more than twice (once for each direction)" },
  { text = [[
  Options with N[,N] take one value for both sides or a pair INPUT,OUTPUT in
  the order of the files: the first for the playback side (input file to
  device output), the second for the recording side (device input to output
  file). null, ^ or '' on a side keeps its default.]] },

  { heading = "audio file options" },
  { "t", "file-type", "T[,T]", [[file type: wav, aiff, au, raw, flac, ogg, opus, mp3,
caf, w64, rf64, ... (default: from the file name's
extension, and a name without one is wav; a
recording to - is au). An extension that names no
type this libsndfile writes is refused]], parse = pair(string.lower) },
  { "e", "encoding", "E[,E]", [[sample encoding: pcm_16, pcm_24, pcm_32, float, ...
(default: the device's sample format where the file
type allows it)]], parse = pair(string.lower) },
  { nil, "endian", "E[,E]", "file, little, big or cpu", parse = pair(one_of(ENDIANS, "byte order")) },
  { "y", "overwrite", nil, [[replace an existing output file; it is replaced
only once the audio has started, so a failed
start leaves it as it was]] },
  { text = "  A RAW input needs -r, -c and -e.", blank = false },

  more = [[
Values attach as -c1, -c 1, -c=1, --channels=1 or --channels 1; -- ends
the options.

examples
  pastream -l                                  list the devices
  pastream input.wav output.wav                play and record at once
  sox -n -t au - synth 3 sine 440 | pastream - output.wav
  pastream -c1 -r48k -e=pcm_16 input.raw       play a RAW file
  pastream null output.wav -r48k -d10:00       record ten minutes
  pastream null output.wav -r48k -n=480k       record 480000 frames
  pastream -D loopback -p -d 2 in.wav out.wav  play, pad, record 2 seconds

exit status: 0 done, 1 a failure while running, 2 a usage error (nothing
was played), 130 or 143 stopped by SIGINT or SIGTERM (the files are
finalized; a second signal aborts at once).]],
}
options.spec(SPEC)
cli.spec = SPEC
cli.options = SPEC.options

--- cli.parse_args(argv) -> options table; raises an error naming the
-- option and the problem (tostring(err) is the message, err.code 2).
-- argv is a list of strings (arg[1..n]).  The table has: help, list,
-- quiet, version, loop, fatal_xruns (booleans); buffersize, frames,
-- blocksize, rate (numbers); duration, offset (time text), pad (time text
-- or true); channels, device, format, file_type, encoding, endian
-- ({input =, output =} pairs); map (a list of one or two maps, false for
-- a null one); input, output (file names, nil for null) and npositional.
function cli.parse_args(argv)
  local args = {}
  for i = 1, #argv do args[i] = argv[i] end
  -- `pastream rec FILE [options]` and `pastream play FILE [options]`, as
  -- sox's rec and play: record into FILE only, or play FILE only
  local mode
  if args[1] == "rec" or args[1] == "play" then mode = table.remove(args, 1) end
  local ok, res = pcall(options.parse, SPEC, args)
  if not ok then
    if options.is_error(res) then usage_error("%s", res.message) end
    error(res, 0)
  end

  local pos = res.positional
  if mode and not (res.help or res.list or res.version or res.info) then
    if #pos ~= 1 then
      usage_error("pastream %s takes one file (%s)", mode, #pos == 0 and "none given" or "got " .. #pos)
    end
    if mode == "rec" then table.insert(pos, 1, "null") end
  end
  res.npositional = #pos
  if res.help or res.list or res.version then return res end
  if res.info then
    if #pos == 0 then usage_error("-i/--info: give one or more files (- for standard input)") end
    return res
  end
  if #pos == 0 then
    usage_error("missing input: a file to play (- for standard input), or null to only record")
  end
  if #pos > 2 then
    usage_error("too many files: '%s' (give an input and an output, null for none)", pos[3])
  end
  if not cli.is_null(pos[1]) then res.input = pos[1] end
  if pos[2] ~= nil and not cli.is_null(pos[2]) then res.output = pos[2] end
  if not res.input and not res.output and not res.process then
    usage_error("nothing to do: the input and the output are both null")
  end
  if res.duration and res.frames then
    usage_error("-d/--duration and -n/--frames both set the length: give one")
  end
  if not res.output then
    if res.offset then usage_error("-o/--offset drops recorded frames, but nothing is recorded") end
  end
  if not res.input then
    if res.volume then usage_error("-v/--volume scales the playback, but nothing is played") end
    if res.pad then usage_error("-p/--pad pads the playback, but nothing is played") end
    if res.loop then usage_error("--loop repeats the playback, but nothing is played") end
  end
  if res.align and not (res.input and res.output) then
    usage_error("--align lines the recording up with the playback: give an input and an output")
  end
  if res.map and #res.map == 2 and not (res.input and res.output) then
    usage_error("-m/--map is given twice, but only %s: give it once",
      res.input and "playing" or "recording")
  end
  return res
end

---------------------------------------------------------------------------
-- Help, version, device list
---------------------------------------------------------------------------


-- A sample rate as text: 48000, or 22050.5.
local function hz(r)
  if r == math.floor(r) then return string.format("%d", r) end
  return string.format("%g", r)
end

--- cli.help() -> the --help text.
function cli.help() return options.help(SPEC) .. "\n" end

-- What to check when PortAudio finds no device at all.
local function no_devices_help()
  local server = os.getenv("JACK_DEFAULT_SERVER")
  return table.concat({
    "PortAudio found no audio device. Things to check:",
    "  - is an audio server running? With JACK, JACK_DEFAULT_SERVER must name a",
    "    running server (" .. (server and ("it is '" .. server .. "' here") or "it is not set: 'default'") .. ");",
    "    the test rig starts one: scripts/jackrig.sh start --name NAME",
    "  - may this user open the sound devices? (the audio group, /dev/snd)",
    "  - was PortAudio built with ALSA or JACK support?",
  }, "\n")
end

--- cli.format_devices(devices [, hostapis]) -> a table of the devices,
-- grouped by host API (in PortAudio's order; hostapis is ps.hostapis(),
-- without it the order the devices come in), each group headed by its
-- name and the -D prefix that picks among its devices, one device a line,
-- the default input (>) and output (<) marked (* both).
function cli.format_devices(devices, hostapis)
  local devname = require "pastream.devname"
  local rows = { { "", "#", "name", "in", "out", "rate" } }
  for _, g in ipairs(devname.group(devices, hostapis or {})) do
    if #g.devices > 0 then
      local prefix = devname.prefix(g.name)
      rows[#rows + 1] = g.name .. (prefix and (" (-D " .. prefix .. ":NAME)") or "")
      for _, d in ipairs(g.devices) do
        local mark = (d.default_input and d.default_output) and "*"
          or d.default_input and ">" or d.default_output and "<" or ""
        rows[#rows + 1] = { mark, tostring(d.index), d.name,
          tostring(d.max_input_channels), tostring(d.max_output_channels),
          hz(d.default_samplerate or 0) }
      end
    end
  end
  local width = {}
  for _, r in ipairs(rows) do
    if type(r) == "table" then
      for c, v in ipairs(r) do width[c] = math.max(width[c] or 0, utf8.len(v) or #v) end
    end
  end
  local right = { false, true, false, true, true, true }
  local lines = {}
  for _, r in ipairs(rows) do
    if type(r) == "string" then
      lines[#lines + 1] = r                     -- a host API's heading
    else
      local cells = {}
      for c, v in ipairs(r) do
        local pad = string.rep(" ", width[c] - (utf8.len(v) or #v))
        cells[c] = right[c] and pad .. v or v .. pad
      end
      lines[#lines + 1] = (table.concat(cells, "  "):gsub("%s+$", ""))
    end
  end
  if #devices == 0 then
    lines[#lines + 1] = "(no audio devices)"
    lines[#lines + 1] = no_devices_help()
  end
  lines[#lines + 1] = "> default input, < default output, * both"
  return table.concat(lines, "\n") .. "\n"
end

---------------------------------------------------------------------------
-- Status and summary lines
---------------------------------------------------------------------------

--- cli.format_time(seconds) -> "mm:ss.t", or "h:mm:ss.t" from an hour on.
function cli.format_time(sec)
  local t = math.floor(sec * 10 + 0.5)
  local h, m, s = t // 36000, (t // 600) % 60, (t % 600) / 10
  if h > 0 then return string.format("%d:%02d:%04.1f", h, m, s) end
  return string.format("%02d:%04.1f", m, s)
end

local CLIP = 32767 / 32768     -- full scale of the narrowest integer format

--- cli.db(peak) -> peak (linear, 1.0 = full scale) in dBFS as text.
function cli.db(peak)
  if not peak or peak <= 0 then return " -inf" end
  return string.format("%5.1f", 20 * math.log(peak, 10))
end

-- The largest value of a peak reading (a number or a list per channel).
local function peak_of(p)
  if type(p) == "table" then
    local m = 0
    for _, v in ipairs(p) do if v > m then m = v end end
    return m
  end
  return p
end
cli.peak_of = peak_of

--- cli.cli_words(msg) -> a library message in the command line's words:
-- its options (-p, -d, -n, --buffersize, --fatal-xruns), not the Lua
-- API's (pad = -1, frames, producers and readers).
function cli.cli_words(msg)
  local a, b = msg:match("^BufferEmpty: playback ended after (%d+) of (%d+) frames")
  if a then
    return string.format("the input ended after %s of the %s frames asked for with -d/-n "
      .. "(-p pads it with silence)", a, b)
  end
  a = msg:match("^BufferEmpty: the playback source ran dry after (%d+) frames")
  if a then
    return string.format("the input could not keep up: playback ran dry after %s frames "
      .. "(a pipe too slow for the device? a larger --buffersize gives it more time)", a)
  end
  a, b = msg:match("^BufferFull: the receive buffer overflowed after (%d+) frames %((%d+) recorded")
  if a then
    return string.format("the recording could not keep up: its buffer overflowed after %s frames "
      .. "(%s recorded; a disk or pipe too slow? a larger --buffersize gives it more time)", a, b)
  end
  return (msg:gsub("%(fatal_xruns is set%)", "(--fatal-xruns)"))
end

--- cli.status_line(state) -> the live status line (no \r, no newline):
--   00:15.0/01:00.0 [##--------]  25% play  -6.0dB rec -12.0dB CLIP xruns 0 cpu   3%
-- state: elapsed (seconds), total (seconds, or nil when unknown: then no
-- progress), play_peak / rec_peak (linear peaks since the last line, a
-- number or a list per channel; nil: no meter), play_clip / rec_clip
-- (latched: a clip was seen), xruns, cpu (0..1 or nil), width (columns,
-- default 80).  A line wider than width - 1 drops the bar, then the cpu
-- load, then is cut.
function cli.status_line(st)
  local time = cli.format_time(st.elapsed or 0)
  local bar, pct
  if st.total then
    time = time .. "/" .. cli.format_time(st.total)
    local frac = st.total > 0 and math.min(1, math.max(0, (st.elapsed or 0) / st.total)) or 1
    local n = math.floor(frac * 10)
    bar = "[" .. string.rep("#", n) .. string.rep("-", 10 - n) .. "]"
    pct = string.format("%3d%%", math.floor(frac * 100))
  elseif st.endless then
    time = time .. " until Ctrl-C"
  end
  local meters = {}
  for _, side in ipairs { "play", "rec" } do
    local raw = st[side .. "_peak"]
    local p = peak_of(raw)
    if p then
      local clip = st[side .. "_clip"] or p >= CLIP
      local text = cli.db(p)
      if type(raw) == "table" and #raw > 1 then   -- each channel: a dead one shows
        local db = {}
        for c, v in ipairs(raw) do db[c] = (cli.db(v):gsub("^%s+", "")) end
        text = table.concat(db, "/")
      end
      meters[#meters + 1] = string.format("%s %sdB%s", side, text, clip and " CLIP" or "")
    end
  end
  local xruns = string.format("xruns %d", st.xruns or 0)
  local cpu = st.cpu and string.format("cpu %3.0f%%", st.cpu * 100)
  local width = (st.width or 80) - 1
  local function build(with_bar, with_cpu)
    local parts = { time }
    if bar and with_bar then parts[#parts + 1] = bar .. " " .. pct
    elseif pct then parts[#parts + 1] = pct end
    for _, m in ipairs(meters) do parts[#parts + 1] = m end
    parts[#parts + 1] = xruns
    if cpu and with_cpu then parts[#parts + 1] = cpu end
    return table.concat(parts, " ")
  end
  local line = build(true, true)
  if #line > width then line = build(false, true) end
  if #line > width then line = build(false, false) end
  if #line > width then line = line:sub(1, math.max(0, width)) end
  return line
end

--- cli.summary_line(state) -> the line printed at the end.
-- state: frames, samplerate, the four xrun counters (input_underflows,
-- input_overflows, output_underflows, output_overflows), tx_lost, rx_lost,
-- interrupted (e.g. "SIGINT", or nil).
function cli.summary_line(st)
  local frames, rate = st.frames or 0, st.samplerate or 0
  local iu, io_, ou, oo = st.input_underflows or 0, st.input_overflows or 0,
    st.output_underflows or 0, st.output_overflows or 0
  local tl, rl = st.tx_lost or 0, st.rx_lost or 0
  -- counts that are all zero are one word: "xruns 0", "lost frames 0"
  local xr = iu + io_ + ou + oo == 0 and "xruns 0" or string.format(
    "xruns %d (input underflow %d, input overflow %d, output underflow %d, output overflow %d)",
    iu + io_ + ou + oo, iu, io_, ou, oo)
  local lost = tl + rl == 0 and "lost frames 0" or string.format(
    "lost frames %d (playback %d, recording %d)", tl + rl, tl, rl)
  return string.format("%s%d frames (%.3f s at %s Hz); %s; %s",
    st.interrupted and ("interrupted (" .. st.interrupted .. ") after ") or "",
    frames, rate > 0 and frames / rate or 0, hz(rate), xr, lost)
end

--- cli.levels_line(state) -> "peak play -0.9/-0.9 dBFS, clipped 0; rec
-- -0.9/0.0 dBFS, CLIPPED 0/12 samples", or nil with nothing to show.
-- state: play_peak, rec_peak (linear peaks per channel), play_clips,
-- rec_clips (clipped samples per channel).  A clip stays in the summary
-- once the status line (and its CLIP mark) is gone.
function cli.levels_line(st)
  local parts = {}
  for _, side in ipairs { "play", "rec" } do
    local peaks, clips = st[side .. "_peak"], st[side .. "_clips"]
    if type(peaks) == "table" and #peaks > 0 then
      local db = {}
      for c, v in ipairs(peaks) do db[c] = (cli.db(v):gsub("^%s+", "")) end
      local text = string.format("%s %s dBFS", side, table.concat(db, "/"))
      local n, list = 0, {}
      for c, k in ipairs(type(clips) == "table" and clips or {}) do n = n + k; list[c] = tostring(k) end
      if n > 0 then
        text = text .. string.format(", CLIPPED %s samples", table.concat(list, "/"))
      elseif type(clips) == "table" then
        text = text .. ", clipped 0"
      end
      parts[#parts + 1] = text
    end
  end
  if #parts == 0 then return nil end
  return "peak " .. table.concat(parts, "; ")
end

--- cli.format_info(path, info [, stat]) -> what soxi says of a file:
-- its type and encoding, rate, channels, frames, duration and size.
function cli.format_info(path, info, st)
  local frames = info.frames
  local known = type(frames) == "number" and frames >= 0 and frames < 2 ^ 53
  local rows = {
    { "File", path == "-" and "- (standard input)" or path },
    { "Type", string.format("%s (%s)", info.type, info.subtype) },
    { "Sample rate", hz(info.samplerate) .. " Hz" },
    { "Channels", tostring(info.channels) },
    { "Frames", known and tostring(frames) or "unknown (a pipe)" },
    { "Duration", known and info.samplerate > 0
        and string.format("%s (%.3f s)", cli.format_time(frames / info.samplerate), frames / info.samplerate)
        or "unknown" },
    { "Size", st and st.size and string.format("%s (%d bytes)", cli.size_text(st.size), st.size) or "unknown" },
  }
  local lines = {}
  for _, r in ipairs(rows) do lines[#lines + 1] = string.format("%-12s: %s", r[1], r[2]) end
  return table.concat(lines, "\n") .. "\n"
end

--- cli.size_text(bytes) -> "512 B", "384.1 kB", "12.3 MB" (powers of 1000).
function cli.size_text(n)
  if n < 1000 then return string.format("%d B", n) end
  if n < 1e6 then return string.format("%.1f kB", n / 1e3) end
  if n < 1e9 then return string.format("%.1f MB", n / 1e6) end
  return string.format("%.2f GB", n / 1e9)
end

---------------------------------------------------------------------------
---------------------------------------------------------------------------
-- Running
---------------------------------------------------------------------------

local function side_value(pair, side)
  if pair == nil then return nil end
  return pair[side]
end

local function max_of(map, k)
  local m = 0
  for _, e in ipairs(map) do if e[k] > m then m = e[k] end end
  return m
end

--- cli.txmapping(map, nout) -> the stream's txmapping for a playback map:
-- entry k names the source channel played on device output k (0: silence).
function cli.txmapping(map, nout)
  local t = {}
  for k = 1, nout do t[k] = 0 end
  for _, e in ipairs(map) do t[e[2]] = e[1] end
  return t
end

--- cli.rxmapping(map) -> the stream's rxmapping for a recording map: entry
-- k names the device input recorded as channel k (0: silence).
function cli.rxmapping(map)
  local t = {}
  for k = 1, max_of(map, 2) do t[k] = 0 end
  for _, e in ipairs(map) do t[e[2]] = e[1] end
  return t
end

local function is_buffer(ps, v)
  return type(v) == "userdata" and getmetatable(v) == getmetatable(ps.Buffer(0))
end

-- The file options of one side for the Files API, nil when none is given.
local function file_opts(o, side, extra)
  local f = {
    type = side_value(o.file_type, side),
    subtype = side_value(o.encoding, side),
    endian = side_value(o.endian, side),
  }
  for k, v in pairs(extra or {}) do f[k] = v end
  if next(f) == nil then return nil end
  return f
end

--- cli.file_message(msg [, path]) -> a Files API message in the command
-- line's terms: the option a problem concerns, and the input file's name.
function cli.file_message(msg, path)
  msg = clean(msg)
  msg = msg:gsub("^unknown file type", "-t/--file-type: unknown file type")
    :gsub("^unknown encoding", "-e/--encoding: unknown encoding")
    :gsub("^unknown endian", "--endian: unknown endian")
    :gsub("give a subtype %(encoding%)", "give one with -e/--encoding")
    :gsub("%(choose them with txmapping%)", "(choose them with -m/--map)")
  if path and not msg:find(path, 1, true) and msg:sub(1, 1) ~= "-" then
    msg = "input file '" .. path .. "': " .. msg
  end
  return msg
end

-- File name extensions and -t names that are another name for a type
-- (and, for .opus, an encoding too).
local TYPE_ALIAS = {
  aif = { "aiff" }, aifc = { "aiff" }, snd = { "au" }, oga = { "ogg" },
  opus = { "ogg", "opus" }, mp3 = { "mpeg", "mpeg_layer_iii" },
}
-- The encoding a device format records as, where the type can hold it.
local NATURAL = { float32 = "float", int32 = "pcm_32", int24 = "pcm_24",
  int16 = "pcm_16", int8 = "pcm_s8", uint8 = "pcm_u8" }
-- Else the nearest that the type can hold, best first.
local PREFER = { "float", "pcm_24", "pcm_32", "pcm_16", "pcm_s8", "pcm_u8", "double" }

--- cli.writable_types(formats) -> "aiff, au, caf, flac, ..., wav": the
-- types (and extensions) this libsndfile can write, for messages.
function cli.writable_types(formats)
  local names = {}
  for t in pairs(formats) do names[#names + 1] = t end
  for alias, to in pairs(TYPE_ALIAS) do
    local subs = formats[to[1]]
    local ok = subs ~= nil
    if ok and to[2] then
      ok = false
      for _, st in ipairs(subs) do if st == to[2] then ok = true end end
    end
    if ok then names[#names + 1] = alias end
  end
  table.sort(names)
  return table.concat(names, ", ")
end

--- cli.output_format(path, ftype, encoding, formats, devformat) -> type,
-- encoding (either nil: the library's default): what a recording to path
-- is written as.  The type is -t's, else the extension's; a name with no
-- extension is WAV (standard output, "-", is AU).  A type this libsndfile
-- cannot write, or an extension that names no type, raises a message that
-- lists the types it can write: a file is what its name says, or nothing
-- is written.  Without -e, a type that cannot hold the device's samples
-- gets the nearest encoding it can.  formats: ps.formats().
function cli.output_format(path, ftype, enc, formats, devformat)
  local what, name
  if ftype then
    what, name = "-t/--file-type", ftype:lower()
  elseif path == "-" then
    return nil, enc
  else
    local base = path:match("([^/]*)$")
    local ext = base:match("^.+%.([^.]*)$")
    if not ext then return "wav", enc end          -- the help says so
    what, name = "output file '" .. path .. "'", ext:lower()
  end
  local alias = TYPE_ALIAS[name]
  local t = alias and alias[1] or name
  local subs = formats[t]
  if alias and alias[2] and not enc then
    local has = false
    for _, st in ipairs(subs or {}) do if st == alias[2] then has = true end end
    if not has then subs = nil end
    enc = alias[2]
  end
  if not subs and ftype then return t, enc end   -- the library names what -t it knows
  if not subs then
    local shown = ftype and ("'" .. name .. "'") or ("'." .. name .. "'")
    error(string.format("%s: this libsndfile cannot write %s files; it writes %s",
      what, shown, cli.writable_types(formats)), 0)
  end
  if not enc and t ~= "flac" and t ~= "ogg" and t ~= "mpeg" then
    local natural = NATURAL[devformat or "float32"]
    local can = {}
    for _, st in ipairs(subs) do can[st] = true end
    if not can[natural] then
      for _, st in ipairs(PREFER) do
        if can[st] then enc = st break end
      end
      enc = enc or subs[1]
    end
  end
  return t, enc
end

-- Errors of the Lua API that mean "this build cannot play or record files".
local function no_file_support(msg)
  return msg:find("expected, got string", 1, true)
    or msg:find("must be a Buffer or a function, got string", 1, true)
end

-- Open the stream; an error is put on the option it concerns.  Without -r
-- the input file's rate is tried first, then the device's (where the Files
-- API converts the file's rate, or says that it cannot).
local function open_stream(ps, kind, so, retry_rate)
  local ok, s = pcall(ps[kind], so)
  if ok then return s end
  local msg = clean(s)
  if msg:find("Invalid sample rate", 1, true) then
    if retry_rate then
      so.samplerate = nil
      return open_stream(ps, kind, so, false)
    end
    usage_error("-r/--rate: %s", msg)
  elseif msg:find("sample format", 1, true) or msg:find("Sample format", 1, true) then
    usage_error("-f/--format: %s", msg)
  elseif msg:find("channel", 1, true) then
    usage_error("-c/--channels: %s", msg)
  elseif msg:find("blocksize", 1, true) then
    usage_error("-b/--blocksize: %s", msg)
  elseif msg:find("buffersize", 1, true) then
    usage_error("--buffersize: %s", msg)
  end
  runtime_error("cannot open the stream: %s", msg)
end

--- cli.load_hook(path, info) -> fn, chunksize: a --process hook.  The
-- chunk at path runs with info ({samplerate, channels, side}) as its
-- argument and returns a function that changes a float32 chunk in place,
-- and optionally the chunk size it wants (default 1024 frames).
function cli.load_hook(path, info)
  local chunk, err = loadfile(path)
  if not chunk then usage_error("--process: %s", clean(err)) end
  local good, fn, size = pcall(chunk, info)
  if not good then usage_error("--process: %s: %s", path, clean(fn)) end
  if type(fn) ~= "function" then
    usage_error("--process: %s returned %s; it must return a function(chunk)", path, type(fn))
  end
  size = size == nil and 1024 or math.tointeger(size)
  if not size or size < 1 then usage_error("--process: %s: the chunk size must be a whole number >= 1", path) end
  return fn, size
end

-- A hook on the playback (an input file: file -> hook -> device) or else on
-- the recording (device -> hook -> file).  Returns the Lua source and/or
-- sink that replace the C disk thread on that side.  The chunks the hook
-- sees have exactly its chunk size (the last may be shorter).
function cli.process_hook(ps, o, p, stream, ro, state)
  local function float_side(i)
    local f = stream.format
    f = type(f) == "table" and f[i] or f
    if f ~= "float32" then usage_error("--process works on float32 audio: leave -f/--format out") end
  end
  if p.live then
    -- live: stream:process runs the hook on each input chunk and plays it
    -- (run() calls it in place of the wait)
    float_side(1) float_side(2)
    local hook, size = cli.load_hook(o.process, { samplerate = stream.samplerate, channels = stream.rx_channels,
                                                  side = "live" })
    state.live = { size = size, body = function(chunk) hook(chunk) return chunk end }
    return nil, nil
  end
  if p.playing and type(p.source) == "string" then
    float_side(2)
    local f, err = ps.open(p.source, "r", ro.input_file)
    if not f then usage_error("%s", cli.file_message(err, p.source)) end
    if f.samplerate ~= stream.samplerate then
      usage_error("--process plays '%s' at its own rate (%s Hz), but the device runs at %s Hz: give -r %s",
        p.source, hz(f.samplerate), hz(stream.samplerate), hz(f.samplerate))
    end
    local hook, size = cli.load_hook(o.process, { samplerate = f.samplerate, channels = f.channels, side = "play" })
    local chunk = ps.Buffer(size, f.channels)
    local pos, len, eof = 0, 0, false
    state.hook_file = f
    return function(buf)
      local want, n = buf:frames(), 0
      while n < want do
        if pos >= len then
          if eof then break end
          chunk:resize(size)
          local got = f:read(chunk)
          if got < size then eof = true end
          if got == 0 then break end
          chunk:resize(got)
          hook(chunk)
          pos, len = 0, got
        end
        local k = math.min(want - n, len - pos)
        buf:copyfrom(chunk, n + 1, pos + 1, k)
        n, pos = n + k, pos + k
      end
      return n
    end, nil
  elseif p.recording and type(ro.out) == "string" then
    float_side(1)
    local channels = stream.kind == "DuplexStream" and stream.rx_channels or stream.channels
    channels = type(channels) == "table" and channels[1] or channels
    local hook, size = cli.load_hook(o.process, { samplerate = stream.samplerate, channels = channels, side = "rec" })
    local chunk = ps.Buffer(size, channels)
    local fill, f, plan, path = 0, nil, nil, ro.out
    local fo = { samplerate = math.floor(stream.samplerate), channels = channels,
                 type = ro.output_file and ro.output_file.type, subtype = ro.output_file and ro.output_file.subtype }
    local function flush()
      if fill == 0 then return end
      chunk:resize(fill)
      hook(chunk)
      f:write(chunk)
      fill = 0
      chunk:resize(size)
    end
    -- The end of the run: good, the last chunk is written and the file
    -- takes its name (an existing one is replaced only now); else what
    -- was written goes and an existing file stays as it was
    -- (pastream.output's policy, as for a recording without a hook).
    state.hook_flush = function(good)
      if not f then return end
      local flushed, ferr = true, nil
      if good then flushed, ferr = pcall(flush) end
      f:close()
      f = nil
      if not (good and flushed) then
        output.discard(plan)
        if not flushed then error(ferr, 0) end
        return
      end
      local done, cerr = output.commit(plan)
      if not done then runtime_error("%s: cannot replace it (%s)", plan.final, tostring(cerr)) end
    end
    return nil, function(buf)
      if not f then      -- opened once the audio runs: a failed start keeps an old file
        local err
        plan = output.prepare(path, { overwrite = ro.overwrite })
        fo.type = fo.type or plan.type
        f, err = ps.open(plan.path, "w", fo)
        if not f then
          output.discard(plan)
          error(output.rename_msg(plan, err), 0)
        end
      end
      local n, at = buf:frames(), 0
      while at < n do
        local k = math.min(size - fill, n - at)
        chunk:resize(size)
        chunk:copyfrom(buf, fill + 1, at + 1, k)
        fill, at = fill + k, at + k
        if fill == size then flush() end
      end
    end
  end
  usage_error("--process needs a file to play or to record into")
end

-- "in.wav -> 'loopback' (2 ch float32) ... at 48000 Hz": the header line.
local function describe(ps, s, o)
  local devs = ps.devices()
  local function pick(v, side) if type(v) == "table" then return v[side] end return v end
  local function dev(i, ch, fmt)
    local d = devs[i + 1]
    return string.format("%s (%d ch %s)", d and ("'" .. d.name .. "'") or ("device " .. i), ch, fmt)
  end
  local function file(name, std)
    if name == nil then return "(Lua)" end
    return name == "-" and std or name
  end
  local parts = {}
  if s.kind ~= "InputStream" then
    parts[#parts + 1] = file(o.input, "stdin")
    parts[#parts + 1] = dev(pick(s.device, 2), pick(s.channels, 2), pick(s.format, 2))
  end
  if s.kind ~= "OutputStream" then
    local d = dev(pick(s.device, 1), s.rx_channels, pick(s.format, 1))
    if s.kind == "DuplexStream" then parts[#parts] = parts[#parts] .. " | " .. d
    else parts[#parts + 1] = d end
    parts[#parts + 1] = file(o.output, "stdout")
  end
  return string.format("%s at %s Hz", table.concat(parts, " -> "), hz(s.samplerate))
end

-- ps.device(query, kind), and when there is no device at all, a hint
-- (the default device is missing not because of -D, which was not given).
local function find_device(ps, query, kind)
  local good, d = pcall(ps.device, query, kind)
  if good then return d end
  local msg = clean(d)
  if #ps.devices() == 0 then
    msg = msg:gsub(" %(there are none: %)$", "") .. " (PortAudio found no audio device: pastream -l says what to check)"
  elseif not query then
    msg = msg .. " (choose one with -D; pastream -l lists them)"
  end
  error(msg, 0)
end

-- What to open, from the options: the stream's kind and settings, the
-- playback source and what is known about it.  Raises usage errors.
local function plan(ps, o, env)
  local playing, recording = o.input ~= nil, o.output ~= nil
  local p = { playing = playing, recording = recording }

  -- The maps: once for one direction; playing and recording, the first is
  -- the playback's and the second the recording's (false: none).
  local maps = o.map or {}
  local pmap, rmap
  if playing and recording then pmap, rmap = maps[1], maps[2]
  elseif playing then pmap = maps[1] else rmap = maps[1] end
  pmap, rmap = pmap or nil, rmap or nil

  if recording and o.output == "-" and not env.record then
    local uv = require "luv"
    if uv.guess_handle(1) == "tty" then
      usage_error("refusing to write audio to a terminal: redirect standard output")
    end
  end

  -- The output: never an existing file unless -y, never the input, never
  -- a directory (pastream.output's policy, which the recording then
  -- follows).  Checked before anything opens, so nothing plays.
  if recording and o.output ~= "-" and not env.record then
    local input = env.playback == nil and o.input or nil
    local st, why, code, what = output.check(o.output, { overwrite = o.overwrite, inputs = { input } })
    if st == nil then usage_error("%s", cli.output_message(o.output, why, code, what)) end
  end

  -- What the recording is written as: decided here, so that a name that
  -- says MP3 never gets WAV inside, and nothing plays when it cannot be.
  if recording and not env.record then
    local fmt_rec = side_value(o.format, "output")
    p.out_type, p.out_subtype = try(2, nil, cli.output_format, o.output,
      side_value(o.file_type, "output"), side_value(o.encoding, "output"), ps.formats(), fmt_rec)
  end

  -- What is played: its channels, rate and length.
  local source = env.playback or o.input
  local info = {}
  if playing then
    if type(source) == "string" then
      local path = source
      if path ~= "-" then
        local f, err = io.open(path, "rb")
        if not f then
          if err:sub(1, #path + 2) == path .. ": " then err = err:sub(#path + 3) end
          usage_error("input file '%s': %s", path, err)
        end
        f:close()
      end
      local ftype = side_value(o.file_type, "input")
      if ftype == "raw" or (not ftype and path:lower():match("%.raw$")) then
        local missing = {}
        if not o.rate then missing[#missing + 1] = "-r/--rate" end
        if not side_value(o.channels, "input") then missing[#missing + 1] = "-c/--channels" end
        if not side_value(o.encoding, "input") then missing[#missing + 1] = "-e/--encoding" end
        if #missing > 0 then
          usage_error("input file '%s' is RAW: give its %s", path, table.concat(missing, ", "))
        end
      end
      -- Standard input is read once: its header is for the disk thread, so
      -- the stream takes -r/-c or the device's defaults (a mono input plays
      -- on every output; a rate mismatch is reported when it starts).
      if path ~= "-" then
        if type(ps.file_info) ~= "function" then
          runtime_error("playing a file is not supported yet by this pastream-lua (it has no ps.file_info)")
        end
        local good, res, msg = pcall(ps.file_info, path,
          file_opts(o, "input", { samplerate = o.rate, channels = side_value(o.channels, "input") }))
        if not good or not res then usage_error("%s", cli.file_message(good and msg or res, path)) end
        info = res
      end
      -- a pipe's length is unknown (libsndfile says SF_COUNT_MAX, or nothing)
      if type(info.frames) ~= "number" or info.frames < 0 or info.frames >= 2 ^ 53 then
        info.frames = nil
      end
    elseif is_buffer(ps, source) then
      info = { channels = source:channels(), frames = source:frames() }
    end
  end
  p.source, p.info = source, info

  -- Channels on each side of the device.
  local play_ch = side_value(o.channels, "input")
  local play_from = play_ch and "-c/--channels"      -- who asked for play_ch
  local rec_ch = side_value(o.channels, "output")
  if pmap then
    local m = max_of(pmap, 1)
    if info.channels and m > info.channels then
      usage_error("-m/--map: input channel %d is out of range (the input has %d)", m, info.channels)
    end
    m = max_of(pmap, 2)
    if play_ch and m > play_ch then
      usage_error("-m/--map: device output %d is out of range (-c/--channels is %d)", m, play_ch)
    end
    if not play_ch then play_ch, play_from = m, "-m/--map" end
  end
  -- The input's channels; a mono input keeps the device's default (up to
  -- 2) and plays on every output, as sox does.  A --process hook gets the
  -- file's frames as they are: the device plays the file's channels.
  if not play_ch and info.channels and o.process and not pmap then
    play_ch, play_from = info.channels, "input"
  end
  if not play_ch and info.channels and info.channels > 1 then
    play_ch, play_from = info.channels, "input"
  end
  if rmap then
    local m = max_of(rmap, 1)
    if rec_ch and m > rec_ch then
      usage_error("-m/--map: device input %d is out of range (-c/--channels is %d)", m, rec_ch)
    end
    rec_ch = rec_ch or math.max(1, m)
  end

  -- --process with no file either side: live, device -> hook -> device
  -- (s:process), the same channels each way.
  if o.process and not playing and not recording then
    if o.map then usage_error("-m/--map is for files: the live --process has the same channels each way") end
    p.live, p.playing, p.recording, playing, recording = true, true, true, true, true
    if play_ch and rec_ch and play_ch ~= rec_ch then
      usage_error("-c/--channels: the live --process has the same channels each way, not %d and %d", rec_ch, play_ch)
    end
    play_ch = play_ch or rec_ch
    rec_ch = play_ch
  end

  -- Devices, resolved here so that a bad -D is named as such.
  local dev_in, dev_out
  local devq = o.device_text and try(2, "-D/--device", cli.device_sides, o.device_text, function(q)
    local good, why = pcall(ps.device, q)
    return good, why
  end) or {}
  if playing then
    dev_out = try(2, devq.input and "-D/--device" or nil, find_device, ps, devq.input, "output")
    if play_ch and play_ch > dev_out.max_output_channels then
      if play_from == "input" then
        usage_error("the input has %d channels but device '%s' plays %d: choose with -m/--map",
          play_ch, dev_out.name, dev_out.max_output_channels)
      end
      usage_error("%s: device '%s' has %d output channels, %d asked for",
        play_from, dev_out.name, dev_out.max_output_channels, play_ch)
    end
  end
  if recording then
    dev_in = try(2, devq.output and "-D/--device" or nil, find_device, ps, devq.output, "input")
    local need = rmap and max_of(rmap, 1) or rec_ch
    if need and need > dev_in.max_input_channels then
      usage_error("%s: device '%s' has %d input channels, %d asked for",
        rmap and "-m/--map" or "-c/--channels", dev_in.name, dev_in.max_input_channels, need)
    end
  end

  if p.live and not play_ch then
    play_ch = math.min(2, dev_in.max_input_channels, dev_out.max_output_channels)
    rec_ch = play_ch
  end
  p.kind = playing and recording and "DuplexStream" or playing and "OutputStream" or "InputStream"
  local so = {
    samplerate = o.rate or info.samplerate,
    blocksize = o.blocksize,
    buffersize = o.buffersize,
  }
  local fmt_play, fmt_rec = side_value(o.format, "input"), side_value(o.format, "output")
  if p.kind == "DuplexStream" then
    so.device = { dev_in.index, dev_out.index }
    so.channels = { rec_ch, play_ch }
    so.format = { fmt_rec, fmt_play }
  elseif p.kind == "OutputStream" then
    so.device, so.channels, so.format = dev_out.index, play_ch, fmt_play
  else
    so.device, so.channels, so.format = dev_in.index, rec_ch, fmt_rec
  end
  if pmap then so.txmapping = cli.txmapping(pmap, play_ch) end
  if rmap then so.rxmapping = cli.rxmapping(rmap) end
  p.so = so
  return p
end

-- One run: open, start, show the status until the end.  Fills `state`
-- (stream, total) as it goes, so that a signal handler can stop the stream.
local function run(ps, o, env, state)
  local uv = require "luv"
  local p = plan(ps, o, env)
  local stream = open_stream(ps, p.kind, p.so, not o.rate and p.so.samplerate ~= nil)
  state.stream = stream
  local mon, merr
  if o.monitor then     -- the live page (lua/pastream/monitor.lua)
    mon, merr = require("pastream.monitor").for_cli(ps, stream, o, p, env)
    if not mon then usage_error("--monitor: %s", merr) end
    state.monitor = mon
  end

  local rate = stream.samplerate
  -- a time becomes frames once the rate is known; one too long for that
  -- is still the option's fault, before anything plays
  local function frames_of(text, name)
    return try(2, name, cli.parse_time, text, rate)
  end
  local frames = o.frames or (o.duration and frames_of(o.duration, "-d/--duration")) or -1
  local offset = o.offset and frames_of(o.offset, "-o/--offset") or 0
  local pad = o.pad == true and -1 or (o.pad and frames_of(o.pad, "-p/--pad")) or 0
  -- -d/-n longer than the input: silence to the end, as sox does (a
  -- user who asks for 2 s gets 2 s), unless -p says otherwise
  if p.playing and frames >= 0 and not o.pad and not o.loop then pad = -1 end
  if p.recording and frames >= 0 and offset > frames + math.max(pad, 0) then
    usage_error("-o/--offset (%d frames) is longer than the duration (%d frames)", offset,
      frames + math.max(pad, 0))
  end
  -- --align: measure the round trip (a short burst through the device),
  -- then drop that much from the front of the recording and play that
  -- much more silence at the end, so that output and input line up.
  if o.align then
    require "pastream.roundtrip"
    local rt, why = stream:measure_roundtrip()
    if not rt then runtime_error("--align: %s", why) end
    state.roundtrip = rt
    offset = offset + rt
    if pad >= 0 then pad = pad + rt             -- (-d/-n do not count -p)
    elseif frames >= 0 then frames = frames + rt end
  end
  -- The total in seconds.  A file at another rate is converted to the
  -- device's (libsamplerate, in the disk thread): its length is in its
  -- own frames, so its own rate gives its time.
  local file_rate = p.playing and type(p.source) == "string" and p.info.samplerate
  if file_rate and file_rate ~= rate then
    state.resampled = { from = file_rate, to = rate, frames = p.info.frames }
  end
  state.to_end = frames < 0 and not o.loop      -- the run ends with the input
  if frames >= 0 then state.total = (frames + math.max(pad, 0)) / rate   -- -p after -d/-n
  elseif p.playing and p.info.frames and p.info.frames >= 0 and not o.loop and pad >= 0 then
    state.total = p.info.frames / (file_rate or rate) + pad / rate
  end

  local ro = { frames = frames, pad = pad, offset = offset, loop = o.loop,
               fatal_xruns = o.fatal_xruns, blocking = false,
               meter = (env.status or env.summary or mon) and true or nil }  -- peaks for the status line, summary and monitor
  if p.playing then
    ro.input_file = file_opts(o, "input", { samplerate = o.rate, channels = side_value(o.channels, "input"),
      gain = o.volume })       -- -v: scaled by the disk thread, in C
  end
  if p.recording then
    ro.output_file = file_opts(o, "output") or {}
    ro.output_file.type, ro.output_file.subtype = p.out_type, p.out_subtype
    ro.out = env.record or o.output
    ro.overwrite = o.overwrite
  end

  if o.process then
    local src, sink = cli.process_hook(ps, o, p, stream, ro, state)
    if src then p.source, ro.input_file = src, nil end
    if sink then ro.out, ro.output_file = sink, nil end
  end

  local started, serr = pcall(function()
    if p.live then return                 -- s:process starts it, below
    elseif p.kind == "DuplexStream" then stream:playrec(p.source, ro)
    elseif p.kind == "OutputStream" then stream:play(p.source, ro)
    else stream:record(ro) end
  end)
  if not started then
    if is_failure(serr) then error(serr, 0) end
    local msg = clean(serr)
    if no_file_support(msg) then
      runtime_error("%s a file is not supported yet by this pastream-lua (%s)",
        (p.playing and type(p.source) == "string") and "playing" or "recording to", msg)
    end
    usage_error("%s", cli.file_message(msg))
  end
  state.started = true
  if state.interrupted then pcall(stream.stop, stream) end

  -- A run with no end says so at once.
  local endless = frames < 0 and (p.live or not p.playing or pad < 0 or o.loop)
  state.endless = endless
  if env.header then
    env.stderr:write("pastream: ", describe(ps, stream, o),
      state.roundtrip and string.format("; round trip %d frames (measured)", state.roundtrip) or "",
      state.resampled and string.format("; resampled %s Hz -> %s Hz (libsamplerate, medium quality)",
        hz(state.resampled.from), hz(state.resampled.to)) or "",
      endless and (p.live and "; live until Ctrl-C" or p.recording and "; recording until Ctrl-C"
        or "; playing until Ctrl-C") or "", "\n")
  end

  -- The run's peaks per channel, for the summary: every reading (which
  -- resets the engine's) is kept here.
  state.peaks = {}
  function state.keep_peaks(side, peak)
    if type(peak) ~= "table" then return end
    local t = state.peaks[side] or {}
    for c, v in ipairs(peak) do t[c] = math.max(t[c] or 0, v) end
    state.peaks[side] = t
  end
  if env.details then     -- -V3: what was negotiated with the device and the files
    local lat = stream.latency
    local function ms(v) return string.format("%.1f ms", (v or 0) * 1000) end
    env.stderr:write(string.format("pastream: device: %s; latency %s (PortAudio's figure); blocksize %d%s; ring buffer %d frames\n",
      stream.kind, type(lat) == "table" and (ms(lat[1]) .. " in, " .. ms(lat[2]) .. " out") or ms(lat),
      stream.blocksize or 0, (stream.blocksize or 0) == 0 and " (the host's choice)" or "",
      o.buffersize or 65536))
    if p.playing and p.info.samplerate then
      env.stderr:write(string.format("pastream: input: %s %s, %d ch, %s Hz, %s frames\n",
        tostring(p.info.type), tostring(p.info.subtype), p.info.channels or 0, hz(p.info.samplerate),
        tostring(p.info.frames or "unknown")))
    end
    if p.recording and p.out_type then
      env.stderr:write(string.format("pastream: output: %s%s\n", p.out_type,
        p.out_subtype and (" " .. p.out_subtype) or " (encoding: the device's sample format)"))
    end
  end
  state.playing, state.recording = p.playing, p.recording
  state.env_record = env.record ~= nil

  -- The live status line, on a luv timer.
  local clip = { play = false, rec = false }
  local function snapshot()
    local st = {
      elapsed = stream.frame_count / rate, total = state.total, endless = state.endless,
      xruns = stream.xruns, cpu = stream.cpu_load, width = env.width,
    }
    for _, side in ipairs { "play", "rec" } do
      if (side == "play" and p.playing) or (side == "rec" and p.recording) then
        local peak = mon and mon:take_peak(side)                          -- what the monitor read
          or (side == "play" and stream.tx_peak or stream.rx_peak)          -- reading resets it
        if peak and peak_of(peak) >= CLIP then clip[side] = true end
        state.keep_peaks(side, peak)
        st[side .. "_peak"], st[side .. "_clip"] = peak, clip[side]
      end
    end
    return st
  end
  local timer
  if env.status then
    timer = uv.new_timer()
    timer:start(0, env.interval or 250, function()
      local good, line = pcall(function() return cli.status_line(snapshot()) end)
      if good then env.stderr:write("\r", line, "\27[K") end
    end)
  end
  local waited, werr
  if p.live then
    if not state.interrupted then
      waited, werr = pcall(stream.process, stream, state.live.body,
        { chunksize = state.live.size, frames = frames >= 0 and frames or nil })
      if waited then state.live.info = werr end
    else
      waited = true
    end
  else
    waited, werr = pcall(stream.wait, stream)
  end
  if mon then mon:close() end
  if env.summary then
    if p.playing then state.keep_peaks("play", stream.tx_peak) end
    if p.recording then state.keep_peaks("rec", stream.rx_peak) end
  end
  if timer then
    timer:stop()
    timer:close()
    env.stderr:write("\r\27[K")
  end
  state.completed = waited and not state.interrupted
  if state.hook_flush then state.hook_flush(waited) end   -- the last, short chunk; commit or discard
  if state.hook_file then state.hook_file:close() end
  if not waited then
    if is_failure(werr) then error(werr, 0) end
    local msg = clean(werr)
    -- A recording to a pipe fails to write when its reader has gone (sox
    -- took what it wanted, head closed): say that, not libsndfile's
    -- "System error : Broken pipe" or, through the pipe writer, "No Error".
    local n = msg:match("write error after (%d+) frames")
    if n and o.output == "-" and not env.record and uv.guess_handle(1) == "pipe" then
      runtime_error("the reader of standard output went away after %s frames", n)
    end
    runtime_error("%s", cli.cli_words(msg))
  end
end

-- The summary: the counts; each channel's peak and clips; the file
-- written and the round trip.  One line each, every one "pastream: ".
local function summary(ps, s, o, state)
  local lines = { cli.summary_line {
    frames = s.frame_count, samplerate = s.samplerate,
    input_underflows = s.input_underflows, input_overflows = s.input_overflows,
    output_underflows = s.output_underflows, output_overflows = s.output_overflows,
    tx_lost = s.tx_lost, rx_lost = s.rx_lost, interrupted = state.interrupted,
  } }
  local rs = state.resampled
  if rs then
    -- the device's frames and the file's, each at its own rate; a whole
    -- run played the whole file, else the file frames are reckoned back
    local played = s.tx_frames or s.frame_count
    local whole = state.completed and state.to_end and rs.frames
    local fframes = whole or math.floor(played * rs.from / rs.to + 0.5)
    if rs.frames then fframes = math.min(fframes, rs.frames) end
    lines[#lines + 1] = string.format("resampled %s Hz -> %s Hz (libsamplerate, medium quality): "
      .. "%s%d file frames (%.3f s) as %d device frames", hz(rs.from), hz(rs.to),
      whole and "" or "about ", fframes, fframes / rs.from, played)
  end
  local peaks = state.peaks or {}
  local lv = cli.levels_line {
    play_peak = state.playing and peaks.play, rec_peak = state.recording and peaks.rec,
    play_clips = state.playing and s.tx_clips, rec_clips = state.recording and s.rx_clips,
  }
  if o.volume and state.playing then
    local n = s.volume_clips or 0
    local v = string.format("volume %g (%+.1f dB): %s", o.volume,
      o.volume > 0 and 20 * math.log(o.volume, 10) or -math.huge,
      n > 0 and string.format("CLIPPED %d samples", n) or "nothing clipped")
    lv = lv and (lv .. "; " .. v) or v
  end
  if lv then lines[#lines + 1] = lv end
  local out = {}
  if state.recording and o.output and o.output ~= "-" and not state.env_record then
    local info = ps.file_info(o.output)
    local st = require("luv").fs_stat(o.output)
    if info then
      out[#out + 1] = string.format("wrote %s: %s %s, %d ch, %s Hz, %d frames, %s",
        o.output, info.type, info.subtype, info.channels, hz(info.samplerate), info.frames,
        cli.size_text(st and st.size or 0))
    end
  end
  local live = state.live and state.live.info
  if live then
    out[#out + 1] = string.format("through latency %d frames (%.1f ms: round trip %d + chunk %d + margin %d), %d late",
      live.latency, live.latency / s.samplerate * 1000, live.roundtrip, live.chunksize, live.margin, live.late)
  end
  if state.roundtrip then
    out[#out + 1] = string.format("round trip %d frames (measured)", state.roundtrip)
  elseif s.kind == "DuplexStream" then
    local good, rt = pcall(s.roundtrip_frames, s)
    if good then out[#out + 1] = string.format("round trip %d frames (as PortAudio reports it)", rt) end
  end
  if #out > 0 then lines[#lines + 1] = table.concat(out, "; ") end
  return table.concat(lines, "\n" .. PROG .. ": ")
end

local function signal_status(name) return name == "SIGTERM" and 143 or 130 end

--- cli.main(argv [, env]) -> exit status.  argv: the arguments (arg, or a
-- list).  env, for tests: stdout, stderr (objects with :write), tty (true:
-- live status line, as on a terminal), width (columns), interval (status
-- refresh, ms), playback / record (a Buffer or function in place of the
-- input / output file).
function cli.main(argv, env)
  env = env or {}
  local out = env.stdout or io.stdout
  local err = env.stderr or io.stderr
  local args = {}
  for i = 1, #(argv or {}) do args[i] = argv[i] end

  local function report(e)
    local code = is_failure(e) and e.code or 1
    err:write(PROG, ": ", clean(e), "\n")
    if code == 2 then err:write(USAGE, "\nTry 'pastream --help' for more.\n") end
    if not is_failure(e) and os.getenv("PASTREAM_DEBUG") then err:write(tostring(e), "\n") end
    return code
  end

  local ok, o = pcall(cli.parse_args, args)
  if not ok then return report(o) end
  if o.verbosity == 0 then
    report = function(e) return is_failure(e) and e.code or 1 end   -- -V0: silent
  end
  if o.verbosity and o.verbosity <= 1 then o.quiet = true end
  if o.help then out:write(cli.help()) return 0 end

  local loaded, ps = pcall(require, "pastream")
  if not loaded then return report(ps) end
  if o.version then
    local v = ps.versions()
    out:write(string.format("pastream %s (pastream-lua; %s, %s, %s, libuv %s)\n",
      ps.version, v.portaudio, v.sndfile, v.lua, v.libuv))
    return 0
  end
  if o.info then
    local code = 0
    for i, path in ipairs(o.positional) do
      local good, info, why = pcall(ps.file_info, path)
      if good and info then
        out:write(i > 1 and "\n" or "", cli.format_info(path, info, path ~= "-" and require("luv").fs_stat(path)))
      else
        err:write(PROG, ": ", cli.file_message(good and why or info, path), "\n")
        code = 1
      end
    end
    return code
  end
  if o.list then
    local good, text = pcall(function() return cli.format_devices(ps.devices(), ps.hostapis()) end)
    if not good then return report(text) end
    out:write(text)
    return 0
  end

  local uv = require "luv"
  local tty = env.tty
  if tty == nil then tty = uv.guess_handle(2) == "tty" end
  local width = env.width
  if tty and not width then
    pcall(function()
      local h = uv.new_tty(2, false)    -- libuv reopens the terminal: fd 2 stays as it is
      if h then
        local w = h:get_winsize()
        h:close()
        if type(w) == "number" and w > 0 then width = w end
      end
    end)
  end
  local renv = {
    stderr = err, width = width or 80, interval = env.interval,
    status = tty and not o.quiet, header = (tty and not o.quiet) or o.verbosity == 3,
    summary = not o.quiet, details = o.verbosity == 3,
    playback = env.playback, record = env.record,
  }

  -- SIGINT/SIGTERM stop the stream (the files are finalized); then the
  -- summary, and exit 128 + n.  A second signal aborts at once (the host's
  -- handler).
  local state = {}
  local saved = ps.on_signal
  ps.on_signal = function(name)
    state.interrupted = state.interrupted or name:upper()
    local s = state.stream
    if s and state.started and not s.closed then pcall(s.stop, s) end
  end
  local good, e = pcall(run, ps, o, renv, state)
  -- a hook's recording that run() left open: what was written goes
  if not good and state.hook_flush then pcall(state.hook_flush, false) end
  ps.on_signal = saved
  if state.monitor then state.monitor:close() end

  local code = good and 0 or report(e)
  local s = state.stream
  if state.interrupted and code ~= 2 then code = signal_status(state.interrupted) end
  if s then
    if state.started and not o.quiet then
      err:write(PROG, ": ", summary(ps, s, o, state), "\n")
    end
    pcall(s.close, s)
  end
  return code
end

return cli
