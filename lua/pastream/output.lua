--- pastream.output: the one policy for files a run writes (recordings,
-- offline chunk loops, the CLI's and the recipes' outputs): never replace
-- what is there unless asked, and replace it only once the new content is
-- good.
--
--   local plan = output.prepare(path, {overwrite, inputs})   -- raises on refusal
--   ... write plan.path ...
--   output.commit(plan)     -- the new file takes the final name
--   output.discard(plan)    -- or: a temporary file, or a file this run made, goes
--
-- With overwrite, an existing file is written beside it (".NAME.XXXXXX.partial")
-- and renamed over it by commit, so it survives anything that fails before.
-- require "pastream" exports these as ps.prepare_output, ps.commit_output
-- and ps.discard_output.
local uv = require "luv"

local output = {}

-- The identity of an existing file: its device and inode, or nil.
local function same_file(a, b)
  local sa, sb = uv.fs_stat(a), uv.fs_stat(b)
  return sa and sb and sa.dev == sb.dev and sa.ino == sb.ino
end

local function random_tag()
  local chars = "abcdefghijklmnopqrstuvwxyz0123456789"
  local bytes = uv.random and uv.random(6) or tostring(uv.hrtime()):sub(-6)
  local t = {}
  for i = 1, 6 do
    local b = bytes:byte(i) or 0
    t[i] = chars:sub(b % #chars + 1, b % #chars + 1)
  end
  return table.concat(t)
end

-- The file type libsndfile should write, from the final name (a temporary
-- ".partial" name says nothing); nil when the C core is not loaded.
local function type_from_name(path)
  local core = package.loaded["pastream.core"]
  return type(core) == "table" and core.type_from_name and core.type_from_name(path) or nil
end

--- output.check(path, {overwrite, inputs}) -> st (the existing file's
-- fs_stat, or false for a new file or "-"), or nil, why `path` may not be
-- written, a code and what the code is about: "name" (no path), "input"
-- (the same file as one of `inputs`; that input), "nodir" (a directory
-- that does not exist, or "notdir" one that is not a directory; that
-- directory), "directory" (path is one) or "exists" (an existing regular
-- file without overwrite).  A caller may word its own message from them.
-- Changes nothing on disk: the CLI and the recipes call it before anything
-- opens.
function output.check(path, o)
  o = o or {}
  if type(path) ~= "string" or path == "" then
    return nil, "output file name expected, got " .. (path == "" and "an empty string" or type(path)), "name"
  end
  if path == "-" then return false end
  local st = uv.fs_stat(path)
  for _, input in ipairs(o.inputs or {}) do
    if type(input) == "string" and input ~= "-" and same_file(path, input) then
      return nil, string.format("%s is the same file as the input %s: choose another output file", path, input), "input", input
    end
  end
  if not st then
    local dir = path:match("^(.*)/[^/]*$")
    if dir and dir ~= "" then
      local ds = uv.fs_stat(dir)
      if not ds then return nil, path .. ": directory " .. dir .. " does not exist", "nodir", dir end
      if ds.type ~= "directory" then return nil, path .. ": " .. dir .. " is not a directory", "notdir", dir end
    end
    return false
  end
  if st.type == "directory" then return nil, path .. " is a directory, not a file", "directory" end
  if st.type == "file" and not o.overwrite then
    return nil, path .. " exists; pass overwrite = true to replace it", "exists"
  end
  return st
end

--- output.prepare(path, {overwrite, inputs}) -> plan for writing `path`:
-- {path = what to open, final = path, temp = true|nil, created = true|nil,
-- type = the file type of the final name}.  Raises (at the caller's level)
-- what output.check refuses.  "-", character devices and FIFOs are written
-- in place and are never "existing files".
function output.prepare(path, o)
  local st, why = output.check(path, o)
  if st == nil then error(why, 2) end
  if path == "-" then return { path = path, final = path } end
  if not st then return { path = path, final = path, created = true } end
  if st.type ~= "file" then return { path = path, final = path } end
  local dir, base = path:match("^(.*/)([^/]*)$")
  dir, base = dir or "", base or path
  local why
  for _ = 1, 20 do
    local tmp = string.format("%s.%s.%s.partial", dir, base, random_tag())
    local fd, err = uv.fs_open(tmp, "wx", st.mode & 511)
    if fd then
      uv.fs_close(fd)
      return { path = tmp, final = path, temp = true, type = type_from_name(path) }
    end
    why = err
    if not tostring(err):find("EEXIST", 1, true) then break end
  end
  error(string.format("%s: cannot create a temporary file beside it to record into (%s)", path, why), 2)
end

--- output.commit(plan): the new content is good: a temporary file takes
-- the final name.  Returns true, or nil and a message.  Safe to call twice.
function output.commit(plan)
  if not plan or plan.committed or plan.discarded then return true end
  if plan.temp then
    local ok, err = os.rename(plan.path, plan.final)
    if not ok then return nil, err end
  end
  plan.committed = true
  return true
end

--- output.discard(plan): nothing worth keeping was written: remove a
-- temporary file, or a file this run created; an existing file stays as
-- it was.  Safe to call twice, and after commit (then it does nothing).
function output.discard(plan)
  if plan and not plan.committed and not plan.discarded then
    plan.discarded = true
    if plan.temp or plan.created then os.remove(plan.path) end
  end
end

--- A message about the temporary file, told about the file the user named.
function output.rename_msg(plan, msg)
  msg = tostring(msg)
  if plan and plan.temp then
    local s, e = msg:find(plan.path, 1, true)
    while s do
      msg = msg:sub(1, s - 1) .. plan.final .. msg:sub(e + 1)
      s, e = msg:find(plan.path, s + #plan.final, true)
    end
  end
  return msg
end

return output
