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
-- An explicit write: an existing file is replaced (recordings, out = ...,
-- are not: they need overwrite = true).
ps.save = core.save
--- Read a whole sound file: returns a float32 Buffer and the sample rate,
-- or nil and a message.
ps.load = core.load

local Stream = core.stream_methods

---------------------------------------------------------------------------
-- Tasks (lua/pastream/task.lua: they need no audio, so that scripts run by
-- pastream-lua that never require "pastream" never load this core)
---------------------------------------------------------------------------

local task = require "pastream.task"
local suspend = task.suspend

ps.spawn = task.spawn
ps.yield = task.yield
ps.sleep = task.sleep
ps.run = task.run
ps.main = task.main

-- SIGINT/SIGTERM: ps.on_signal, when a script sets it, handles the signal
-- instead; otherwise every stream is stopped and closed (files finalized)
-- before the loop ends with 128 + signo.
task.on_terminate(function(name)
  if ps.on_signal then ps.on_signal(name) return true end
  core.terminate()
end)

-- The engine's wake-up: one fd for every stream, one poll handle watching
-- it while anybody waits.  A wake-up runs once per period while a chunk
-- loop waits, so this path allocates nothing and makes one system call
-- (the eventfd read) besides the loop's own epoll_wait: the two lists are
-- swapped rather than made anew, and the poll handle is left started while
-- waiters come back (starting it again would remove and re-add the fd).
local waiters, spare, wake_poll = {}, {}, nil

local function on_wake()
  core.clear_wake()
  local list = waiters
  waiters, spare = spare, list
  for i = 1, #list do
    local w = list[i]
    list[i] = nil
    w(true)
  end
  if #waiters == 0 then wake_poll:stop() end
end

