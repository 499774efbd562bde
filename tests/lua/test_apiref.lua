-- doc/API.md documents the whole public API: this walks the real module
-- (its table, the constructors' fields, the dsp table, the methods of
-- Buffer, streams, SoundFile and Biquad, the properties of streams and
-- SoundFiles, the fields of the tables ps.devices, ps.hostapis,
-- ps.file_info and ps.versions return, the keys of ps.default and the
-- options lua/pastream/init.lua reads) and fails naming each one the
-- reference lacks, and each name the reference gives that does not exist.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
require "pastream.roundtrip"     -- documented there too: it adds stream:measure_roundtrip

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local doc = slurp("doc/API.md")

-- Names the reference defines: backticked in a heading (### ...) or in a
-- bullet item (its line and indented continuation lines).  Names it
-- mentions anywhere (prose too) must exist.
local defined, mentioned = {}, {}
local function names_in(text, into)
  for code in text:gmatch("`([^`]+)`") do
    local chain = code:match("^[%a_][%w_]*[.:][%a_][%w_]*[%w_.:]*")
    if chain then into[chain:gsub("[.:]$", "")] = true end
  end
end
local in_bullet = false
for line in (doc .. "\n"):gmatch("(.-)\n") do
  if line:match("^###? ") then
    names_in(line, defined)
    in_bullet = false
  elseif line:match("^%- ") then
    names_in(line, defined)
    in_bullet = true
  elseif in_bullet and line:match("^%s+%S") then
    names_in(line, defined)
  else
    in_bullet = false
  end
  names_in(line, mentioned)
end

-- The real names ----------------------------------------------------------
local real = {}           -- name -> true
local function add(prefix, sep, t, skip_private)
  for k in pairs(t) do
    if type(k) == "string" and not (skip_private and k:sub(1, 1) == "_") then
      real[prefix .. sep .. k] = true
    end
  end
end

add("ps", ".", ps, true)
for _, ctor in ipairs{ "InputStream", "OutputStream", "DuplexStream" } do
  add("ps." .. ctor, ".", ps[ctor], true)
end
add("ps.dsp", ".", ps.dsp, true)

local buf = ps.Buffer(4, 2)
add("buf", ":", getmetatable(buf).methods, true)

local bq = ps.dsp.Biquad{ type = "lowpass", freq = 1000, samplerate = 48000 }
add("bq", ":", getmetatable(bq).__index, true)

add("device", ".", ps.devices()[1])
add("hostapi", ".", ps.hostapis()[1])
add("versions", ".", ps.versions())

local tmp = os.tmpname()
os.remove(tmp)
local wav = tmp .. ".wav"
assert(ps.save(wav, buf, 48000))
add("info", ".", assert(ps.file_info(wav)))

-- SoundFile: methods from its metatable, properties from the names its
-- __index knows (src/lsoundfile.c), each checked to read a value.
local file <close> = assert(ps.open(wav))
add("file", ":", getmetatable(file).methods, true)
local fprops = {}
for k in slurp("src/lsoundfile.c"):gmatch('strcmp%(k, "([%w_]+)"%)') do fprops[#fprops + 1] = k end
T.ok(#fprops >= 6, "src/lsoundfile.c yields the SoundFile properties", #fprops)
for _, k in ipairs(fprops) do
  real["file." .. k] = true
  T.ok(file[k] ~= nil, "SoundFile property '" .. k .. "' reads a value")
end

-- Streams: methods from the metatable, properties from the names the C
-- __index knows (the property table of src/lstream_props.c) and the fields the Lua layer keeps on a
-- stream, each checked to read a value on an open duplex stream with both
-- maps set, after a metered run.
local s <close> = ps.DuplexStream{ device = "loopback", channels = 2,
                                   txmapping = { 2, 1 }, rxmapping = { 1, 2 } }
s:record{ frames = 256, meter = true }
add("stream", ":", getmetatable(s).methods, true)
local sprops = { "closed" }
for k in slurp("src/lstream_props.c"):gmatch('{ "([%w_]+)", p_') do sprops[#sprops + 1] = k end
-- the properties lua/pastream/run.lua derives (its `derived` table)
for k in slurp("lua/pastream/run.lua"):match("local derived = (%b{})"):gmatch("\n    ([%a_][%w_]*) = function") do
  sprops[#sprops + 1] = k
end
for k in pairs(debug.getuservalue(s, 1) or {}) do
  if type(k) == "string" and k:sub(1, 1) ~= "_" then sprops[#sprops + 1] = k end
end
T.ok(#sprops >= 30, "src/lstream_props.c and the Lua layer yield the stream properties", #sprops)
for _, k in ipairs(sprops) do
  real["stream." .. k] = true
  T.ok(s[k] ~= nil, "stream property '" .. k .. "' reads a value")
end

-- Every real name is defined in the reference ---------------------------------
local sorted = {}
for k in pairs(real) do sorted[#sorted + 1] = k end
table.sort(sorted)
T.ok(#sorted >= 150, "the walk finds the API's names", #sorted)
for _, name in ipairs(sorted) do
  T.ok(defined[name], "doc/API.md documents " .. name, "add a heading or a bullet for `" .. name .. "`")
end

-- Every name the reference mentions exists -------------------------------------
local prefixes = { ps = true, buf = true, stream = true, file = true, bq = true,
                   device = true, hostapi = true, info = true, versions = true }
local docnames = {}
for k in pairs(mentioned) do
  if prefixes[k:match("^[%a_][%w_]*")] then docnames[#docnames + 1] = k end
end
table.sort(docnames)
for _, name in ipairs(docnames) do
  T.ok(real[name], "doc/API.md's " .. name .. " exists", "the reference names it, the module has no such thing")
end

-- Options: every key lua/pastream/init.lua reads from an options table, and
-- every key of ps.default, is in the reference (backticked, or in a
-- backticked {...} list).
local words = {}
for code in doc:gmatch("`([^`]+)`") do
  for w in code:gmatch("[%a_][%w_]*") do words[w] = true end
end
local opts = {}
for _, m in ipairs { "init", "run", "chunks", "process", "output" } do   -- init.lua and the modules it re-exports
  for k in slurp("lua/pastream/" .. m .. ".lua"):gmatch("%f[%w_]o%.([%a_][%w_]*)") do opts[k] = true end
end
for k in pairs(ps.default) do opts[k] = true end
local olist = {}
for k in pairs(opts) do olist[#olist + 1] = k end
table.sort(olist)
T.ok(#olist >= 25, "init.lua reads the options", #olist)
for _, k in ipairs(olist) do
  T.ok(words[k], "doc/API.md documents the option '" .. k .. "'")
end

file:close()
os.remove(wav)
T.done()
