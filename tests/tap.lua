-- A small TAP helper for the Lua tests: "ok N - name" / "not ok N - name"
-- lines that tests/run.sh counts, with both values printed on a failure.
local T = { n = 0, failed = 0 }

local function report(ok, name, detail)
  T.n = T.n + 1
  print(string.format("%s %d - %s", ok and "ok" or "not ok", T.n, name))
  if not ok then
    T.failed = T.failed + 1
    local info = debug.getinfo(3, "Sl")
    print(string.format("#   at %s:%d", info.short_src, info.currentline))
    if detail then print("#   " .. tostring(detail):gsub("\n", "\n#   ")) end
  end
  io.stdout:flush()
  return ok
end

function T.ok(cond, name, detail) return report(not not cond, name, detail) end

function T.eq(got, want, name)
  return report(got == want, name,
    string.format("got %s, want %s", tostring(got), tostring(want)))
end

-- fn must raise an error whose message contains `pattern` (plain text).
function T.raises(fn, pattern, name)
  local ok, err = pcall(fn)
  if ok then return report(false, name, "no error raised") end
  return report(tostring(err):find(pattern, 1, true) ~= nil, name,
    string.format("error %q does not contain %q", tostring(err), pattern))
end

-- Run fn as a named group; an error inside counts as one failed check.
function T.group(name, fn, ...)
  local ok, err = xpcall(fn, debug.traceback, ...)
  if not ok then report(false, name .. " (raised)", err) end
end

-- The whole content of the file at path, or nil when it cannot be read.
function T.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local d = f:read("a")
  f:close()
  return d
end

-- The names in directory dir, sorted, as one space-separated string: a
-- test compares two of them to see that no file was made or left behind.
function T.listing(dir)
  local uv = require "luv"
  local names = {}
  local req = uv.fs_scandir(dir)
  while req do
    local name = uv.fs_scandir_next(req)
    if not name then break end
    names[#names + 1] = name
  end
  table.sort(names)
  return table.concat(names, " ")
end

-- A new private directory for a test's files: its path, and path(name)
-- for a file in it.  T.rmtree(dir) removes it with what it holds.
function T.tmpdir()
  local uv = require "luv"
  local dir = os.tmpname()
  os.remove(dir)
  assert(uv.fs_mkdir(dir, 448))
  return dir, function(name) return dir .. "/" .. name end
end

-- The host the test runs on, as an absolute path, for the children a test
-- starts: PASTREAM_LUA (tests/run.sh sets it for the sanitizer builds),
-- else this very program when it is pastream-lua (not valgrind's tool,
-- say), else ./pastream-lua.
function T.host()
  local uv = require "luv"
  local host = os.getenv("PASTREAM_LUA")
  if not host then
    local a, e = arg and arg[-1], uv.exepath()
    host = a and a:match("pastream%-lua$") and a or e and e:match("pastream%-lua$") and e or "./pastream-lua"
  end
  if host:sub(1, 1) ~= "/" then host = uv.cwd() .. "/" .. host end
  return host
end

function T.rmtree(dir)
  os.execute("rm -rf '" .. dir .. "'")
end

function T.done()
  print(string.format("# %d checks, %d failed", T.n, T.failed))
  if T.failed > 0 then os.exit(1) end
end

return T
