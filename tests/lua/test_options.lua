-- pastream.options, the one option parser: the kinds of values, the
-- sox/getopt syntax, the errors (each naming the option), --help written
-- from the table, and that the CLI and the recipes all parse through it.
-- No audio device needed.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local options = require "pastream.options"

-- The message of the usage error fn(...) raises, or nil (with a note when
-- it raised something else).
local function usage_msg(fn, ...)
  local ok, e = pcall(fn, ...)
  if ok then return nil end
  if not options.is_error(e) then return "NOT A USAGE ERROR: " .. tostring(e) end
  return e.code == 2 and e.message or "CODE " .. tostring(e.code)
end

local function spec()
  return {
    prog = "t.lua", usage = "t.lua [options] FILE...",
    { "y", "overwrite", nil, "replace" },
    { "v", "verbose", nil, "say more (-vv: even more)", kind = "count" },
    { "d", "duration", "SECONDS", "how long", kind = "seconds" },
    { "n", "frames", "N", "a count", kind = "integer", default = 10 },
    { "g", "gain", "DB", "gain", kind = "number", default = 0 },
    { "r", "rate", "RATE", "rate", "positive" },               -- a kind by position
    { "t", "type", "TYPE", "filter type", kind = "enum", values = { "lowpass", "highpass", "bandpass" } },
    { "D", "device", "DEVICE", "device", kind = "device" },
    { "o", "out", "FILE", "a file" },                          -- a string
    { nil, "fatal-xruns", nil, "stop at an xrun" },
    { "p", "pad", "TIME", "pad", optional = true,
      parse = function(v) if v:match("^%d+$") then return tonumber(v) end error("'" .. v .. "' is not a time", 0) end },
    { "m", "map", "MAP", "a map", multi = 2, too_many = "twice at most",
      parse = function(v) if v == "none" then return false end return v end },
    { "c", "channels", "CH", "channels", raw = true,
      parse = function(v) local n = tonumber(v) if n then return n * 1 end return nil, "not a channel count" end },
    { "h", "help", nil, "this help", kind = "help" },
  }
end
local S = options.spec(spec())
local function parse(...) return options.parse(S, { ... }) end

