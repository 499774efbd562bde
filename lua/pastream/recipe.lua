--- pastream.recipe: the small things every recipe in scripts/ needs.
--
--   local recipe = require "pastream.recipe"
--   local opt = recipe.parse(arg, {
--     usage = "record.lua OUT [options]",
--     about = "Record from an input device to a sound file.",
--     args = { 1, 1 },                          -- min, max positional arguments
--     { "d", "duration", "SECONDS", "how long to record", number },
--     { "l", "loop", nil, "play the file again and again" },   -- a flag
--   })
--   opt.duration, opt.loop, opt[1]
--
-- -h/--help prints the help and exits 0; a usage error prints the problem
-- and exits 2; recipe.main(fn) runs the recipe and turns an error into a
-- one-line message and exit 1.
local recipe = {}

local function progname(arg)
  return (arg and arg[0] or "recipe"):match("([^/]+)$")
end

--- Exit with code, printing message (if any) to stderr.  Streams are
-- closed (and files finished) by the host on the way out.
function recipe.exit(code, message)
  error({ exit = code, message = message }, 0)
end

--- A usage error: exit 2 with "NAME: message" and a hint about --help.
function recipe.usage_error(arg, message)
  local name = progname(arg)
  recipe.exit(2, string.format("%s: %s\nTry '%s --help'.", name, message, name))
end

--- A runtime error: exit 1 (or code) with "NAME: message".
function recipe.die(arg, message, code)
  recipe.exit(code or 1, string.format("%s: %s", progname(arg), message))
end

local function help(spec)
  local lines = { "usage: " .. spec.usage, spec.about, "" }
  local rows = {}
  for _, o in ipairs(spec) do
    local left = (o[1] and ("-" .. o[1] .. ", ") or "    ") .. "--" .. o[2] .. (o[3] and (" " .. o[3]) or "")
    rows[#rows + 1] = { left, o[4] }
  end
  rows[#rows + 1] = { "-h, --help", "print this help" }
  local w = 0
  for _, r in ipairs(rows) do w = math.max(w, #r[1]) end
  for _, r in ipairs(rows) do lines[#lines + 1] = string.format("  %-" .. w .. "s  %s", r[1], r[2]) end
  if spec.more then lines[#lines + 1] = ""; lines[#lines + 1] = spec.more end
  return table.concat(lines, "\n")
end

--- Parse arg by spec (see above).  Options not given take o[6] (a default);
-- o[5] converts a value (number, or a function returning nil on error).
function recipe.parse(arg, spec)
  local opt, byshort, bylong = {}, {}, {}
  for _, o in ipairs(spec) do
    if o[1] then byshort[o[1]] = o end
    bylong[o[2]] = o
    opt[o[2]] = o[6]
  end
  local function set(o, value, shown)
    if not o[3] then opt[o[2]] = true return end
    if value == nil then recipe.usage_error(arg, "option " .. shown .. " needs " .. o[3]) end
    local conv = o[5]
    -- '' is the default device, as filter.lua and spectrum.lua document it
    if conv == recipe.device and value == "" then opt[o[2]] = o[6] return end
    if conv then
      local v = conv(value)
      if v == nil then recipe.usage_error(arg, string.format("bad %s for %s: '%s'", o[3], shown, value)) end
      value = v
    end
    opt[o[2]] = value
  end
  local i, only_args = 1, false
  while i <= #arg do
    local a = arg[i]
    if only_args or a == "-" or a:sub(1, 1) ~= "-" or a:match("^%-%d") then
      opt[#opt + 1] = a
    elseif a == "--" then
      only_args = true
    elseif a == "-h" or a == "--help" then
      print(help(spec))
      recipe.exit(0)
    elseif a:sub(1, 2) == "--" then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      local o = bylong[name]
      if not o then recipe.usage_error(arg, "unknown option '--" .. name .. "'") end
      if o[3] and value == nil then i = i + 1; value = arg[i] end
      if not o[3] and value ~= nil then recipe.usage_error(arg, "option --" .. name .. " takes no value") end
      set(o, value, "--" .. name)
    else
      -- a cluster of short options, as the CLI takes them: -yd 0.2, -yd0.2,
      -- -qy; the first option that takes a value takes the rest of the
      -- word, or else the next argument
      local k = 2
      while k <= #a do
        local ch = a:sub(k, k)
        local o = byshort[ch]
        if not o and ch == "h" then
          print(help(spec))
          recipe.exit(0)
        end
        if not o then
          recipe.usage_error(arg, k == 2 and ("unknown option '" .. a .. "'")
            or string.format("unknown option '-%s' (in '%s')", ch, a))
        end
        if o[3] then
          local value = a:sub(k + 1)
          if value == "" then i = i + 1; value = arg[i] end
          set(o, value, "-" .. ch)
          break
        end
        set(o, nil, "-" .. ch)
        k = k + 1
      end
    end
    i = i + 1
  end
  local min, max = (spec.args or {})[1] or 0, (spec.args or {})[2] or 0
  if #opt < min then recipe.usage_error(arg, "missing argument (usage: " .. spec.usage .. ")") end
  if #opt > max then recipe.usage_error(arg, "unexpected argument '" .. opt[max + 1] .. "'") end
  return opt
end

--- The file a recipe writes: refused when it exists, unless overwrite
-- (the -y/--overwrite option) is set; then it is replaced only once the
-- stream has started.  The checks are pastream's one output-file policy
-- (pastream.output.check, ps.prepare_output).  Exits 2 with the reason.
function recipe.check_output(arg, path, overwrite, inputs)
  local ok, why, code = require("pastream.output").check(path, { overwrite = overwrite, inputs = inputs })
  if ok == nil then
    if code == "exists" then why = path .. " exists (use -y/--overwrite to replace it)" end
    recipe.usage_error(arg, why)
  end
end

--- Converters for option values.
function recipe.positive(v)
  v = tonumber(v)
  return v and v > 0 and v or nil
end
function recipe.nonnegative(v)
  v = tonumber(v)
  return v and v >= 0 and v or nil
end
function recipe.integer(v)
  return math.tointeger(tonumber(v))
end
--- A device: an index stays a string (ps.device takes both), "" is the default.
function recipe.device(v) return v ~= "" and v or nil end

--- Run fn() and turn an error into "NAME: message" and exit 1 (a table
-- error with an exit status, such as recipe.exit's or a signal's
-- Interrupted, passes through).
function recipe.main(arg, fn)
  local ok, err = pcall(fn)
  if ok then return end
  if type(err) == "table" and math.type(rawget(err, "exit")) == "integer" then error(err, 0) end
  err = tostring(err):gsub("^[^\n]-%.lua:%d+: ", "")
  recipe.die(arg, err)
end

--- dBFS of a linear level (-inf for 0).
function recipe.db(v) return v > 0 and 20 * math.log(v, 10) or -math.huge end

return recipe
