--- pastream.recipe: the small things every recipe in scripts/ needs.
--
--   local recipe = require "pastream.recipe"
--   local opt = recipe.parse(arg, {
--     usage = "record.lua OUT [options]",
--     about = "Record from an input device to a sound file.",
--     args = { 1, 1 },                          -- min, max positional arguments
--     { "d", "duration", "SECONDS", "how long to record", kind = "seconds" },
--     { "l", "loop", nil, "play the file again and again" },   -- a flag
--   })
--   opt.duration, opt.loop, opt[1]
--
-- The table is pastream.options' (lua/pastream/options.lua), the parser
-- the CLI uses too: [5] may be a kind's name or a converter (recipe.positive,
-- or a function returning nil for a bad value), [6] a default.
-- -h/--help prints the help and exits 0; a usage error prints the problem
-- and exits 2; recipe.main(fn) runs the recipe and turns an error into a
-- one-line message and exit 1.
local options = require "pastream.options"

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

--- recipe.spec(arg, spec) -> the options.spec of a recipe's table (see
-- lua/pastream/options.lua): prog from arg[0], -h/--help added, and an
-- argument such as -12 is an argument.
function recipe.spec(arg, spec)
  if rawget(spec, "options") == nil then      -- not yet an options.spec
    spec.prog = spec.prog or progname(arg)
    spec.numbers = true
    spec.args = spec.args or { 0, 0 }
    local has_help = false
    for _, o in ipairs(spec) do
      if (o.long or o[2]) == "help" then has_help = true end
    end
    if not has_help then spec[#spec + 1] = { "h", "help", nil, "print this help", kind = "help" } end
  end
  return options.spec(spec)
end

--- recipe.help(arg, spec) -> the --help text of a recipe's table.
function recipe.help(arg, spec) return options.help(recipe.spec(arg, spec)) end

--- Parse arg by spec, pastream's one option parser (pastream.options,
-- which the CLI uses too): -h/--help prints the help and exits 0; a
-- usage error exits 2, naming the option.  Returns the options by key,
-- with the arguments as opt[1], opt[2], ...
function recipe.parse(arg, spec)
  spec = recipe.spec(arg, spec)
  local ok, res = pcall(options.parse, spec, arg)
  if not ok then
    if options.is_error(res) then recipe.usage_error(arg, res.message) end
    error(res, 0)
  end
  if res.help then
    print(options.help(spec))
    recipe.exit(0)
  end
  local opt = {}
  for k, v in pairs(res) do if k ~= "positional" then opt[k] = v end end
  for i, a in ipairs(res.positional) do opt[i] = a end
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

--- Converters for option values: the kinds of pastream.options (a
-- recipe's table may name the kind instead: kind = "positive").
recipe.positive = options.kinds.positive.parse
recipe.nonnegative = options.kinds.nonnegative.parse
recipe.integer = options.kinds.integer.parse
--- A device: an index stays a string (ps.device takes both); the parser
-- gives an option of this kind its default for "".
recipe.device = options.kinds.device.parse

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