T.group("kinds of values", function()
  local r = parse()
  T.ok(r.overwrite == nil and r.verbose == nil and r.duration == nil, "options not given are nil")
  T.ok(r.frames == 10 and r.gain == 0, "... or their defaults")
  r = parse("-y", "--overwrite")
  T.eq(r.overwrite, true, "a flag, given twice, is true")
  T.eq(parse("-vvv").verbose, 3, "a counted flag counts: -vvv")
  T.eq(parse("-v", "--verbose", "-yv").verbose, 3, "... -v --verbose -yv")
  T.eq(parse("-d", "1.5").duration, 1.5, "seconds")
  T.eq(usage_msg(parse, "-d", "0"), "-d/--duration: bad SECONDS '0' (seconds > 0)", "... 0 is refused, naming the option")
  T.eq(math.type(parse("-n", "480").frames), "integer", "an integer kind gives an integer")
  T.eq(usage_msg(parse, "-n", "1.5"), "-n/--frames: bad N '1.5' (a whole number)", "... 1.5 is refused")
  T.eq(parse("-g", "-6").gain, -6, "a number takes a negative value")
  T.eq(usage_msg(parse, "-r", "-1"), "-r/--rate: bad RATE '-1' (a number > 0)", "positive: -1 is refused")
  T.eq(parse("-t", "highpass").type, "highpass", "an enum")
  T.eq(usage_msg(parse, "-t", "notch"), "-t/--type: bad TYPE 'notch' (one of lowpass, highpass or bandpass)",
    "... a value outside it is refused, listing the values")
  T.eq(parse("-D", "").device, nil, "a device: '' is the default")
  T.eq(parse("-D", "3").device, "3", "... an index stays text")
  T.eq(parse("-o", "x.wav").out, "x.wav", "a string")
  T.eq(parse("--fatal-xruns").fatal_xruns, true, "a long name's '-' is '_' in the key")
  T.eq(parse("--fatal_xruns").fatal_xruns, true, "'_' in a long name is '-'")
  T.eq(usage_msg(parse, "--pad=x"), "-p/--pad: 'x' is not a time", "a parse function's error names the option")
  T.eq(usage_msg(parse, "-c", "x"), "-c/--channels: not a channel count", "... and its nil, why")
  r = parse("-c", "2")
  T.ok(r.channels == 2 and r.channels_text == "2", "raw keeps the text beside the value")
  local m = parse("-m", "a", "-m", "none").map
  T.ok(m[1] == "a" and m[2] == false and #m == 2, "multi collects the values (false stays)")
  T.eq(usage_msg(parse, "-m", "a", "-m", "b", "-m", "c"), "-m/--map: twice at most", "... up to multi")
  local R = options.spec { usage = "r",
    { "p", "port", "PORT", "port", kind = "integer", min = 0, max = 65535 },
    { nil, "level", "DB", "level", kind = "number", max = 0 },
    { "o", "output", "OUT", "out", required = true },
    { "h", "help", nil, "help", kind = "help" } }
  T.eq(options.parse(R, { "-p", "0", "-o", "x" }).port, 0, "min: the bound itself is good")
  T.eq(usage_msg(options.parse, R, { "-p", "65536", "-o", "x" }), "-p/--port: bad PORT '65536' (0..65535)", "min, max: out of range")
  T.eq(usage_msg(options.parse, R, { "--level=1", "-o", "x" }), "--level: bad DB '1' (<= 0)", "max alone")
  T.eq(usage_msg(options.parse, R, {}), "missing -o/--output OUT (required)", "a required option left out")
  T.eq(options.parse(R, { "-h" }).help, true, "... but -h needs none")
end)

T.group("syntax: sox and getopt forms", function()
  local r = parse("-yd0.5", "in.wav")
  T.ok(r.overwrite and r.duration == 0.5 and r.positional[1] == "in.wav", "-yd0.5: a cluster with a value attached")
  r = parse("-yd", "0.5")
  T.ok(r.overwrite and r.duration == 0.5, "-yd 0.5: the value is the next argument")
  T.eq(parse("-n10").frames, 10, "-n10")
  T.eq(parse("-n=10").frames, 10, "-n=10")
  T.eq(parse("--frames=10").frames, 10, "--frames=10")
  T.eq(parse("--frames", "10").frames, 10, "--frames 10")
  r = parse("a", "-y", "b")
  T.ok(r.positional[1] == "a" and r.positional[2] == "b" and r.overwrite, "options and arguments mix")
  r = parse("--", "-y", "--frames=3", "@x")
  T.ok(r.overwrite == nil and r.frames == 10 and r.positional[1] == "-y" and r.positional[3] == "@x",
    "-- ends the options")
  T.eq(parse("-").positional[1], "-", "'-' alone is an argument")
  T.eq(usage_msg(parse, "-12"), "unknown option '-12'", "-12 is an option unless the spec takes numbers")
  local N = options.spec { usage = "n", numbers = true, { "y", "yes", nil, "yes" } }
  T.eq(options.parse(N, { "-12" }).positional[1], "-12", "... with numbers = true it is an argument")
  -- optional values: the next argument only if it parses
  T.eq(parse("-p").pad, true, "an optional value left out: true")
  T.eq(parse("-p", "20").pad, 20, "... the next argument when it parses")
  r = parse("-p", "in.wav")
  T.ok(r.pad == true and r.positional[1] == "in.wav", "... else it stays an argument")
  T.eq(parse("--pad=5").pad, 5, "... --pad=5")
  local B = options.spec { usage = "b", { "V", "verbosity", "N", "level", kind = "integer", optional = true, bare = 3 } }
  T.eq(options.parse(B, { "-V" }).verbosity, 3, "... bare gives the value of the option alone")
  -- help stops the parse
  r = parse("-yh", "--bogus")
  T.ok(r.help and r.overwrite, "-h stops parsing (what comes after is not looked at)")
  -- @argfiles, when the spec reads them
  local A = options.spec { usage = "a", argfile = function(path)
      if path == "loop" then return { "@loop" } end
      if path == "bad" then error("@bad: cannot read it", 0) end
      return { "-y", path } end,
    { "y", "yes", nil, "yes" } }
  r = options.parse(A, { "@f.txt", "x" })
  T.ok(r.yes and r.positional[1] == "f.txt" and r.positional[2] == "x", "@FILE reads arguments in place")
  T.eq(usage_msg(options.parse, A, { "@loop" }), "too many @argfiles (does one include itself?)", "... an @FILE that includes itself")
  T.eq(usage_msg(options.parse, A, { "@bad" }), "@bad: cannot read it", "... an unreadable one")
  T.eq(parse("@f.txt").positional[1], "@f.txt", "without argfile, @x is an argument")
end)

T.group("errors name the option", function()
  T.eq(usage_msg(parse, "--bogus"), "unknown option '--bogus'", "an unknown long option")
  T.eq(usage_msg(parse, "-z"), "unknown option '-z'", "an unknown short option")
  T.eq(usage_msg(parse, "-yz"), "unknown option '-z' (in '-yz')", "an unknown letter in a cluster")
  T.eq(usage_msg(parse, "-d"), "-d/--duration needs a value", "a missing value")
  T.eq(usage_msg(parse, "--duration"), "-d/--duration needs a value", "a missing long value")
  T.eq(usage_msg(parse, "--overwrite=yes"), "-y/--overwrite takes no value (got '--overwrite=yes')", "a value for a flag")
  local C = options.spec { usage = "c FILE", args = { 1, 2 } }
  T.eq(usage_msg(options.parse, C, {}), "missing argument (usage: c FILE)", "too few arguments")
  T.eq(usage_msg(options.parse, C, { "a", "b", "c" }), "unexpected argument 'c'", "too many arguments")
  local e = select(2, pcall(parse, "--bogus"))
  T.ok(options.is_error(e) and e.code == 2 and tostring(e) == "unknown option '--bogus'",
    "a usage error is a table with code 2 whose tostring is the message")
  T.raises(function() options.spec { { "a", "x" }, { "a", "y" } } end, "option -a/--y is defined twice",
    "a table with a name twice is refused")
  T.raises(function() options.spec { { nil, "x", "X", "x", kind = "bogus" } } end, "unknown kind 'bogus'",
    "an unknown kind is refused")
end)

T.group("--help is written from the table", function()
  local H = options.spec {
    usage = "h.lua IN [options]", about = "About h.", more = "example: h.lua x",
    { "d", "duration", "SECONDS", "how long" },
    { nil, "loop", nil, "again and again" },
  }
  T.eq(options.help(H), table.concat({
    "usage: h.lua IN [options]",
    "About h.",
    "",
    "  -d, --duration SECONDS  how long",
    "      --loop              again and again",
    "",
    "example: h.lua x" }, "\n"), "usage, about, one row per option in a column, more")
  local L = options.spec {
    usage = "l", column = 16, value_sep = "=",
    { heading = "options" },
    { "p", "pad", "TIME", "pad\nand more", optional = true },
    { nil, "a-very-long-one", "X", "wraps" },
    { row = "@FILE", help = "read arguments" },
    { text = "  a paragraph" },
    { text = "  tight", blank = false },
  }
  T.eq(options.help(L), table.concat({
    "usage: l",
    "",
    "options",
    "  -p, --pad[=TIME]",
    "                pad",
    "                and more",
    "      --a-very-long-one=X",
    "                wraps",
    "  @FILE         read arguments",
    "",
    "  a paragraph",
    "  tight" }, "\n"), "headings, continuation lines, long names on their own line, rows, paragraphs")
  local h = options.help(S)
  for _, o in ipairs(S.options) do
    T.ok(h:find("--" .. o.long, 1, true), "the help shows --" .. o.long)
  end
end)

T.group("the CLI and the recipes parse through it", function()
  local cli = require "pastream.cli"
  T.ok(cli.spec and cli.spec.options == cli.options and #cli.options >= 25, "the CLI's options are an options table")
  T.eq(cli.help(), options.help(cli.spec) .. "\n", "pastream --help is written from it")

  -- a spy on options.parse: which spec each program hands it
  local real = options.parse
  local seen = {}
  options.parse = function(sp, argv)
    seen[#seen + 1] = sp
    return real(sp, argv)
  end
  local o = cli.parse_args { "-yn10", "null", "x.wav" }
  T.ok(seen[#seen] == cli.spec and o.frames == 10 and o.overwrite, "cli.parse_args parses by cli.spec")

  -- a recipe run with --help: it prints its help, written by options.help
  -- from the spec it parsed by, and exits 0
  local function recipe_help(name)
    local before = #seen
    local printed = {}
    local saved_print, saved_arg = print, arg
    print = function(...) printed[#printed + 1] = table.concat({ ... }, "\t") end
    arg = { [0] = "scripts/" .. name, "--help" }
    local ok, e = pcall(dofile, "scripts/" .. name)
    print, arg = saved_print, saved_arg
    local sp = seen[before + 1]
    T.ok(not ok and type(e) == "table" and e.exit == 0, name .. " --help exits 0")
    T.ok(sp and sp.prog == name, name .. " parses by options.parse")
    T.eq(printed[1], sp and options.help(sp), name .. " --help is options.help of its table")
    return sp
  end
  local r1 = recipe_help("record.lua")
  local r2 = recipe_help("play.lua")
  recipe_help("monitor.lua")
  recipe_help("loopback-check.lua")
  options.parse = real
  T.ok(r1 and r2 and r1.by_long.device and r2.by_long.device and r1.by_long.device.kind == "device",
    "record.lua's -D is the device kind")
end)

T.done()
