--- pastream.task: structured tasks (coroutines on the luv loop) and the
-- loop's end on SIGINT/SIGTERM.
--
-- This is the part of pastream that needs no audio: pastream-lua runs every
-- script through task.main, and a script that never requires "pastream"
-- never loads the C core (PortAudio, libsndfile) nor compiles init.lua.
-- The public names are those of `require "pastream"` (ps.spawn, ps.sleep,
-- ps.yield, ps.run, ps.main), which are these functions.
--
-- The rules, after luv's and Lua's own habits:
-- * task.spawn returns a handle: h:join() waits for the task and returns
--   its results or raises its error; h:cancel() closes it (coroutine.close,
--   so its <close> variables run).
-- * A task's error goes to whoever joins it; with nobody joining, it ends
--   task.run, which first closes every other task (their <close> variables
--   run: streams stop, files are finished) and then raises the error once.
-- * An error in a luv callback takes the same way (task.fail; the
--   pastream-lua host hands luv's callback errors to it, and pastream's own
--   callbacks go through task.callback under plain lua5.4 too).
-- * Every wait has its own wake-up: a wake-up of an earlier wait is
--   ignored, and one that comes at once (inside arm) just returns.
-- * A wait from a luv callback is refused: it would have to run the loop
--   inside the loop, which libuv does not allow.
local uv = require "luv"
local errors = require "pastream.errors"

local task = {}

local live = {}           -- coroutine -> handle, for every live task
local ntasks = 0
local failure             -- first uncaught error (with traceback), not yet raised
local loop_depth = 0      -- > 0 while this module runs the loop
local run_waiters = {}    -- wake-ups of tasks in task.run, waiting for the others

