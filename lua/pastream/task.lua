--- pastream.task: tasks (coroutines on the luv loop) and the loop's end on
-- SIGINT/SIGTERM.
--
-- This is the part of pastream that needs no audio: pastream-lua runs every
-- script through task.main, and a script that never requires "pastream"
-- never loads the C core (PortAudio, libsndfile) nor compiles init.lua.
-- The public names are those of `require "pastream"` (ps.spawn, ps.sleep,
-- ps.yield, ps.run, ps.main), which are these functions.
local uv = require "luv"

local task = {}

local tasks = {}          -- coroutine -> true, for every live task
local ntasks = 0
local failure             -- first uncaught task error (with traceback)

local function resume(co, ...)
  local ok, err = coroutine.resume(co, ...)
  if not ok and not failure then
    failure = err
    uv.stop()
  end
  if coroutine.status(co) == "dead" and tasks[co] then
    tasks[co] = nil
    ntasks = ntasks - 1
  end
end

--- Run fn(...) as a task: a coroutine on the event loop.  It starts at once
-- and runs until it first waits.  An error in it ends task.run() with the
-- task's traceback.
function task.spawn(fn, ...)
  assert(type(fn) == "function", "bad argument #1 to 'spawn' (function expected)")
  -- xpcall inside the coroutine keeps the task's own traceback; a table
  -- error (such as a signal's {exit = N}) passes through unchanged.
  local co = coroutine.create(function(...)
    local res = table.pack(xpcall(fn, function(e)
      if type(e) == "table" then return e end
      return debug.traceback(tostring(e), 2)
    end, ...))
    if not res[1] then error(res[2], 0) end
    return table.unpack(res, 2, res.n)
  end)
  tasks[co] = true
  ntasks = ntasks + 1
  resume(co, ...)
  return co
end

--- The running task's coroutine, or nil outside a task.
function task.in_task()
  local co, main = coroutine.running()
  return not main and tasks[co] and co or nil
end
local in_task = task.in_task

--- Suspend until `arm(wakeup)` calls wakeup(...); returns wakeup's
-- arguments.  In a task this yields to the loop; outside one it runs the
-- loop until then.
-- One wake-up function per task, made on its first wait and kept while the
-- task lives (weak keys): a chunk loop waits once per audio period, and a
-- new closure each time would be garbage made on every period.
local wakers = setmetatable({}, { __mode = "k" })

function task.suspend(arm)
  local co = in_task()
  if co then
    local w = wakers[co]
    if not w then
      w = function(...) resume(co, ...) end
      wakers[co] = w
    end
    arm(w)
    return coroutine.yield()
  end
  local done, res = false, nil
  arm(function(...) done, res = true, table.pack(...) end)
  while not done do
    uv.run("once")
    if failure then
      local err = failure
      failure = nil
      error(err, 0)
    end
  end
  return table.unpack(res, 1, res.n)
end
local suspend = task.suspend

-- Tasks that yielded to let the loop go round once.  They are resumed by
-- an idle handle, one batch per loop iteration.  (A 0 ms timer would not
-- do: libuv runs a timer started from a timer callback with 0 ms again in
-- the same pass, so a task sleeping 0 in a loop would starve the loop.)
local ready, idle = {}, nil

local function run_ready()
  local list = ready
  ready = {}
  for _, w in ipairs(list) do w() end
  if #ready == 0 then idle:stop() end
end

--- Let every other task and the loop's events run once, then go on.
function task.yield()
  suspend(function(wake)
    if not idle then idle = uv.new_idle() end
    ready[#ready + 1] = wake
    if #ready == 1 then idle:start(run_ready) end
  end)
end

--- Wait s seconds without blocking other tasks (0: task.yield()).
function task.sleep(s)
  assert(type(s) == "number" and s >= 0, "bad argument #1 to 'sleep' (seconds >= 0 expected)")
  local ms = math.floor(s * 1000 + 0.5)
  if ms == 0 then return task.yield() end
  local t = uv.new_timer()
  suspend(function(wake)
    t:start(ms, 0, function() t:close(); wake() end)
  end)
end

---------------------------------------------------------------------------
-- SIGINT and SIGTERM
---------------------------------------------------------------------------

local hooks = {}

--- task.on_terminate(fn): fn(name) runs on the loop when SIGINT or SIGTERM
-- ("sigint", "sigterm") arrives, in the order the hooks were added, before
-- the loop ends with exit status 128 + signo.  A hook that returns true
-- has handled the signal: the later hooks and the exit are skipped.
-- (pastream's init.lua adds one that calls ps.on_signal when it is set,
-- and otherwise stops and closes every stream.)
function task.on_terminate(fn)
  assert(type(fn) == "function", "bad argument #1 to 'on_terminate' (function expected)")
  hooks[#hooks + 1] = fn
end

local chain_signals

local function on_signal(name)
  local n = name == "sigint" and 2 or 15
  for _, fn in ipairs(hooks) do
    if fn(name) == true then
      chain_signals()             -- handled: the next signal is a first one again
      return
    end
  end
  failure = failure or { exit = 128 + n, message = "interrupted (" .. name:upper() .. ")" }
  uv.stop()
end

-- The second-signal exit (a script busy in a loop that never yields never
-- lets the loop see the first signal): the host's, else the C core's when
-- it is loaded (plain lua5.4 with require "pastream").  It goes in front of
-- luv's handlers, so it is installed after them.
function chain_signals()
  local chain = package.pastream_chain_signals
  if not chain then
    local core = package.loaded["pastream.core"]
    chain = type(core) == "table" and core.chain_signals
  end
  if chain then chain() end
end

local signals

local function install_signals()
  if signals then return end
  signals = {}
  for _, name in ipairs { "sigint", "sigterm" } do
    local h = uv.new_signal()
    h:start(name, function() on_signal(name) end)
    h:unref()                     -- a signal handler alone keeps nothing alive
    signals[#signals + 1] = h
  end
  chain_signals()                 -- a second signal exits even if Lua is busy
end

---------------------------------------------------------------------------
-- The loop
---------------------------------------------------------------------------

--- Run the event loop until every task has ended (or one fails).
function task.run()
  install_signals()
  while true do
    uv.run("default")
    if failure then
      local err = failure
      failure = nil
      error(err, 0)
    end
    if ntasks == 0 or not uv.loop_alive() then break end
  end
  if ntasks > 0 then
    error(string.format("%d task(s) wait for something that will never happen", ntasks), 0)
  end
end

--- Run fn(...) as the first task and the loop until everything has ended:
-- what `pastream-lua SCRIPT` does with the script.
function task.main(fn, ...)
  install_signals()
  task.spawn(fn, ...)
  task.run()
end

return task
