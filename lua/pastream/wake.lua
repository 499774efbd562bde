--- pastream.wake: waiting for the engine.
--
-- One eventfd for every stream (src/wake.c), one poll handle watching it
-- while anybody waits.  Each woken waiter checks its own condition (the
-- wake-up coalesces: one may stand for many events).  A wake-up runs once
-- per period while a chunk loop waits, so this path makes one system call
-- (the eventfd read) besides the loop's own epoll_wait: the two lists are
-- swapped rather than made anew, and the poll handle is left started while
-- waiters come back.
local uv = require "luv"
local core = require "pastream.core"
local task = require "pastream.task"

local wake = {}

local waiters, spare, poll = {}, {}, nil

local function wake_all()
  local list = waiters
  waiters, spare = spare, list
  for i = 1, #list do
    local w = list[i]
    list[i] = nil
    w(true)
  end
  if #waiters == 0 and poll then poll:stop() end
end

local on_wake = task.callback(function()
  core.clear_wake()
  wake_all()
end)

local function add_waiter(w)
  waiters[#waiters + 1] = w
  if not poll:is_active() then poll:start("r", on_wake) end
end

local function remove_waiter(w)
  for i = #waiters, 1, -1 do
    if waiters[i] == w then table.remove(waiters, i) break end
  end
  if #waiters == 0 then poll:stop() end   -- nobody left: let the loop end
end

--- wake.wait([timeout_ms]): suspend until the engine signals anything, or
-- timeout_ms passes.  Returns true when woken by the engine (or by
-- wake.kick), false on timeout.
function wake.wait(timeout_ms)
  if not poll then poll = uv.new_poll(core.wake_fd()) end
  if not timeout_ms then return task.suspend(add_waiter) end
  local timer = uv.new_timer()
  local _ <close> = setmetatable({}, { __close = function()
    if not timer:is_closing() then timer:close() end
  end })
  return task.suspend(function(w)
    timer:start(math.max(0, math.ceil(timeout_ms)), 0, function()
      remove_waiter(w)
      w(false)
    end)
    add_waiter(w)
  end)
end

-- wake.kick(): wake every waiter on the next turn of the loop, as the
-- engine would: the Lua side changed something a waiter looks at (a stream
-- was closed, a pump failed) without the engine saying so.
local kick_timer
function wake.kick()
  if #waiters == 0 then return end
  if not kick_timer then kick_timer = uv.new_timer() end
  if not kick_timer:is_active() then kick_timer:start(0, 0, task.callback(wake_all)) end
end

return wake
