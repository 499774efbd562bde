--- pastream: realtime audio streams for Lua 5.4, on the luv event loop.
--
-- The C core (pastream.core) runs the PortAudio callback and ring buffers;
-- this module is the public API: devices, streams with play/record/playrec,
-- and tasks (coroutines on the luv loop).  Anything that waits yields its
-- task to the loop and is resumed by the engine's wake-up; outside a task
-- the same call runs the loop until it is done, so plain scripts just work.
local core = require "pastream.core"
local uv = require "luv"

local ps = {
  version = core.version,
  Buffer = core.Buffer,
  versions = core.versions,
}

--- Write a Buffer to a sound file (type from the extension, WAV if none),
-- keeping its sample format exactly.  Returns true, or nil and a message.
ps.save = core.save
--- Read a whole sound file: returns a float32 Buffer and the sample rate,
-- or nil and a message.
ps.load = core.load

local Stream = core.stream_methods

---------------------------------------------------------------------------
-- Tasks
---------------------------------------------------------------------------

local tasks = {}          -- coroutine -> name, for every live task
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
-- and runs until it first waits.  An error in it ends ps.run() with the
-- task's traceback.
function ps.spawn(fn, ...)
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

local function in_task()
  local co, main = coroutine.running()
  return not main and tasks[co] and co or nil
end

-- Suspend until `arm(wakeup)` calls wakeup.  In a task this yields to the
-- loop; outside one it runs the loop until then.
local function suspend(arm)
  local co = in_task()
  if co then
    arm(function(...) resume(co, ...) end)
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

--- Wait s seconds without blocking other tasks.
function ps.sleep(s)
  assert(type(s) == "number" and s >= 0, "bad argument #1 to 'sleep' (seconds >= 0 expected)")
  local t = uv.new_timer()
  suspend(function(wake)
    t:start(math.floor(s * 1000 + 0.5), 0, function() t:close(); wake() end)
  end)
end

-- The engine's wake-up: one fd for every stream, one poll handle watching it.
local waiters, wake_poll = {}, nil

local function on_wake()
  core.clear_wake()
  local list = waiters
  waiters = {}
  for _, w in ipairs(list) do w() end
  if #waiters == 0 then wake_poll:stop() end
end