--- task.fail(err): an error that nobody waits for (a task's or a
-- callback's): the loop stops and task.run raises it, once.
function task.fail(err)
  if failure == nil then failure = err end
  uv.stop()
end

local function traceback(e)
  if type(e) == "table" then return e end   -- {exit = N, message = ...} passes through
  e = tostring(e)
  if e:find("\nstack traceback:", 1, true) then return e end
  return debug.traceback(e, 2)
end
task.traceback = traceback

--- task.callback(fn) -> a function for a luv callback that runs fn and
-- hands an error to the scheduler (task.fail) instead of luv's default
-- handler, which prints it and exits without any cleanup.
function task.callback(fn)
  return function(...)
    local ok, err = xpcall(fn, traceback, ...)
    if not ok then task.fail(err) end
  end
end

local Task = {}
Task.__index = Task
task.Task = Task

local function wake_run_waiters()
  if #run_waiters > 0 and ntasks <= #run_waiters then
    local list = run_waiters
    run_waiters = {}
    for _, w in ipairs(list) do w() end
  end
end

-- The task has ended: keep its outcome, wake whoever joins it.  An error
-- that nobody joins is the scheduler's.
local function settle(h, state, a, b)
  if live[h.co] then
    live[h.co] = nil
    ntasks = ntasks - 1
  end
  h.state = state
  if state == "done" then h.results = a
  elseif state == "failed" then h.err = a end
  local joiners = h.joiners
  h.joiners = nil
  if state == "failed" and (not joiners or #joiners == 0) then task.fail(a) end
  for _, w in ipairs(joiners or {}) do w() end
  wake_run_waiters()
  return b
end

local function after_resume(h, ok, fine, ...)
  if coroutine.status(h.co) ~= "dead" then return end
  if not ok then settle(h, "failed", traceback(fine))        -- cannot happen: the body catches
  elseif fine then settle(h, "done", table.pack(...))
  else settle(h, "failed", (...)) end
end

local function step(h, ...)
  after_resume(h, coroutine.resume(h.co, ...))
end

--- Run fn(...) as a task: a coroutine on the event loop.  It starts at once
-- and runs until it first waits.  Returns its handle (h:join(), h:cancel(),
-- h.state: "running", "done", "failed" or "cancelled").
function task.spawn(fn, ...)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'spawn' (function expected)", 2)
  end
  -- xpcall inside the coroutine keeps the task's own traceback; a table
  -- error (such as a signal's {exit = N}) passes through unchanged.
  local co = coroutine.create(function(...) return xpcall(fn, traceback, ...) end)
  local h = setmetatable({ co = co, state = "running" }, Task)
  live[co] = h
  ntasks = ntasks + 1
  step(h, ...)
  return h
end

--- The running task's handle, or nil outside a task.
local function current()
  local co, main = coroutine.running()
  return not main and live[co] or nil
end
task.current = current

--- The running task's coroutine, or nil outside a task.
function task.in_task()
  local h = current()
  return h and h.co or nil
end

local suspend
local install_signals

-- Resumed by task.interrupt: the wait raises the error instead.
local INTERRUPT = {}
local function resumed(first, ...)
  if first == INTERRUPT then error((...), 0) end
  return first, ...
end

--- task.interrupt(h, err): raise err in task h where it waits (as a
-- signal does in the main task).  Returns false when h is not waiting.
function task.interrupt(h, err)
  if h.state ~= "running" or not h.wait or coroutine.status(h.co) ~= "suspended" then return false end
  h.wait = nil                  -- its wait's wake-up is stale from now on
  step(h, INTERRUPT, err)
  return true
end

local main_task               -- the first task of task.main: the script

--- h:join() -> the task's results; raises its error; nil, "cancelled"
-- for a cancelled task.
function Task:join()
  while self.state == "running" do
    if current() == self then error("a task cannot join itself", 2) end
    suspend(function(wake)
      self.joiners = self.joiners or {}
      self.joiners[#self.joiners + 1] = wake
    end)
  end
  if self.state == "failed" then error(self.err, 0) end
  if self.state == "cancelled" then return nil, "cancelled" end
  return table.unpack(self.results, 1, self.results.n)
end

--- h:cancel(): close the task where it waits (its <close> variables run).
-- Returns true, or false and the error a <close> handler raised.  A task
-- cannot cancel itself (return from it instead).
function Task:cancel()
  if self.state ~= "running" then return true end
  local st = coroutine.status(self.co)
  if st ~= "suspended" then error("a task cannot cancel itself, nor the task that runs it", 2) end
  local ok, err = coroutine.close(self.co)
  settle(self, "cancelled")
  if not ok then return false, err end
  return true
end

-- Close every task but the running one: after a failure, so that their
-- <close> variables run before the error is raised.
local function close_all()
  local list = {}
  for _, h in pairs(live) do list[#list + 1] = h end
  for _, h in ipairs(list) do
    if h.state == "running" and coroutine.status(h.co) == "suspended" then h:cancel() end
  end
end

local function take_failure()
  local err = failure
  failure = nil
  return err
end

-- One pass of the loop, run by this module (a wait outside a task).
local function run_loop(mode)
  loop_depth = loop_depth + 1
  local ok, err = pcall(uv.run, mode)
  loop_depth = loop_depth - 1
  if not ok then task.fail(err) end
end

local function refuse_in_callback(level)
  error("cannot wait inside a luv callback (it runs inside the event loop, which cannot run again "
        .. "there): spawn a task for it (ps.spawn)", level + 1)
end

--- Suspend until `arm(wakeup)` calls wakeup(...); returns wakeup's
-- arguments.  In a task this yields to the loop; outside one it runs the
-- loop until then.  Every wait gets its own wakeup: a late call of an
-- earlier wait's is ignored, and a call made at once, inside arm, returns
-- without yielding.
function suspend(arm)
  local h = current()
  if h then
    local co = h.co
    local token = {}
    h.wait = token
    local arming, early = true, nil
    local function wakeup(...)
      if h.wait ~= token then return end   -- that wait is over
      h.wait = nil
      if arming then early = table.pack(...) return end
      if coroutine.status(co) == "suspended" then step(h, ...) end
    end
    local ok, err = pcall(arm, wakeup)
    arming = false
    if not ok then h.wait = nil error(err, 0) end
    if early then return table.unpack(early, 1, early.n) end
    return resumed(coroutine.yield())
  end
  if loop_depth > 0 then refuse_in_callback(3) end
  -- plain lua5.4: the loop runs here, so SIGINT must reach the loop's
  -- handler, not lua.c's hook (which would raise inside a luv callback)
  install_signals()
  local done, res = false, nil
  arm(function(...) if not done then done, res = true, table.pack(...) end end)
  while not done do
    run_loop("once")
    if failure ~= nil then
      close_all()
      error(take_failure(), 0)
    end
  end
  return table.unpack(res, 1, res.n)
end
task.suspend = suspend

-- Tasks that yielded to let the loop go round once.  They are resumed by
-- an idle handle, one batch per loop iteration.  (A 0 ms timer would not
-- do: libuv runs a timer started from a timer callback with 0 ms again in
-- the same pass, so a task sleeping 0 in a loop would starve the loop.)
local ready, idle = {}, nil

local run_ready = task.callback(function()
  local list = ready
  ready = {}
  for _, w in ipairs(list) do w() end
  if #ready == 0 then idle:stop() end
end)

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
  if type(s) ~= "number" or not (s >= 0) then
    error("bad argument #1 to 'sleep' (seconds >= 0 expected)", 2)
  end
  if not current() and loop_depth > 0 then refuse_in_callback(2) end
  local ms = math.floor(s * 1000 + 0.5)
  if ms == 0 then return task.yield() end
  local t = uv.new_timer()
  -- closed however the wait ends: woken, raised, or the task cancelled
  local _ <close> = setmetatable({}, { __close = function()
    if not t:is_closing() then t:close() end
  end })
  suspend(function(wake) t:start(ms, 0, function() wake() end) end)
end

---------------------------------------------------------------------------
-- SIGINT and SIGTERM
---------------------------------------------------------------------------

local hooks = {}

--- task.on_terminate(fn): fn(name) runs on the loop when SIGINT or SIGTERM
-- ("sigint", "sigterm") arrives, in the order the hooks were added, before
-- the loop ends with exit status 128 + signo.  A hook that returns true
-- has handled the signal: the later hooks and the exit are skipped.  A hook
-- that raises ends the loop with that error (task.fail).
-- (pastream's init.lua adds one that calls ps.on_signal when it is set,
-- and otherwise stops and closes every stream.)
function task.on_terminate(fn)
  if type(fn) ~= "function" then
    error("bad argument #1 to 'on_terminate' (function expected, got " .. type(fn) .. ")", 2)
  end
  hooks[#hooks + 1] = fn
end

-- The first signal, when no hook handled it, is an error in the script: an
-- Interrupted error raised in the main task where it waits (the hooks have
-- stopped the streams and finished the files by then), so its <close>
-- variables, pcall and cleanup run, as Python's KeyboardInterrupt.  Not
-- caught, it ends the script with exit status 128 + signo.  (A second
-- signal exits at once: src/sigchain.c.)
local chain_signals

local function on_signal(name)
  local n = name == "sigint" and 2 or 15
  for _, fn in ipairs(hooks) do
    if fn(name) == true then
      chain_signals()             -- handled: the next signal is a first one again
      return
    end
  end
  local err = errors.new("Interrupted", "interrupted (" .. name:upper() .. ")",
    { signal = name:upper(), exit = 128 + n })
  if not (main_task and task.interrupt(main_task, err)) then task.fail(err) end
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

function install_signals()
  if signals then return end
  signals = {}
  for _, name in ipairs { "sigint", "sigterm" } do
    local h = uv.new_signal()
    h:start(name, task.callback(function() on_signal(name) end))
    h:unref()                     -- a signal handler alone keeps nothing alive
    signals[#signals + 1] = h
  end
  chain_signals()                 -- a second signal exits even if Lua is busy
end
task.install_signals = install_signals

---------------------------------------------------------------------------
-- The loop
---------------------------------------------------------------------------

--- Run the event loop until every task has ended (or one fails: then the
-- other tasks are closed and its error is raised here).  Called from a task
-- (pastream-lua runs scripts as tasks), it waits until every other task has
-- ended, since the loop already runs.
function task.run()
  if current() then
    suspend(function(wake)
      run_waiters[#run_waiters + 1] = wake
      wake_run_waiters()
    end)
    return
  end
  if loop_depth > 0 then refuse_in_callback(2) end
  install_signals()
  while true do
    run_loop("default")
    if failure ~= nil then
      close_all()
      error(take_failure(), 0)
    end
    if ntasks == 0 or not uv.loop_alive() then break end
  end
  if ntasks > 0 then
    local n = ntasks
    close_all()
    error(string.format("%d task(s) wait for something that will never happen", n), 0)
  end
end

--- Run fn(...) as a task and the loop until everything has ended: what
-- `pastream-lua SCRIPT` does with the script.  Inside a task it runs fn as
-- a task and waits for every other task, as the loop already runs.
function task.main(fn, ...)
  install_signals()
  local h = task.spawn(fn, ...)
  -- the script is the main task: the first one, or the next once that has
  -- ended (pastream-lua -e CODE SCRIPT runs CODE, then SCRIPT, each with
  -- task.main), so that a signal is an error where the script waits
  if not main_task or main_task.state ~= "running" then main_task = h end
  task.run()
end

return task
