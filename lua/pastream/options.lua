--- pastream.options: the one command-line parser, driven by a declarative
-- table, for the CLI (lua/pastream/cli.lua) and the recipes (scripts/*.lua,
-- through pastream.recipe).  The same table gives --help.
--
--   local options = require "pastream.options"
--   local spec = options.spec {
--     prog = "record.lua", usage = "record.lua OUT [options]",
--     about = "Record to OUT.", more = "example: ...", args = { 1, 1 },
--     { "d", "duration", "SECONDS", "how long", kind = "positive" },
--     { "y", "overwrite", nil, "replace OUT if it exists" },          -- a flag
--     { "t", "type", "TYPE", "filter type", kind = "enum", values = { "lowpass", "highpass" } },
--     { nil, "port", "PORT", "the port", kind = "integer", default = 8000 },
--   }
--   local res = options.parse(spec, arg)     -- raises options.Error on a usage error
--   res.duration, res.overwrite, res.positional[1]
--   print(options.help(spec))
--
-- An option entry: [1] short name (a letter, or nil), [2] long name,
-- [3] METAVAR (nil for flags), [4] help text (lines after the first are
-- continuation lines), and by name or position:
--   kind     flag, count (a counted flag: -vvv is 3), help (stops parsing:
--            res.help), string, number, positive, nonnegative, integer,
--            seconds (a number of seconds > 0), device ('' is the default),
--            enum (one of `values`); default: flag without a METAVAR, else
--            string.  [5] may be a kind's name or a parse function.
--   parse    function(text) -> value, or nil [, why] (or raises why): a
--            program's own value type (the CLI's times, pairs, maps)
--   default  [6]: the value when the option is not given
--   key      where the value goes (default: the long name, '-' as '_')
--   optional the value may be left out: the next argument is taken only if
--            it parses; without one the option is `bare` (default true)
--   multi    N: the values are collected in a list of at most N
--            (`too_many` says what is wrong with more)
--   raw      the text is kept too, as res[key .. "_text"]
--   min, max a number's bounds (either may be left out)
--   required the option must be given (unless -h)
-- Entries without a long name lay out the help: { heading = "..." },
-- { text = "..." [, blank = false] } and { row = "@FILE", help = "..." }.
--
-- The syntax is sox's and getopt's: combined short flags (-qy), values
-- attached or not (-n10, -n 10, -n=10, --frames=10, --frames 10), '--'
-- ends the options, '-' alone is an argument, '_' in a long name is '-'.
-- The spec may add: argfile = function(path) -> list (then @FILE reads
-- arguments from FILE), numbers = true (an argument such as -12 is an
-- argument, not an option), args = { min, max } (the count of arguments;
-- none checked without it), column (the help's second column; default
-- fits the widest), value_sep (" " or "=" between an option and its
-- METAVAR in the help).
-- (Debian's lua-argparse does not take these forms: README.md, Dependencies.)
local options = {}

-- A usage error: tostring gives the message; code is 2.
local Error = {}
Error.__index = Error
Error.__tostring = function(e) return e.message end
options.Error = Error

local function usage(fmt, ...)
  local msg = select("#", ...) > 0 and string.format(fmt, ...) or fmt
  error(setmetatable({ code = 2, message = msg }, Error), 0)
end

--- options.is_error(e): true for a usage error raised by options.parse.
function options.is_error(e) return getmetatable(e) == Error end

local function number_kind(test, want)
  return {
    want = want,
    parse = function(v)
      local n = tonumber(v)
      if n and n == n and test(n) then return n end
      return nil
    end,
  }
end

--- The kinds of values: parse(text) -> value or nil, and `want`, what a
-- good value is (said when a value is refused).
options.kinds = {
  flag = { flag = true },
  count = { flag = true },
  help = { flag = true },
  string = { parse = function(v) return v end },
  number = number_kind(function() return true end, "a number"),
  positive = number_kind(function(n) return n > 0 end, "a number > 0"),
  nonnegative = number_kind(function(n) return n >= 0 end, "a number >= 0"),
  seconds = number_kind(function(n) return n > 0 and n < math.huge end, "seconds > 0"),
  integer = { want = "a whole number", parse = function(v) return math.tointeger(tonumber(v)) end },
  -- a device: an index stays a string (ps.device takes both)
  device = { parse = function(v) return v end },
  enum = {},
}

local function enum_parse(values)
  return function(v)
    for _, x in ipairs(values) do if x == v then return x end end
    return nil
  end
end

local function word_list(values)
  if #values <= 1 then return values[1] or "" end
  return table.concat(values, ", ", 1, #values - 1) .. " or " .. values[#values]
end

local SPEC = {}   -- the marker of a checked spec

-- A kind's parse function given in place of its name ([5] = recipe.positive)
-- is that kind.
local function kind_of(fn)
  for name, k in pairs(options.kinds) do
    if k.parse == fn then return name end
  end
end

--- options.spec(t) -> t, checked and indexed (done once: a spec passes
-- as it is).  t.options lists the option entries (layout left out), each
-- with short, long, metavar, help, kind, parse, key and name ("-d/--duration").
-- A mistake in the table raises.
function options.spec(t)
  if rawget(t, SPEC) then return t end
  t.options, t.by_short, t.by_long = {}, {}, {}
  for i, e in ipairs(t) do
    local long = e.long or e[2]
    if long then
      e.short, e.long = e.short or e[1], long
      e.metavar = e.metavar or e[3]
      e.help = e.help or e[4]
      if e.default == nil then e.default = e[6] end
      local k5 = e[5]
      if type(k5) == "function" and not e.parse and not e.kind then
        e.kind = kind_of(k5)
        if not e.kind then e.parse = k5 end
      end
      if type(k5) == "string" and not e.kind then e.kind = k5 end
      if not e.kind then
        e.kind = e.parse and "custom" or (e.metavar and "string" or "flag")
      end
      local kind = options.kinds[e.kind]
      if e.kind ~= "custom" and not kind then
        error(string.format("option %d (--%s): unknown kind '%s'", i, long, tostring(e.kind)), 2)
      end
      kind = kind or {}
      e.flag = kind.flag
      if e.kind == "enum" then
        if type(e.values) ~= "table" then error("option --" .. long .. ": an enum needs values", 2) end
        e.parse = e.parse or enum_parse(e.values)
        e.want = e.want or ("one of " .. word_list(e.values))
      end
      e.parse = e.parse or kind.parse
      e.want = e.want or kind.want
      if not e.flag and not e.metavar then e.metavar = "VALUE" end
      if e.bare == nil then e.bare = true end
      e.key = e.key or long:gsub("-", "_")
      e.name = (e.short and ("-" .. e.short .. "/") or "") .. "--" .. long
      if t.by_long[long] or (e.short and t.by_short[e.short]) then
        error("option " .. e.name .. " is defined twice", 2)
      end
      t.by_long[long] = e
      if e.short then t.by_short[e.short] = e end
      t.options[#t.options + 1] = e
    end
  end
  t[SPEC] = true
  return t
end

-- A value for option o: its parse's result; a refused value is a usage
-- error naming the option.
local function convert(o, text)
  if o.kind == "device" and text == "" then return o.default end   -- '' is the default device
  local ok, v, why = pcall(o.parse, text)
  if not ok then
    local msg = tostring(v):gsub("^[^\n:]-%.lua:%d+: ", "")
    usage("%s: %s", o.name, msg)
  end
  if v == nil then
    if why then usage("%s: %s", o.name, tostring(why)) end
    usage("%s: bad %s '%s'%s", o.name, o.metavar, text, o.want and (" (" .. o.want .. ")") or "")
  end
  if (o.min and v < o.min) or (o.max and v > o.max) then
    local range = (o.min and o.max) and string.format("%s..%s", o.min, o.max)
      or o.min and string.format(">= %s", o.min) or string.format("<= %s", o.max)
    usage("%s: bad %s '%s' (%s)", o.name, o.metavar, text, range)
  end
  return v
end

-- Does text parse as o's value?  (For optional values.)
local function parses(o, text)
  if o.kind == "device" and text == "" then return true end
  local ok, v = pcall(o.parse, text)
  return ok and v ~= nil
end

local function set(res, o, text)
  if o.kind == "count" then res[o.key] = (res[o.key] or 0) + 1 return end
  if o.flag then res[o.key] = true return end
  if text == true then res[o.key] = o.bare return end   -- an optional value left out
  local v = convert(o, text)
  if o.raw then res[o.key .. "_text"] = text end
  if o.multi then
    local list = res[o.key] or {}
    if #list >= o.multi then
      usage("%s: %s", o.name, o.too_many or string.format("given more than %d times", o.multi))
    end
    list[#list + 1] = v
    res[o.key] = list
  else
    res[o.key] = v
  end
end

--- options.parse(spec, argv) -> res: the options' values by key (defaults
-- for those not given) and res.positional, the other arguments in order.
-- Stops at a help option (res.help = true).  Raises options.Error (code 2,
-- a message naming the option) on a usage error.
function options.parse(spec, argv)
  spec = options.spec(spec)
  local args = {}
  for i = 1, #argv do args[i] = argv[i] end
  local res = { positional = {} }
  for _, o in ipairs(spec.options) do
    if o.default ~= nil then res[o.key] = o.default end
  end
  local pos = res.positional
  local i, only_positional, expansions = 1, false, 0

  local function next_value(o)
    i = i + 1
    if args[i] == nil then usage("%s needs a value", o.name) end
    return args[i]
  end
  -- an optional value: the next argument only if it parses as one
  local function optional_value(o)
    local nx = args[i + 1]
    if nx and parses(o, nx) then i = i + 1 return nx end
    return true
  end
  local function take(o, value)     -- an option with a value, given or not
    if value then set(res, o, value)
    elseif o.optional then set(res, o, optional_value(o))
    else set(res, o, next_value(o)) end
  end

  while i <= #args do
    local a = args[i]
    if only_positional then
      pos[#pos + 1] = a
    elseif spec.argfile and a:sub(1, 1) == "@" and #a > 1 then
      expansions = expansions + 1
      if expansions > 64 then usage("too many @argfiles (does one include itself?)") end
      local ok, list = pcall(spec.argfile, a:sub(2))
      if not ok then usage("%s", (tostring(list):gsub("^[^\n:]-%.lua:%d+: ", ""))) end
      table.remove(args, i)
      for k = #list, 1, -1 do table.insert(args, i, list[k]) end
      i = i - 1
    elseif a == "--" then
      only_positional = true
    elseif a:sub(1, 2) == "--" then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = (name or a:sub(3)):gsub("_", "-")
      local o = spec.by_long[name]
      if not o then usage("unknown option '--%s'", name) end
      if o.flag then
        if value then usage("%s takes no value (got '%s')", o.name, a) end
        set(res, o)
        if o.kind == "help" then res.help = true return res end
      else
        take(o, value)
      end
    elseif a:sub(1, 1) == "-" and #a > 1 and not (spec.numbers and a:match("^%-[%d.]")) then
      -- a cluster of short options: -qy, -c1, -r48k, -e=pcm_16, -qc 1;
      -- the first that takes a value takes the rest of the word, or else
      -- the next argument
      local k = 2
      while k <= #a do
        local ch = a:sub(k, k)
        local o = spec.by_short[ch]
        if not o then
          if k == 2 then usage("unknown option '%s'", a) end
          usage("unknown option '-%s' (in '%s')", ch, a)
        end
        if o.flag then
          set(res, o)
          if o.kind == "help" then res.help = true return res end
          k = k + 1
        else
          local rest = a:sub(k + 1)
          if rest:sub(1, 1) == "=" then take(o, rest:sub(2))
          else take(o, rest ~= "" and rest or nil) end
          break
        end
      end
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end

  for _, o in ipairs(spec.options) do
    if o.required and res[o.key] == nil then usage("missing %s %s (required)", o.name, o.metavar) end
  end
  if spec.args then
    local min, max = spec.args[1] or 0, spec.args[2] or 0
    if #pos < min then usage("missing argument (usage: %s)", spec.usage) end
    if #pos > max then usage("unexpected argument '%s'", pos[max + 1]) end
  end
  return res
end

-- The left column of an option's help row: "-d, --duration SECONDS".
local function left_of(spec, o)
  local sep = spec.value_sep or " "
  local value = ""
  if not o.flag then
    value = sep .. o.metavar
    if o.optional then value = "[" .. value .. "]" end
  end
  return "  " .. (o.short and ("-" .. o.short .. ", ") or "    ") .. "--" .. o.long .. value
end

--- options.help(spec) -> the --help text: "usage: ...", about, the
-- options and the layout entries in the table's order, then more.
-- Recipes' specs get -h/--help (print this help) last when they lack it.
function options.help(spec)
  spec = options.spec(spec)
  local rows = {}
  for _, e in ipairs(spec) do
    if e.long then rows[#rows + 1] = { left_of(spec, e), e.help or "" }
    elseif e.row then rows[#rows + 1] = { "  " .. e.row, e.help or "" }
    else rows[#rows + 1] = e end
  end
  local column = spec.column
  if not column then
    local w = 0
    for _, r in ipairs(rows) do if r[1] then w = math.max(w, #r[1]) end end
    column = w + 2
  end
  local lines = { "usage: " .. spec.usage }
  if spec.about then lines[#lines + 1] = spec.about end
  lines[#lines + 1] = ""
  local indent = string.rep(" ", column)
  for _, r in ipairs(rows) do
    if r[1] then
      local text = r[2]:gsub("\n", "\n" .. indent)
      if #r[1] + 2 <= column then
        lines[#lines + 1] = r[1] .. string.rep(" ", column - #r[1]) .. text
      else
        lines[#lines + 1] = r[1]
        lines[#lines + 1] = indent .. text
      end
    else
      -- a heading or a paragraph starts after a blank line
      if r.blank ~= false and lines[#lines] ~= "" then lines[#lines + 1] = "" end
      lines[#lines + 1] = r.heading or r.text
    end
  end
  if spec.more then
    if lines[#lines] ~= "" then lines[#lines + 1] = "" end
    lines[#lines + 1] = spec.more
  end
  return table.concat(lines, "\n")
end

return options