-- Suspend until the engine signals anything, or timeout_ms passes.
-- Returns true when woken by the engine.
local function wait_engine(timeout_ms)
  if not wake_poll then wake_poll = uv.new_poll(core.wake_fd()) end
  return suspend(function(wake)
    local timer, fired = nil, false
    local function once(v)
      if fired then return end
      fired = true
      if timer then timer:close() end
      wake(v)
    end
    if timeout_ms then
      timer = uv.new_timer()
      timer:start(math.max(0, math.ceil(timeout_ms)), 0, function()
        for i, w in ipairs(waiters) do
          if w == once then table.remove(waiters, i) break end
        end
        once(false)
      end)
    end
    waiters[#waiters + 1] = function() once(true) end
    if #waiters == 1 then wake_poll:start("r", on_wake) end
  end)
end
ps._wait_engine = wait_engine

local signals

local function install_signals()
  if signals then return end
  signals = {}
  for _, name in ipairs { "sigint", "sigterm" } do
    local h = uv.new_signal()
    h:start(name, function()
      local n = name == "sigint" and 2 or 15
      if ps.on_signal then ps.on_signal(name) return end
      core.terminate()            -- stop and close every stream
      failure = failure or { exit = 128 + n, message = "interrupted (" .. name:upper() .. ")" }
      uv.stop()
    end)
    h:unref()                     -- a signal handler alone keeps nothing alive
    signals[#signals + 1] = h
  end
end

--- Run the event loop until every task has ended (or one fails).
function ps.run()
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
function ps.main(fn, ...)
  ps.spawn(fn, ...)
  ps.run()
end

---------------------------------------------------------------------------
-- Devices
---------------------------------------------------------------------------

--- The defaults a stream takes; change them to change every later stream.
ps.default = {
  device = nil,          -- nil: PortAudio's default; or an index/name, or {input, output}
  samplerate = nil,      -- nil: the device's default rate
  channels = nil,        -- nil: 2, or fewer if the device has fewer
  format = "float32",
  blocksize = 0,         -- 0: the host decides (lowest latency)
  latency = "high",      -- "low", "high" or seconds
  buffersize = 65536,    -- ring buffer frames (power of two)
}

function ps.devices() return core.devices() end
function ps.hostapis() return core.hostapis() end

local function has_kind(d, kind)
  if kind == "input" then return d.max_input_channels > 0 end
  if kind == "output" then return d.max_output_channels > 0 end
  return true
end

--- Find a device: by index (PortAudio's, 0-based) or by name.  A name is
-- matched case-insensitively; every word of the query must occur in the
-- device's name; an exact name wins; several matches are an error that
-- lists them.  kind ("input"/"output") keeps only devices that have it.
function ps.device(query, kind)
  if kind ~= nil and kind ~= "input" and kind ~= "output" then
    error("bad argument #2 to 'device' (\"input\" or \"output\" expected, got "
          .. tostring(kind) .. ")", 2)
  end
  local devs = core.devices()
  if query == nil then
    local din, dout = core.default_devices()
    local i = kind == "input" and din or dout
    if i < 0 then i = kind == nil and din or i end
    if i < 0 then error("there is no default " .. (kind or "audio") .. " device", 2) end
    return devs[i + 1]
  end
  if math.type(query) == "integer" or (type(query) == "string" and query:match("^%d+$")) then
    local d = devs[tonumber(query) + 1]
    if not d then
      error(string.format("no device %s (there are %d: 0..%d)", query, #devs, #devs - 1), 2)
    end
    if not has_kind(d, kind) then
      error(string.format("device %s ('%s') has no %s channels", query, d.name, kind), 2)
    end
    return d
  end
  if type(query) ~= "string" then
    error("bad argument #1 to 'device' (index or name expected, got " .. type(query) .. ")", 2)
  end
  local q = query:lower()
  local found = {}
  for _, d in ipairs(devs) do
    if has_kind(d, kind) then
      local name = d.name:lower()
      if name == q then return d end
      local all = true
      for word in q:gmatch("%S+") do
        if not name:find(word, 1, true) then all = false break end
      end
      if all then found[#found + 1] = d end
    end
  end
  if #found == 1 then return found[1] end
  local what = kind and (kind .. " device") or "device"
  if #found == 0 then
    local names = {}
    for _, d in ipairs(devs) do
      if has_kind(d, kind) then names[#names + 1] = string.format("%d '%s'", d.index, d.name) end
    end
    error(string.format("no %s matches '%s' (%s: %s)", what, query,
      #names > 0 and "there are" or "there are none", table.concat(names, ", ")), 2)
  end
  local names = {}
  for _, d in ipairs(found) do names[#names + 1] = string.format("%d '%s'", d.index, d.name) end
  error(string.format("'%s' matches several %ss: %s", query, what, table.concat(names, ", ")), 2)
end

---------------------------------------------------------------------------
-- Streams
---------------------------------------------------------------------------

-- Option value for direction dir (1 input, 2 output): a pair or a single value.
local function side(v, dir)
  if type(v) == "table" then return v[dir] end
  return v
end

local function latency_value(v, name)
  if v == nil or v == "high" then return -1 end
  if v == "low" then return -2 end
  if type(v) == "number" and v >= 0 then return v end
  error(string.format("%s must be \"low\", \"high\" or seconds >= 0, got %s", name, tostring(v)), 4)
end

local function open_stream(kind, o)
  o = o or {}
  if type(o) ~= "table" then error("bad argument #1 to '" .. kind .. "' (options table expected)", 3) end
  local def = ps.default
  local dirs = kind == "DuplexStream" and { 1, 2 } or kind == "InputStream" and { 1 } or { 2 }
  local p = { device = { -1, -1 }, channels = {}, format = {}, latency = {} }
  local rate
  for _, dir in ipairs(dirs) do
    local k = dir == 1 and "input" or "output"
    local q = side(o.device, dir)
    if q == nil then q = side(def.device, dir) end
    local d = ps.device(q, k)
    p.device[dir] = d.index
    local maxch = dir == 1 and d.max_input_channels or d.max_output_channels
    local ch = side(o.channels, dir) or side(def.channels, dir) or math.min(2, maxch)
    if math.type(ch) ~= "integer" or ch < 1 then
      error(string.format("%s channels must be an integer >= 1, got %s", k, tostring(ch)), 3)
    end
    p.channels[dir] = ch
    p.format[dir] = side(o.format, dir) or side(def.format, dir) or "float32"
    p.latency[dir] = latency_value(side(o.latency, dir) or side(def.latency, dir), k .. " latency")
    rate = rate or d.default_samplerate
  end
  p.samplerate = o.samplerate or def.samplerate or rate
  p.blocksize = o.blocksize or def.blocksize or 0
  p.dither = o.dither
  local s, err = core.Stream(p)
  if not s then error(err, 3) end
  s.buffersize = o.buffersize or def.buffersize
  if o.txmapping then s:set_txmap(o.txmapping) end
  if o.rxmapping then s:set_rxmap(o.rxmapping) end
  return s
end

local function constructor(kind)
  return setmetatable({}, {
    __call = function(_, o) return open_stream(kind, o) end,
    __tostring = function() return "pastream." .. kind end,
  })
end
ps.InputStream = constructor("InputStream")
ps.OutputStream = constructor("OutputStream")
ps.DuplexStream = constructor("DuplexStream")

--- Wait until the stream has finished (or timeout seconds pass).  Returns
-- true when finished, false on timeout.  An engine abort (BufferEmpty,
-- BufferFull, XRun) raises its message, with the frame count.
function Stream:wait(timeout)
  local deadline = timeout and uv.hrtime() / 1e6 + timeout * 1000
  while self.active do
    local left
    if deadline then
      left = deadline - uv.hrtime() / 1e6
      if left <= 0 then return false end
    end
    wait_engine(left)
  end
  local err = self:error()
  if not self.stopped then self:stop() end
  if err then error(err, 2) end
  return true
end

-- Frames the recording of a run will hold, or nil when unbounded.
local function record_length(frames, offset, source_frames, pad)
  if frames and frames >= 0 then return math.max(0, frames - offset) end
  if source_frames and pad >= 0 then return math.max(0, source_frames + pad - offset) end
  return nil
end

local function run_opts(o)
  return {
    frames = o.frames or -1, pad = o.pad or 0, offset = o.offset or 0,
    loop = o.loop, fatal_xruns = o.fatal_xruns, fill_gaps = o.fill_gaps,
  }
end

local function start_and_maybe_wait(self, o, result)
  self:start()
  if o.blocking == false then return result end
  self:wait()
  return result
end

--- Play a Buffer: stream:play(buf, {frames, pad, loop, blocking}).
function Stream:play(source, o)
  o = o or {}
  if getmetatable(source) ~= getmetatable(ps.Buffer(0)) then
    error("bad argument #1 to 'play' (Buffer expected, got " .. type(source) .. ")", 2)
  end
  self:configure(run_opts(o))
  self:set_txbuffer(source)
  if self.kind == "DuplexStream" then self:set_rxbuffer(nil) end
  return start_and_maybe_wait(self, o)
end

--- Record into a new Buffer: stream:record{frames, offset, out, blocking}.
-- `out` may be a Buffer to record into.  Returns the Buffer (all of it is
-- recorded unless the stream ended early; then :sub(1, stream.rx_frames)).
function Stream:record(o)
  o = o or {}
  local offset = o.offset or 0
  local n = record_length(o.frames, offset)
  local out = o.out
  if not out then
    if not n then error("record needs frames >= 0 (or out = a Buffer)", 2) end
    local fmt = self.kind == "DuplexStream" and self.format[1] or self.format
    out = ps.Buffer(n, self.rx_channels, fmt)
  end
  local ro = run_opts(o)
  if ro.frames < 0 then ro.frames = out:frames() + offset end
  self:configure(ro)
  if self.kind == "DuplexStream" then self:set_txbuffer(nil) end
  self:set_rxbuffer(out)
  return start_and_maybe_wait(self, o, out)
end

--- Play a Buffer and record at once: stream:playrec(buf, {frames, pad,
-- offset, out, loop, blocking}) -> recorded Buffer.
function Stream:playrec(source, o)
  o = o or {}
  if self.kind ~= "DuplexStream" then error("playrec needs a DuplexStream, this is an " .. self.kind, 2) end
  local offset = o.offset or 0
  local n = record_length(o.frames, offset, not o.loop and source:frames() or nil, o.pad or 0)
  local out = o.out
  if not out then
    if not n then error("playrec with no end needs frames >= 0 (or out = a Buffer)", 2) end
    out = ps.Buffer(n, self.rx_channels, self.format[1])
  end
  self:configure(run_opts(o))
  self:set_txbuffer(source)
  self:set_rxbuffer(out)
  return start_and_maybe_wait(self, o, out)
end

--- The round-trip latency of a duplex stream in frames, as PortAudio
-- reports it (input + output latency).
function Stream:roundtrip_frames()
  local lat = self.latency
  local total = type(lat) == "table" and lat[1] + lat[2] or lat
  return math.floor(total * self.samplerate + 0.5)
end

return ps