local function add_waiter(w)
  waiters[#waiters + 1] = w
  if not wake_poll:is_active() then wake_poll:start("r", on_wake) end
end

-- Suspend until the engine signals anything, or timeout_ms passes.
-- Returns true when woken by the engine.
local function wait_engine(timeout_ms)
  if not wake_poll then wake_poll = uv.new_poll(core.wake_fd()) end
  if not timeout_ms then return suspend(add_waiter) end
  return suspend(function(wake)
    local timer, fired = uv.new_timer(), false
    local function once(v)
      if fired then return end
      fired = true
      timer:close()
      wake(v)
    end
    timer:start(math.max(0, math.ceil(timeout_ms)), 0, function()
      for i, w in ipairs(waiters) do
        if w == once then table.remove(waiters, i) break end
      end
      if #waiters == 0 then wake_poll:stop() end   -- nobody left: let the loop end
      once(false)
    end)
    add_waiter(once)
  end)
end
ps._wait_engine = wait_engine

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
  watchdog = 1,          -- seconds without a callback before a running stream
                         -- ends as a DeviceError (false: never)
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
-- Output files: never replace what is there unless asked
---------------------------------------------------------------------------

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

--- ps.prepare_output(path, {overwrite, inputs}) -> plan for writing `path`:
-- {path = what to open, final = path, temp = true|nil, created = true|nil}.
-- Raises when path is a directory, the same file as one of `inputs`, or an
-- existing regular file without overwrite.  With overwrite, the plan
-- writes a temporary file beside it (".NAME.XXXXXX.partial"), which
-- ps.commit_output renames over path once the stream has started, so the
-- old file survives anything that fails before.  "-", character devices and
-- FIFOs are written in place and are never "existing files".
function ps.prepare_output(path, o)
  o = o or {}
  if type(path) ~= "string" or path == "" then
    error("output file name expected, got " .. (path == "" and "an empty string" or type(path)), 2)
  end
  if path == "-" then return { path = path, final = path } end
  local st = uv.fs_stat(path)
  for _, input in ipairs(o.inputs or {}) do
    if type(input) == "string" and input ~= "-" and same_file(path, input) then
      error(string.format("%s is the same file as the input %s: choose another output file", path, input), 2)
    end
  end
  if not st then
    -- the file is new: a failed start removes it again
    local dir = path:match("^(.*)/[^/]*$")
    if dir and dir ~= "" then
      local ds = uv.fs_stat(dir)
      if not ds then error(path .. ": directory " .. dir .. " does not exist", 2) end
      if ds.type ~= "directory" then error(path .. ": " .. dir .. " is not a directory", 2) end
    end
    return { path = path, final = path, created = true }
  end
  if st.type == "directory" then error(path .. " is a directory, not a file", 2) end
  if st.type ~= "file" then return { path = path, final = path } end
  if not o.overwrite then error(path .. " exists; pass overwrite = true to replace it", 2) end
  local dir, base = path:match("^(.*/)([^/]*)$")
  dir, base = dir or "", base or path
  local why
  for _ = 1, 20 do
    local tmp = string.format("%s.%s.%s.partial", dir, base, random_tag())
    local fd, err = uv.fs_open(tmp, "wx", st.mode & 511)
    if fd then
      uv.fs_close(fd)
      return { path = tmp, final = path, temp = true, type = core.type_from_name(path) }
    end
    why = err
    if not tostring(err):find("EEXIST", 1, true) then break end
  end
  error(string.format("%s: cannot create a temporary file beside it to record into (%s)", path, why), 2)
end

--- ps.commit_output(plan): the stream has started: a temporary file takes
-- the final name.  Returns true, or nil and a message.
function ps.commit_output(plan)
  if not plan or plan.committed then return true end
  if plan.temp then
    local ok, err = os.rename(plan.path, plan.final)
    if not ok then return nil, err end
  end
  plan.committed = true
  return true
end

--- ps.discard_output(plan): nothing was recorded: remove a temporary file,
-- or a file this run created; an existing file stays as it was.
function ps.discard_output(plan)
  if plan and not plan.committed and (plan.temp or plan.created) then
    os.remove(plan.path)
  end
end

-- A message about the temporary file, told about the file the user named.
local function rename_msg(plan, msg)
  if plan and plan.temp then
    local s, e = msg:find(plan.path, 1, true)
    while s do
      msg = msg:sub(1, s - 1) .. plan.final .. msg:sub(e + 1)
      s, e = msg:find(plan.path, s + #plan.final, true)
    end
  end
  return msg
end
ps._rename_msg = rename_msg

--- How many streams are open (made and not yet closed).
ps.stream_count = core.stream_count

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
  local ok, merr = pcall(function()
    s.buffersize = o.buffersize or def.buffersize
    local wd = o.watchdog
    if wd == nil then wd = def.watchdog end
    if wd == false then wd = 0 end
    if type(wd) ~= "number" or wd < 0 then
      error("watchdog must be seconds > 0 or false, got " .. tostring(wd), 0)
    end
    if wd > 0 then
      -- never less than a few of the stream's own buffers
      local lat = s.latency
      if type(lat) == "table" then lat = math.max(lat[1], lat[2]) end
      wd = math.max(wd, 4 * (lat + p.blocksize / p.samplerate))
    end
    s:_watchdog(wd)
    if o.txmapping then s:set_txmap(o.txmapping) end
    if o.rxmapping then s:set_rxmap(o.rxmapping) end
  end)
  if not ok then
    s:close()                       -- a bad option leaves no stream open
    error(merr, 3)
  end
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

local c_start, c_stop, c_abort = Stream.start, Stream.stop, Stream.abort

-- The watchdog.  PortAudio does not always tell when a device goes away
-- (its JACK host API never does): the callback just stops coming.  While
-- any stream runs, a timer checks every 200 ms that its frame count moves;
-- one that stands still for its watchdog time ends as a DeviceError (see
-- _watchdog in src/lstream.c), which wakes whoever waits for it.
local watched, watch_timer = setmetatable({}, { __mode = "k" }), nil

local function watch_all()
  local any = false
  for s in pairs(watched) do
    if s:_watchdog() == "running" then any = true else watched[s] = nil end
  end
  if not any then watch_timer:stop() end
end

local function watch(self)
  watched[self] = true
  if not watch_timer then
    watch_timer = uv.new_timer()
    watch_timer:unref()           -- a watchdog alone keeps nothing alive
  end
  if not watch_timer:is_active() then watch_timer:start(200, 200, watch_all) end
end
local c_close = Stream.close

-- Ring sizes: the stream's buffersize, doubled until at least `atleast`.
local function ring_frames(self, atleast)
  local n = self.buffersize or ps.default.buffersize
  if math.type(n) ~= "integer" or n < 1 or n & (n - 1) ~= 0 then
    error("buffersize must be a power of two, got " .. tostring(n), 3)
  end
  while n < (atleast or 0) do n = n * 2 end
  return n
end

local buffer_mt = getmetatable(core.Buffer(0))
local function is_buffer(v) return getmetatable(v) == buffer_mt end

-- Call a user function from a source/sink/chunk loop; on error stop the
-- stream first, then raise the error with its traceback.
local function guarded(self, fn, ...)
  local ok, a = xpcall(fn, debug.traceback, ...)
  if not ok then
    pcall(c_abort, self)
    error(a, 0)
  end
  return a
end

-- Fill the transmit ring from the Lua source until it is full or the
-- source ends.  Returns false once the source has ended.
local function fill_from_source(self)
  local src = self._source
  local buf = src.buf
  while not src.ended do
    local room = self:write_available()
    if room == 0 then return true end
    buf:resize(math.min(room, src.block))
    local want = buf:frames()
    local n = guarded(self, src.fn, buf)
    if n == nil then n = want end
    if math.type(n) ~= "integer" or n < 0 or n > want then
      pcall(c_abort, self)
      error(string.format("the source returned %s; it must return the frames it wrote (0..%d)",
        tostring(n), want), 0)
    end
    if n > 0 then self:write(buf, 1, n) end
    if n < want then
      src.ended = true
      self:set_eof()
    end
  end
  return false
end

-- Drain the receive ring into the Lua sink.
local function drain_to_sink(self)
  local sink = self._sink
  local buf = sink.buf
  while true do
    local n = math.min(self:read_available(), buf:capacity())
    if n == 0 then return end
    buf:resize(n)
    self:read(buf)
    guarded(self, sink.fn, buf)
  end
end

--- s:set_source(fn [, {blocksize}]): fn(buf) is called on the loop thread
-- to fill the next part of the transmit ring; it writes buf (frames x the
-- output channels, reused between calls) and returns how many frames it
-- wrote (nil: all of them).  Fewer than buf:frames() ends the source.
-- nil removes the source.
function Stream:set_source(fn, o)
  if fn == nil then self._source = nil; self:close_rings("tx"); return end
  if type(fn) ~= "function" then error("bad argument #1 to 'set_source' (function expected)", 2) end
  if self.kind == "InputStream" then error("an InputStream has no output for a source", 2) end
  o = o or {}
  local ch = self.kind == "DuplexStream" and self.channels[2] or self.channels
  local fmt = self.kind == "DuplexStream" and self.format[2] or self.format
  local frames = ring_frames(self, 2 * (o.blocksize or 0))
  self:set_txbuffer(nil)
  self:open_txring(frames, ch)
  local block = o.blocksize or math.max(256, frames // 4)
  self._source = { fn = fn, block = block, buf = ps.Buffer(block, ch, fmt) }
end

--- s:set_sink(fn [, {blocksize}]): fn(buf) is called on the loop thread
-- with the frames received since the last call (buf is reused: copy it to
-- keep it).  nil removes the sink.
function Stream:set_sink(fn, o)
  if fn == nil then self._sink = nil; return end
  if type(fn) ~= "function" then error("bad argument #1 to 'set_sink' (function expected)", 2) end
  if self.kind == "OutputStream" then error("an OutputStream has no input for a sink", 2) end
  o = o or {}
  local frames = ring_frames(self, 2 * (o.blocksize or 0))
  self:set_rxbuffer(nil)
  self:open_rxring(frames)
  local fmt = self.kind == "DuplexStream" and self.format[1] or self.format
  self._sink = { fn = fn, buf = ps.Buffer(o.blocksize or frames, self.rx_channels, fmt) }
end

-- The task that keeps a Lua source fed and a Lua sink drained while the
-- stream runs; it wakes on the engine's signal, never on a timer.  An
-- error in the source or sink (the stream is aborted by then) goes to
-- whoever waits for the stream; with nobody waiting it ends the program.
local function pump(self)
  local ok, err = pcall(function()
    while true do
      local ended = self.ended
      if self._source and not self._source.ended then fill_from_source(self) end
      if self._sink then drain_to_sink(self) end
      if ended then break end
      wait_engine()
    end
  end)
  if not ok then
    if not self._waiting then error(err, 0) end
    self._pump_error = err
  end
end

--- Start the stream.  With a Lua source, the transmit ring is filled first
-- unless prebuffer = false.
function Stream:start(o)
  o = o or {}
  if self._source then
    self._source.ended = false
    self:reset_txring()
    if o.prebuffer ~= false then fill_from_source(self) end
  end
  c_start(self)
  watch(self)
  if self._source or self._sink then ps.spawn(pump, self) end
end

-- Wait for the end of the stream; returns true, false on timeout, or nil
-- and the engine's message when it aborted.
local function wait_end(self, timeout)
  local deadline = timeout and uv.hrtime() / 1e6 + timeout * 1000
  local file_err
  self._waiting = true
  while not self.ended do
    local left
    if deadline then
      left = deadline - uv.hrtime() / 1e6
      if left <= 0 then self._waiting = nil return false end
    end
    wait_engine(left)
    file_err = self:file_error()
    if file_err then c_abort(self) break end
  end
  self._waiting = nil
  local pump_err = self._pump_error
  self._pump_error = nil
  if self._sink and not pump_err then drain_to_sink(self) end
  local err = pump_err or self:error()
  if not self.stopped then c_stop(self) end
  local ok, ferr = self:finish_files()
  err = file_err or (not ok and ferr) or err
  if err then return nil, err end
  return true
end

--- Wait until the stream has finished (or timeout seconds pass).  Returns
-- true when finished, false on timeout.  An engine abort (BufferEmpty,
-- BufferFull, XRun) raises its message, with the frame count.
function Stream:wait(timeout)
  local ok, err = wait_end(self, timeout)
  if ok == nil then error(err, 2) end
  return ok
end

-- Frames the recording of a run will hold, or nil when unbounded.
local function record_length(frames, offset, source_frames, pad)
  if frames and frames >= 0 then return math.max(0, frames - offset) end
  if source_frames and pad >= 0 then return math.max(0, source_frames + pad - offset) end
  return nil
end

-- frames, pad and offset of a run, checked: each names itself and what it accepts.
local function check_counts(o)
  local function int(name, v, min, what)
    if v ~= nil and (math.type(v) ~= "integer" or v < min) then
      error(string.format("%s must be %s, got %s", name, what,
        type(v) == "number" and tostring(v) or type(v) .. " " .. tostring(v)), 4)
    end
  end
  int("frames", o.frames, math.mininteger, "an integer (-1: no end)")
  int("pad", o.pad, math.mininteger, "an integer (-1: pad out to frames, or forever)")
  int("offset", o.offset, 0, "an integer >= 0")
end

local function run_opts(o, source)
  check_counts(o)
  return {
    frames = o.frames or -1, pad = o.pad or 0, offset = o.offset or 0,
    -- a Buffer loops in the callback; a file's disk thread loops itself
    loop = o.loop and (source == nil or is_buffer(source)), fatal_xruns = o.fatal_xruns,
    fill_gaps = o.fill_gaps, meter = o.meter,
  }
end

-- Run fn(); if it fails before the stream has started, a recording file
-- this run made is removed (an overwritten one keeps its old content).
local function before_start(self, fn, ...)
  local ok, err = pcall(fn, ...)
  if not ok then
    local plan = self._out_plan
    if plan then
      self._out_plan = nil
      pcall(c_abort, self)
      pcall(self.finish_files, self)
      ps.discard_output(plan)
      err = rename_msg(plan, tostring(err))
    end
    error(err, 0)
  end
end

local function start_and_maybe_wait(self, o, result)
  -- Nothing on the Lua side moves frames in this run: wake it at the end only.
  if not (self._source or self._sink) then self:_set_quiet(true) end
  -- waited for from the start: an error of the pump goes to this caller
  self._waiting = o.blocking ~= false or nil
  before_start(self, self.start, self, o)
  local plan = self._out_plan
  self._out_plan = nil
  if plan then
    local ok, err = ps.commit_output(plan)
    if not ok then
      pcall(c_abort, self)
      pcall(self.finish_files, self)
      ps.discard_output(plan)
      error(plan.final .. ": cannot replace it: " .. tostring(err), 3)
    end
    -- the next runs of to_file rewrite the file this one made
    if self._to_file == plan.final then self._to_file_overwrite = true end
  end
  if o.blocking == false then return result end
  local ok, err = wait_end(self)
  if ok == nil then error(err, 3) end
  return result
end

-- Set up the playback side for play/playrec: a Buffer plays from the
-- callback directly, a function becomes a Lua source.
local function set_playback(self, source, fname, o)
  if is_buffer(source) then
    self._source = nil
    self:set_txbuffer(source)
  elseif type(source) == "function" then
    self:set_source(source)
  elseif type(source) == "string" then
    self._source = nil
    self:set_txbuffer(nil)
    local fo = {}
    for k, v in pairs(o and o.input_file or {}) do fo[k] = v end
    fo.loop = o and o.loop
    local ok, err = self:attach_reader(source, ring_frames(self), fo)
    if not ok then error(err, 3) end
  else
    error(string.format("bad argument #1 to '%s' (Buffer, function or file name expected, got %s)",
      fname, type(source)), 3)
  end
end

--- Play a Buffer or a Lua source function:
-- stream:play(source, {frames, pad, loop, blocking, fatal_xruns}).
function Stream:play(source, o)
  o = o or {}
  if self.kind == "InputStream" then error("play needs an output: this is an InputStream", 2) end
  check_counts(o)
  set_playback(self, source, "play", o)
  if self.kind == "DuplexStream" then
    self._sink = nil
    self:set_rxbuffer(nil)
    self:close_rings("rx")
  end
  self:configure(run_opts(o, source))
  return start_and_maybe_wait(self, o)
end

-- The receiving side for record/playrec: a Buffer (given, or made for a
-- bounded run) or a sink function.  Returns the Buffer, if any.
local function set_recording(self, o, n, source)
  self._out_plan = nil
  local out = o.out or self._to_file
  if type(out) == "function" then
    self:set_sink(out)
    return nil
  end
  self._sink = nil
  if type(out) == "string" then
    local fo = o.output_file
    if self._to_file == out then fo = fo or self._to_file_opts end
    local overwrite = o.overwrite
    if overwrite == nil and self._to_file == out then overwrite = self._to_file_overwrite end
    local ok, plan = pcall(ps.prepare_output, out, { overwrite = overwrite, inputs = { source } })
    if not ok then error(plan, 3) end
    local wo = {}
    for k, v in pairs(fo or {}) do wo[k] = v end
    if plan.temp and wo.type == nil then wo.type = plan.type end
    local good, err
    good, ok, err = pcall(self.attach_writer, self, plan.path, ring_frames(self), wo)
    if not good or not ok then
      ps.discard_output(plan)
      error(rename_msg(plan, tostring(good and err or ok)), 3)
    end
    self._out_plan = plan
    return nil
  end
  if out == nil then
    if not n then error("a recording with no end needs frames >= 0 (or out = a Buffer or function)", 3) end
    local fmt = self.kind == "DuplexStream" and self.format[1] or self.format
    out = ps.Buffer(n, self.rx_channels, fmt)
  elseif not is_buffer(out) then
    error("out must be a Buffer or a function, got " .. type(out), 3)
  end
  self:set_rxbuffer(out)
  return out
end

--- Record: stream:record{frames, offset, out, overwrite, blocking, fatal_xruns}.
-- out may be a Buffer to record into, a sink function or a file name; by
-- default a Buffer of frames - offset frames is made and returned.  A file
-- that exists is refused unless overwrite = true (ps.prepare_output).
function Stream:record(o)
  o = o or {}
  if self.kind == "OutputStream" then error("record needs an input: this is an OutputStream", 2) end
  check_counts(o)
  local offset = o.offset or 0
  if self.kind == "DuplexStream" then
    self._source = nil
    self:set_txbuffer(nil)
    self:close_rings("tx")
  end
  local out = set_recording(self, o, record_length(o.frames, offset))
  local ro = run_opts(o)
  if ro.frames < 0 and out then ro.frames = out:frames() + offset end
  before_start(self, self.configure, self, ro)
  return start_and_maybe_wait(self, o, out)
end

--- Play and record at once: stream:playrec(source, {frames, pad, offset,
-- out, loop, blocking}) -> the recorded Buffer (unless out is a function).
function Stream:playrec(source, o)
  o = o or {}
  if self.kind ~= "DuplexStream" then error("playrec needs a DuplexStream, this is an " .. self.kind, 2) end
  check_counts(o)
  set_playback(self, source, "playrec", o)
  local n = record_length(o.frames, o.offset or 0,
    (is_buffer(source) and not o.loop) and source:frames() or nil, o.pad or 0)
  local out = set_recording(self, o, n, source)
  before_start(self, self.configure, self, run_opts(o, source))
  return start_and_maybe_wait(self, o, out)
end

--- Record the next runs to a file: stream:to_file(path, {type, subtype,
-- endian}); "-" is stdout.  nil stops recording to a file.
function Stream:to_file(path, o)
  if path ~= nil and type(path) ~= "string" then
    error("bad argument #1 to 'to_file' (file name expected, got " .. type(path) .. ")", 2)
  end
  self._to_file, self._to_file_opts = path, o
  self._to_file_overwrite = o and o.overwrite
end

--- Information about a sound file: {samplerate, channels, frames, type,
-- subtype, endian, seekable}, or nil and a message.  RAW files need
-- {samplerate, channels, subtype}.
ps.file_info = core.file_info

--- The file types and subtypes this libsndfile writes: {wav = {"pcm_16", ...}, ...}.
ps.formats = core.formats

--- A DuplexStream whose samplerate and (output) channels come from a file.
function ps.DuplexStream.from_file(path, o)
  local info, err = core.file_info(path, o and o.input_file)
  if not info then error(err, 2) end
  local opts = {}
  for k, v in pairs(o or {}) do opts[k] = v end
  opts.samplerate = opts.samplerate or info.samplerate
  if opts.channels == nil then
    local din = ps.device(side(opts.device, 1), "input")
    opts.channels = { math.min(info.channels, din.max_input_channels), info.channels }
  end
  return ps.DuplexStream(opts)
end

---------------------------------------------------------------------------
-- Chunk iterators
---------------------------------------------------------------------------

-- Closes (stops) the stream of a chunk loop on break or error.
local chunk_closer = { __close = function(c)
  if c.stream and not c.stream.closed then
    if c.stream.active then pcall(c_abort, c.stream) end
    if c.own then c_close(c.stream) end
  end
end }

--- for chunk [, last] in stream:chunks{chunksize, overlap, frames, pad,
-- offset, playback, loop, out} do ... end
-- Yields the received audio in chunks of exactly chunksize frames (the last
-- may be shorter, and then `last` is true); with overlap, each chunk starts
-- with the previous chunk's last `overlap` frames.  The chunk Buffer is
-- reused: :copy() one to keep it.  chunksize 0 (and blocksize 0) yields
-- whatever has arrived.  playback: a Buffer or source function played at
-- the same time.  out: a Buffer to use as the chunk.
function Stream:chunks(o)
  o = o or {}
  if self.kind == "OutputStream" then error("chunks needs an input: this is an OutputStream", 2) end
  local chunksize = o.chunksize or self.blocksize or 0
  local overlap = o.overlap or 0
  if math.type(chunksize) ~= "integer" or chunksize < 0 then
    error("chunksize must be an integer >= 0, got " .. tostring(chunksize), 2)
  end
  if math.type(overlap) ~= "integer" or overlap < 0 or (overlap > 0 and overlap >= chunksize) then
    error(string.format("overlap must be 0..chunksize-1 (chunksize %d), got %s", chunksize, tostring(overlap)), 2)
  end
  local fmt = self.kind == "DuplexStream" and self.format[1] or self.format
  local ring = ring_frames(self, 2 * chunksize)
  local chunk = o.out or ps.Buffer(chunksize > 0 and chunksize or ring, self.rx_channels, fmt)
  if o.playback ~= nil then
    if self.kind ~= "DuplexStream" then error("playback needs a DuplexStream", 2) end
    set_playback(self, o.playback, "chunks", o)
  elseif self.kind == "DuplexStream" then
    self._source = nil
    self:set_txbuffer(nil)
    self:close_rings("tx")
  end
  self._sink = nil
  self:set_rxbuffer(nil)
  self:open_rxring(ring)
  self:configure(run_opts(o))
  self:start(o)

  local step = chunksize - overlap
  local first = true
  local done = false
  local function next_chunk()
    if done then return nil end
    if self.closed then return nil end   -- closed inside its own loop: the loop ends
    local want = first and chunksize or step
    while true do
      local avail = self:read_available()
      if chunksize == 0 then
        if avail > 0 then
          chunk:resize(math.min(avail, chunk:capacity()))
          self:read(chunk)
          return chunk
        end
      elseif avail >= want then
        if not first and overlap > 0 then
          chunk:copyfrom(chunk, 1, step + 1, overlap)
        end
        chunk:resize(chunksize)
        self:read(chunk, chunksize - want + 1, want)
        first = false
        return chunk
      end
      if self.ended then
        -- the stream has ended: what is left is the last chunk
        avail = self:read_available()
        done = true
        local err = self:error()
        if err then error(err, 2) end
        if avail == 0 then return nil end
        local keep = first and 0 or overlap
        if keep > 0 then chunk:copyfrom(chunk, 1, step + 1, keep) end
        chunk:resize(keep + avail)
        self:read(chunk, keep + 1, avail)
        return chunk, true
      end
      wait_engine()
    end
  end
  return next_chunk, nil, nil, setmetatable({ stream = self }, chunk_closer)
end

---------------------------------------------------------------------------
-- Offline: sound files read and written directly
---------------------------------------------------------------------------

--- ps.open(path [, "r"|"w" [, {type, subtype, endian, samplerate,
-- channels}]]) -> a SoundFile (read/write/seek/close/chunks, and samplerate,
-- channels, frames, type, subtype), or nil and a message.
-- Writing this way is an explicit write: an existing file is replaced
-- (as ps.save does).  Recordings (out = ...) never replace one unless asked.
local file_paths = setmetatable({}, { __mode = "k" })
function ps.open(path, ...)
  local f, err = core.open(path, ...)
  if f then file_paths[f] = path end
  return f, err
end
local SoundFile = core.soundfile_methods

--- for chunk [, last] in file:chunks{chunksize, overlap, frames, out} do ... end
-- The offline twin of stream:chunks: exact chunks of a file as float32
-- Buffers (reused), as fast as the disk allows.  out: a SoundFile or path
-- that gets each chunk's new frames (not the overlap) after the loop body
-- has processed it in place.
function SoundFile:chunks(o)
  o = o or {}
  local chunksize = o.chunksize or 1024
  local overlap = o.overlap or 0
  if math.type(chunksize) ~= "integer" or chunksize < 1 then
    error("chunksize must be an integer >= 1, got " .. tostring(chunksize), 2)
  end
  if math.type(overlap) ~= "integer" or overlap < 0 or overlap >= chunksize then
    error(string.format("overlap must be 0..chunksize-1 (chunksize %d), got %s", chunksize, tostring(overlap)), 2)
  end
  if o.frames ~= nil and math.type(o.frames) ~= "integer" then
    error("frames must be an integer (-1: to the end), got " .. tostring(o.frames), 2)
  end
  local left = (o.frames and o.frames >= 0) and o.frames or math.huge
  local out, plan = o.out, nil
  if type(out) == "string" then
    local ok, p = pcall(ps.prepare_output, out, { overwrite = o.overwrite, inputs = { file_paths[self] } })
    if not ok then error(p, 2) end
    plan = p
    local err
    out, err = core.open(plan.path, "w", { samplerate = self.samplerate, channels = self.channels,
                                           type = o.out_type or plan.type, subtype = o.out_subtype })
    if not out then
      ps.discard_output(plan)
      error(rename_msg(plan, err), 2)
    end
  end
  local chunk = o.buffer or ps.Buffer(chunksize, self.channels)
  local step = chunksize - overlap
  local first, done, pending = true, false, nil
  local function flush()
    if out and pending then out:write(chunk, pending[1], pending[2]) end
    pending = nil
  end
  local function next_chunk()
    if plan and not plan.committed then
      -- the iteration has begun: a temporary output takes the final name
      local ok, err = ps.commit_output(plan)
      if not ok then error(plan.final .. ": cannot replace it: " .. tostring(err), 2) end
    end
    flush()
    if done then return nil end
    local keep = first and 0 or overlap
    if keep > 0 then chunk:copyfrom(chunk, 1, chunk:frames() - keep + 1, keep) end
    local want = math.min(chunksize - keep, left)
    chunk:resize(chunksize)
    local got = want > 0 and self:read(chunk, keep + 1, want) or 0
    left = left - got
    first = false
    if got < chunksize - keep then
      done = true
      if got == 0 then return nil end
      chunk:resize(keep + got)
      pending = { keep + 1, got }
      return chunk, true
    end
    pending = { keep + 1, got }
    return chunk
  end
  local closer = setmetatable({}, { __close = function()
    pending = nil
    if out and out ~= o.out then out:close() end
    ps.discard_output(plan)           -- never iterated: nothing to keep
  end })
  -- the last chunk is written when the loop asks for the next one
  return next_chunk, nil, nil, closer
end

--- for chunk in ps.chunks{device, channels, samplerate, ..., chunksize,
-- overlap, frames, playback, ...} do ... end: opens its own stream (a
-- DuplexStream when playback is given, else an InputStream) and closes it
-- when the loop ends, by break or error too.
function ps.chunks(o)
  o = o or {}
  if o.input then                   -- offline: chunks of a file
    local f, err = ps.open(o.input, "r", o.input_file)
    if not f then error(err, 2) end
    local ok, iter, _, _, closer = pcall(f.chunks, f, o)
    if not ok then f:close() error(iter, 2) end
    local mt = getmetatable(closer)
    local close_out = mt.__close
    mt.__close = function(c) close_out(c); f:close() end
    return iter, nil, nil, closer
  end
  local s = o.playback ~= nil and ps.DuplexStream(o) or ps.InputStream(o)
  local ok, iter, _, _, closer = pcall(s.chunks, s, o)
  if not ok then c_close(s) error(iter, 2) end   -- a bad option leaves no stream open
  closer.own = true
  return iter, nil, nil, closer
end

--- The round-trip latency of a duplex stream in frames, as PortAudio
-- reports it (input + output latency).
function Stream:roundtrip_frames()
  local lat = self.latency
  local total = type(lat) == "table" and lat[1] + lat[2] or lat
  return math.floor(total * self.samplerate + 0.5)
end

--- DSP helpers on float32 Buffers (src/ldsp.c): ps.dsp.window, apply_window,
-- fft_magnitude, rfft, Biquad, to_db, from_db, gain_db, mix; and the
-- methods buf:apply_window(win), buf:gain_db(db).
ps.dsp = core.dsp

--- Pictures as PNG files (lua/pastream/picture.lua): ps.spectrogram(src, o), ps.waveform(src, o).
function ps.spectrogram(src, o) return require("pastream.picture").spectrogram(src, o) end
function ps.waveform(src, o) return require("pastream.picture").waveform(src, o) end

return ps
