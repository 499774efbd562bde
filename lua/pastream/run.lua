--- pastream.run: a stream's runs on the Lua side (start, wait, stop,
-- close; play, record, playrec; Lua sources and sinks and the pump that
-- feeds them).  init.lua installs these methods on the C core's stream
-- methods: run.install(ps).
--
-- Each stream has one state record here (never fields on the userdata):
--
--   phase    "idle" (made), "running" (started), "ended" (the engine moves
--            no more frames), "closed"
--   source   a Lua source: {fn, block, buf, ended, fill}
--   sink     a Lua sink: {fn, buf}
--   pump     the task that feeds the source and drains the sink while the
--            stream runs; the stream owns it: close cancels and so joins it
--   failure  the error of the source or sink, kept for whoever waits (a
--            wait, the chunk loop, or else close), delivered once
--   plan     the output-file plan of the run being set up (pastream.output)
--   to_file  the path, options and overwrite of stream:to_file
--
-- Every method checks the phase first and raises at its caller's level.
local uv = require "luv"
local core = require "pastream.core"
local task = require "pastream.task"
local wake = require "pastream.wake"
local output = require "pastream.output"
local errors = require "pastream.errors"

local run = {}

local Stream = core.stream_methods
local c_start, c_stop, c_abort, c_close = Stream.start, Stream.stop, Stream.abort, Stream.close

local states = setmetatable({}, { __mode = "k" })

--- run.state(s): the stream's state record (made on first use).
local function state(s)
  local st = states[s]
  if not st then
    st = { phase = "idle" }
    states[s] = st
  end
  return st
end
run.state = state

-- The phase, brought up to date with the engine and the C side (a stream
-- closed by core.terminate, or a run that has ended by itself).
local function phase(s, st)
  if st.phase ~= "closed" and s.closed then st.phase = "closed" end
  if st.phase == "running" and s.ended then st.phase = "ended" end
  return st.phase
end
run.phase = function(s) return phase(s, state(s)) end

-- The state of an open stream, for a method called by the user: level is
-- the method's caller, as for luaL_argerror.
local stream_mt = debug.getregistry()["pastream.Stream"]   -- src/lpastream.h, PS_STREAM

local function check(s, level)
  if getmetatable(s) ~= stream_mt then
    error("bad self (pastream stream expected, got " .. type(s) .. ")", level + 1)
  end
  local st = state(s)
  if phase(s, st) == "closed" then error("attempt to use a closed stream", level + 1) end
  return st
end
run.check = check

local function not_running(s, st, what, level)
  if phase(s, st) == "running" then
    error("cannot " .. what .. " while the stream is running (stop it or wait for it first)", level + 1)
  end
end

local buffer_mt = getmetatable(core.Buffer(0))
local function is_buffer(v) return getmetatable(v) == buffer_mt end
run.is_buffer = is_buffer

function run.install(ps)
  -------------------------------------------------------------------------
  -- The watchdog.  PortAudio does not always tell when a device goes away
  -- (its JACK host API never does): the callback just stops coming.  While
  -- any stream runs, a timer checks every 200 ms that its frame count
  -- moves; one that stands still for its watchdog time ends as a
  -- DeviceError (see _watchdog in src/lstream.c), which wakes whoever
  -- waits for it.
  -------------------------------------------------------------------------
  local watched, watch_timer = setmetatable({}, { __mode = "k" }), nil

  local watch_all = task.callback(function()
    local any = false
    for s in pairs(watched) do
      if not s.closed and s:_watchdog() == "running" then any = true else watched[s] = nil end
    end
    if not any then watch_timer:stop() end
  end)

  local function watch(s)
    watched[s] = true
    if not watch_timer then
      watch_timer = uv.new_timer()
      watch_timer:unref()           -- a watchdog alone keeps nothing alive
    end
    if not watch_timer:is_active() then watch_timer:start(200, 200, watch_all) end
  end

  -- Ring sizes: the stream's buffersize, doubled until at least `atleast`.
  local function ring_frames(s, atleast)
    local n = s.buffersize or ps.default.buffersize
    while n < (atleast or 0) do n = n * 2 end
    return n
  end
  run.ring_frames = ring_frames

  -------------------------------------------------------------------------
  -- Sources, sinks and the pump
  -------------------------------------------------------------------------

  -- Fill the transmit ring from the Lua source up to its fill level, or
  -- until the source ends.  The source's own errors propagate (the caller
  -- keeps them); a source that closes its own stream ends the filling.
  -- A source may yield (ps.sleep in it: the pump is a task); when it comes
  -- back, the run it was called for may be over: `run` is its number.
  local function fill_from_source(s, st, run)
    local src = st.source
    local buf = src.buf
    while not src.ended do
      if phase(s, st) == "closed" or st.run ~= run then return end
      local want = src.fill - (src.room - s:write_available())
      if want <= 0 then return end
      buf:resize(math.min(want, src.block))
      want = buf:frames()
      local ok, n = xpcall(src.fn, task.traceback, buf)
      if not ok then error(n, 0) end
      -- the source closed its stream, or yielded past the end of its run
      if phase(s, st) == "closed" or st.run ~= run then return end
      if n == nil then n = want end
      if math.type(n) ~= "integer" or n < 0 or n > want then
        error(string.format("the source returned %s; it must return the frames it wrote (0..%d)",
          tostring(n), want), 0)
      end
      if n > 0 then s:write(buf, 1, n) end
      if n < want then
        src.ended = true
        s:set_eof()
      end
    end
  end

  -- Drain the receive ring into the Lua sink.
  local function drain_to_sink(s, st)
    local sink = st.sink
    local buf = sink.buf
    while phase(s, st) ~= "closed" do
      local n = math.min(s:read_available(), buf:capacity())
      if n == 0 then return end
      buf:resize(n)
      s:read(buf)
      local ok, err = xpcall(sink.fn, task.traceback, buf)
      if not ok then error(err, 0) end
    end
  end

  -- The task that keeps a Lua source fed and a Lua sink drained while the
  -- stream runs; it wakes on the engine's signal, never on a timer.  An
  -- error in the source or sink aborts the stream and is kept in
  -- st.failure for whoever waits for the stream (once).
  local function pump(s, st, run)
    local ok, err = xpcall(function()
      while phase(s, st) ~= "closed" and st.run == run do
        local ended = s.ended
        if st.source and not st.source.ended then fill_from_source(s, st, run) end
        if st.sink and phase(s, st) ~= "closed" then drain_to_sink(s, st) end
        if ended then break end
        wake.wait()
      end
    end, task.traceback)
    if not ok and st.run == run then
      st.failure = err
      if not s.closed then pcall(c_abort, s) end
      wake.kick()                     -- whoever waits looks at st.failure
    end
  end

  -- The source's or sink's error, once: it is delivered to one caller.
  local function take_failure(st)
    local err = st.failure
    st.failure = nil
    return err
  end
  run.take_failure = take_failure

  -- After the run's end: the sink has had its last frames (the pump has
  -- ended), the stream is stopped and its files are finished, whatever
  -- failed on the way.  Returns the first error, or nil.
  local function finish_run(s, st)
    local p = st.pump
    if p and p.state == "running" and task.current() ~= p then
      if not st.sink and coroutine.status(p.co) == "suspended" then
        p:cancel()                    -- a source's run is over: nothing to wait for
      else
        wake.kick()
        p:join()                      -- the sink's last frames; never raises
      end
    end
    local err = take_failure(st)
    if phase(s, st) == "closed" then return err end
    err = err or errors.from_engine(s:error(), s)
    if not s.stopped then
      local ok, serr = pcall(c_stop, s)
      if not ok then err = err or serr end
    end
    local ok, fok, ferr = pcall(s.finish_files, s)
    if not ok then err = err or fok
    elseif not fok then err = err or ferr end
    if st.phase == "running" then st.phase = "ended" end
    return err
  end

  --- run.stop_all(): stop every running stream and finish its files (the
  -- first SIGINT/SIGTERM, before the script hears of it).
  function run.stop_all()
    for s, st in pairs(states) do
      if phase(s, st) == "running" then
        pcall(c_stop, s)
        pcall(s.finish_files, s)
      end
    end
    wake.kick()
  end

  --- run.engine_error(s) -> the engine's error of the run as an Error, or nil.
  function run.engine_error(s)
    return errors.from_engine(s:error(), s)
  end

  --- s:set_source(fn [, {blocksize, fill}]): fn(buf) is called on the loop
  -- thread to fill the next part of the transmit ring; it writes buf
  -- (frames x the output channels, reused between calls) and returns how
  -- many frames it wrote (nil: all of them).  Fewer than buf:frames() ends
  -- the source.  nil removes the source.  The source is kept `fill` frames
  -- ahead of the output: by default four times the output latency the
  -- stream has (the `latency` asked for) plus its blocksize, at least 0.1 s.
  function Stream:set_source(fn, o)
    local st = check(self, 2)
    not_running(self, st, "change the source", 2)
    if fn == nil then st.source = nil; self:close_rings("tx"); return end
    if type(fn) ~= "function" then error("bad argument #1 to 'set_source' (function expected, got " .. type(fn) .. ")", 2) end
    if self.kind == "InputStream" then error("an InputStream has no output for a source", 2) end
    o = o or {}
    if o.blocksize ~= nil and (math.type(o.blocksize) ~= "integer" or o.blocksize < 1) then
      error("blocksize must be an integer >= 1, got " .. tostring(o.blocksize), 2)
    end
    if o.fill ~= nil and (math.type(o.fill) ~= "integer" or o.fill < 1) then
      error("fill must be an integer >= 1 (frames), got " .. tostring(o.fill), 2)
    end
    local ch = self.kind == "DuplexStream" and self.channels[2] or self.channels
    local fmt = self.kind == "DuplexStream" and self.format[2] or self.format
    local frames = ring_frames(self, 2 * math.max(o.blocksize or 0, o.fill or 0))
    local lat = self.latency
    if type(lat) == "table" then lat = lat[2] end
    -- (never less than 0.1 s: PortAudio's "high" latency on JACK is one
    -- period, and a source in Lua must ride out the loop's own stalls)
    local fill = o.fill or math.max(math.ceil(0.1 * self.samplerate),
                                    4 * (math.ceil(lat * self.samplerate) + self.blocksize))
    fill = math.min(fill, frames)
    local block = o.blocksize or math.max(256, fill // 2)
    self:set_txbuffer(nil)
    self:open_txring(frames, ch, true)   -- the pump calls set_eof at its end
    st.source = { fn = fn, block = block, buf = ps.Buffer(block, ch, fmt), fill = fill, room = frames }
  end

  --- s:set_sink(fn [, {blocksize}]): fn(buf) is called on the loop thread
  -- with the frames received since the last call (buf is reused: copy it to
  -- keep it).  nil removes the sink.
  function Stream:set_sink(fn, o)
    local st = check(self, 2)
    not_running(self, st, "change the sink", 2)
    if fn == nil then st.sink = nil; return end
    if type(fn) ~= "function" then error("bad argument #1 to 'set_sink' (function expected, got " .. type(fn) .. ")", 2) end
    if self.kind == "OutputStream" then error("an OutputStream has no input for a sink", 2) end
    o = o or {}
    local frames = ring_frames(self, 2 * (o.blocksize or 0))
    self:set_rxbuffer(nil)
    self:open_rxtap(nil)
    self:open_rxring(frames)
    local fmt = self.kind == "DuplexStream" and self.format[1] or self.format
    st.sink = { fn = fn, buf = ps.Buffer(o.blocksize or frames, self.rx_channels, fmt) }
  end

  -- Start a run that is set up (level: the user's call).
  local function start(s, st, o, level)
    o = o or {}
    not_running(s, st, "start", level + 1)
    -- the pump of an earlier run, still in a source that yielded: closed
    local p = st.pump
    if p and p.state == "running" and coroutine.status(p.co) == "suspended" then p:cancel() end
    st.run = (st.run or 0) + 1
    st.failure = nil
    st.aborted = nil
    if st.source then
      st.source.ended = false
      s:reset_txring()
      st.source.room = s:write_available()   -- the empty ring's room: filled = room - available
      local pre = o.prebuffer
      if math.type(pre) == "integer" and pre >= 0 then
        -- prebuffer = N: that many frames before the device starts
        local fill = st.source.fill
        st.source.fill = math.min(pre, st.source.room)
        local ok, err = pcall(fill_from_source, s, st, st.run)
        st.source.fill = fill
        if not ok then error(err, 0) end
      elseif pre ~= false and pre ~= nil and pre ~= true then
        error("prebuffer must be true, false or frames >= 0, got " .. tostring(pre), level + 1)
      elseif pre ~= false then
        fill_from_source(s, st, st.run)
      end
    end
    c_start(s)
    st.phase = "running"
    watch(s)
    st.pump = (st.source or st.sink) and task.spawn(pump, s, st, st.run) or nil
  end

  --- Start the stream.  With a Lua source, the transmit ring is filled to
  -- the source's fill level first unless prebuffer = false.
  function Stream:start(o)
    local st = check(self, 2)
    if o ~= nil and type(o) ~= "table" then
      error("bad argument #1 to 'start' (options table or nil expected, got " .. type(o) .. ")", 2)
    end
    start(self, st, o, 2)
  end

  -- Wait for the end of the run; returns true, false on timeout, or nil
  -- and the error (the source's or sink's, a file's, or the engine's).
  local function wait_end(s, st, timeout)
    local deadline = timeout and uv.hrtime() / 1e6 + timeout * 1000
    local file_err
    while phase(s, st) == "running" and not st.failure do
      local left
      if deadline then
        left = deadline - uv.hrtime() / 1e6
        if left <= 0 then return false end
      end
      wake.wait(left)
      file_err = not s.closed and s:file_error() or nil
      if file_err then pcall(c_abort, s) break end
    end
    local err = finish_run(s, st)
    err = file_err or err
    if err then return nil, err end
    return true
  end

  -- Raise an error of a run at `level`: one that has its traceback (a
  -- source's or sink's) is raised as it is, so it has one position and one
  -- traceback.
  local function raise(err, level)
    if type(err) ~= "string" or err:find("\nstack traceback:", 1, true) then error(err, 0) end
    error(err, level + 1)
  end
  run.raise = raise

  --- Wait until the stream has finished (or timeout seconds pass).  Returns
  -- true when finished, false on timeout.  An engine abort (BufferEmpty,
  -- BufferFull, XRun), a file's error or a Lua source's or sink's error is
  -- raised, once.
  function Stream:wait(timeout)
    local st = check(self, 2)
    if timeout ~= nil and (type(timeout) ~= "number" or not (timeout >= 0)) then
      error("bad argument #1 to 'wait' (seconds >= 0 or nil expected, got "
            .. (type(timeout) == "number" and tostring(timeout) or type(timeout)) .. ")", 2)
    end
    local ok, err = wait_end(self, st, timeout)
    if ok == nil then raise(err, 2) end
    return ok
  end

  --- s:stop(): let the buffers drain, then stop.  s:abort() drops them.
  -- Whoever waits for the stream (and its pump) wakes and finishes the run.
  function Stream:stop()
    check(self, 2)
    c_stop(self)
    wake.kick()
  end
  function Stream:abort()
    local st = check(self, 2)
    c_abort(self)
    if phase(self, st) ~= "idle" then st.aborted = true end
    wake.kick()
  end

  --- s:close(): stop the stream at once and release it; files are
  -- finished.  The pump is closed (joined) first; a source's or sink's
  -- error that nobody has taken yet is raised here, once.  Safe to call
  -- twice.  __close is this function too.
  local function close(s)
    local st = states[s]
    local err
    if st and st.phase ~= "closed" then
      st.phase = "closed"
      local p = st.pump
      if p and p.state == "running" and coroutine.status(p.co) == "suspended" then p:cancel() end
      -- (closed from inside its own source or sink: the pump sees the phase
      -- when that function returns, and ends)
      err = take_failure(st)
      if st.plan then output.discard(st.plan) st.plan = nil end
    end
    c_close(s)
    wake.kick()                       -- a task waiting for it sees it closed
    if err then raise(err, 2) end
  end
  Stream.close = close
  stream_mt.__close = close           -- __gc stays the C close: no Lua from the collector
  -- `ended` on a closed stream is true (the C side answers only `closed`);
  -- frames, pad and offset set on the stream are the next runs' defaults
  local c_index, c_newindex = stream_mt.__index, stream_mt.__newindex
  local run_keys = { frames = true, pad = true, offset = true }
  local sizes = { float32 = 4, int32 = 4, int24 = 3, int16 = 2, int8 = 1, uint8 = 1 }
  -- Properties the Lua side knows better, or adds (as pastream has them).
  local derived = {
    -- true after abort(), as in pastream (the engine says "stopped")
    aborted = function(s, st)
      if st and st.aborted and not c_index(s, "closed") then return true end
    end,
    -- a stream never started is "idle", not "running"
    status = function(s, st)
      if st and st.phase == "idle" and not c_index(s, "closed") then return "idle" end
    end,
    isduplex = function(s) if not c_index(s, "closed") then return c_index(s, "kind") == "DuplexStream" end end,
    -- the device's name ({input, output} on a duplex stream): the one
    -- lookup the recipes used to repeat
    device_name = function(s)
      if c_index(s, "closed") then return nil end
      local devs, d = core.devices(), c_index(s, "device")
      local function name(i) return devs[i + 1] and devs[i + 1].name or tostring(i) end
      if type(d) == "table" then return { name(d[1]), name(d[2]) } end
      return name(d)
    end,
    -- bytes per sample ({input, output} on a duplex stream)
    samplesize = function(s)
      if c_index(s, "closed") then return nil end
      local f = c_index(s, "format")
      if type(f) == "table" then return { sizes[f[1]], sizes[f[2]] } end
      return sizes[f]
    end,
  }
  stream_mt.__index = function(s, k)
    if run_keys[k] then
      local st = states[s]
      local d = st and st.defaults
      if d and d[k] ~= nil then return d[k] end
    end
    local extra = derived[k]
    if extra then
      local r = extra(s, states[s])
      if r ~= nil then return r end
    end
    local v = c_index(s, k)
    if v == nil and k == "ended" then return c_index(s, "closed") end
    return v
  end

  -- Properties that cannot lie: a read-only property, a method or a
  -- misspelled key is an error that names it (assigning used to store a
  -- plain field that shadowed the real value).  Settable: txmapping,
  -- rxmapping, buffersize, and frames, pad, offset (the next runs' defaults).
  local readonly = {}
  for k in ([[active stopped finished ended aborted status frame_count tx_frames rx_frames
      tx_lost rx_lost tap_lost input_underflows input_overflows output_underflows output_overflows
      xruns cpu_load time samplerate blocksize channels device latency format rx_peak tx_peak
      rx_channels kind loop closed isduplex samplesize device_name settle]]):gmatch("%S+") do readonly[k] = true end
  local settable = { txmapping = true, rxmapping = true, buffersize = true,
                     frames = true, pad = true, offset = true }

  local function distance(a, b)
    local prev = {}
    for j = 0, #b do prev[j] = j end
    for i = 1, #a do
      local cur = { [0] = i }
      for j = 1, #b do
        local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
        cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      end
      prev = cur
    end
    return prev[#b]
  end

  local function suggest(k)
    local best, bd = nil, math.huge
    local function try(name)
      local d = distance(k, name)
      if d < bd then best, bd = name, d end
    end
    for name in pairs(readonly) do try(name) end
    for name in pairs(settable) do try(name) end
    for name in pairs(Stream) do if type(name) == "string" and name:sub(1, 1) ~= "_" then try(name) end end
    if bd <= (#k < 5 and 1 or 2) then return best end
  end

  stream_mt.__newindex = function(s, k, v)
    if run_keys[k] then
      local st = check(s, 2)
      if v ~= nil and (math.type(v) ~= "integer" or (k == "offset" and v < 0)) then
        error(string.format("%s must be an integer%s, got %s", k, k == "offset" and " >= 0" or "",
          tostring(v)), 2)
      end
      st.defaults = st.defaults or {}
      st.defaults[k] = v
      return
    end
    if k == "buffersize" then
      if math.type(v) ~= "integer" or v < 256 or v & (v - 1) ~= 0 then
        error("buffersize must be a power of two, got " .. tostring(v) .. " (at least 256 frames)", 2)
      end
      return c_newindex(s, k, v)
    end
    if settable[k] then return c_newindex(s, k, v) end
    if type(k) ~= "string" then error("a stream's fields are named by strings, got " .. type(k), 2) end
    if readonly[k] then error("'" .. k .. "' is a read-only property of a stream", 2) end
    if Stream[k] ~= nil then error("'" .. k .. "' is a method of a stream; it cannot be assigned", 2) end
    local s2 = suggest(k)
    error("a stream has no field '" .. k .. "'" .. (s2 and (" (did you mean '" .. s2 .. "'?)") or
      " (settable: txmapping, rxmapping, buffersize, frames, pad, offset)"), 2)
  end
  run.close = close

  -------------------------------------------------------------------------
  -- play, record, playrec
  -------------------------------------------------------------------------

  -- Frames the recording of a run will hold, or nil when unbounded.  As in
  -- pastream, frames does not count pad: a run is frames + pad long (pad
  -- < 0 pads out to frames), and offset counts in it.
  local function record_length(frames, offset, source_frames, pad)
    pad = pad or 0
    if frames and frames >= 0 then return math.max(0, frames + math.max(pad, 0) - offset) end
    if source_frames and pad >= 0 then return math.max(0, source_frames + pad - offset) end
    return nil
  end

  --- run.check_counts(o, level): frames, pad and offset of a run, checked:
  -- each names itself and what it accepts; raised at `level`.
  local function check_counts(o, level)
    local function int(name, v, min, what)
      if v ~= nil and (math.type(v) ~= "integer" or v < min) then
        error(string.format("%s must be %s, got %s", name, what,
          type(v) == "number" and tostring(v) or type(v) .. " " .. tostring(v)), level + 2)
      end
    end
    int("frames", o.frames, math.mininteger, "an integer (-1: no end)")
    int("pad", o.pad, math.mininteger, "an integer (-1: pad out to frames, or forever)")
    int("offset", o.offset, 0, "an integer >= 0")
  end
  run.check_counts = check_counts

  -- The run's options with the stream's own frames, pad and offset (set
  -- on the stream: s.frames = N) where the call gives none.
  local function with_defaults(o, st)
    local d = st.defaults
    if not d then return o end
    local r = {}
    for k, v in pairs(o) do r[k] = v end
    for k, v in pairs(d) do if r[k] == nil then r[k] = v end end
    return r
  end
  run.with_defaults = with_defaults

  local function run_opts(o, source)
    return {
      frames = o.frames or -1, pad = o.pad or 0, offset = o.offset or 0,
      -- a Buffer loops in the callback; a file's disk thread loops itself
      loop = o.loop and (source == nil or is_buffer(source)), fatal_xruns = o.fatal_xruns,
      fill_gaps = o.fill_gaps, meter = o.meter,
    }
  end
  run.run_opts = run_opts

  -- Run fn(); if it fails before the stream has started, a recording file
  -- this run made is removed (an overwritten one keeps its old content).
  local function before_start(s, st, fn, ...)
    local ok, err = pcall(fn, ...)
    if not ok then
      local plan = st.plan
      if plan then
        st.plan = nil
        pcall(c_abort, s)
        pcall(s.finish_files, s)
        output.discard(plan)
        err = output.rename_msg(plan, err)
      end
      error(err, 0)
    end
  end
  run.before_start = before_start

  local function start_and_maybe_wait(s, st, o, result)
    -- Nothing on the Lua side moves frames in this run: wake it at the end only.
    if not (st.source or st.sink) then s:_set_quiet(true) end
    before_start(s, st, start, s, st, o, 4)
    local plan = st.plan
    st.plan = nil
    if plan then
      local ok, err = output.commit(plan)
      if not ok then
        pcall(c_abort, s)
        pcall(s.finish_files, s)
        output.discard(plan)
        error(plan.final .. ": cannot replace it: " .. tostring(err), 3)
      end
      -- the next runs of to_file rewrite the file this one made
      if st.to_file and st.to_file.path == plan.final then st.to_file.overwrite = true end
    end
    if o.blocking == false then return result end
    local ok, err = wait_end(s, st)
    if ok == nil then raise(err, 3) end
    return result
  end

  -- Set up the playback side for play/playrec/chunks: a Buffer plays from
  -- the callback directly, a function becomes a Lua source, a string is a
  -- file read by a disk thread.
  local function set_playback(s, st, source, fname, o, level)
    if is_buffer(source) then
      st.source = nil
      s:set_txbuffer(source)
    elseif type(source) == "function" then
      local ok, err = pcall(Stream.set_source, s, source, o and o.source)
      if not ok then error(err, level + 1) end
    elseif type(source) == "string" then
      st.source = nil
      s:set_txbuffer(nil)
      local fo = {}
      for k, v in pairs(o and o.input_file or {}) do fo[k] = v end
      fo.loop = o and o.loop
      local ok, err = s:attach_reader(source, ring_frames(s), fo)
      if not ok then error(err, level + 1) end
    else
      error(string.format("bad argument #1 to '%s' (Buffer, function or file name expected, got %s)",
        fname, type(source)), level + 1)
    end
  end
  run.set_playback = set_playback

  -- No playback on a duplex stream (record, chunks without playback).
  local function no_playback(s, st)
    if s.kind == "DuplexStream" then
      st.source = nil
      s:set_txbuffer(nil)
      s:close_rings("tx")
    end
  end
  run.no_playback = no_playback

  --- Play a Buffer, a file or a Lua source function:
  -- stream:play(source, {frames, pad, loop, blocking, fatal_xruns, prebuffer}).
  function Stream:play(source, o)
    local st = check(self, 2)
    o = with_defaults(o or {}, st)
    if self.kind == "InputStream" then error("play needs an output: this is an InputStream", 2) end
    not_running(self, st, "play", 2)
    check_counts(o, 2)
    set_playback(self, st, source, "play", o, 2)
    if self.kind == "DuplexStream" then
      st.sink = nil
      self:set_rxbuffer(nil)
      self:close_rings("rx")
    end
    self:configure(run_opts(o, source))
    return start_and_maybe_wait(self, st, o)
  end

  -- The receiving side for record/playrec: a Buffer (given, or made for a
  -- bounded run), a sink function or a file.  Returns the Buffer, if any.
  local function set_recording(s, st, o, n, source)
    st.plan = nil
    if s.kind ~= "OutputStream" then s:open_rxtap(nil) end   -- no copy for a chunk loop
    local tf = st.to_file
    local out = o.out
    if out == nil and tf then out = tf.path end
    if type(out) == "function" then
      s:set_sink(out)
      return nil
    end
    st.sink = nil
    if type(out) == "string" then
      local fo = o.output_file
      if tf and tf.path == out then fo = fo or tf.opts end
      local overwrite = o.overwrite
      if overwrite == nil and tf and tf.path == out then overwrite = tf.overwrite end
      local ok, plan = pcall(output.prepare, out, { overwrite = overwrite, inputs = { source } })
      if not ok then error(plan, 3) end
      local wo = {}
      for k, v in pairs(fo or {}) do wo[k] = v end
      if plan.temp and wo.type == nil then wo.type = plan.type end
      local good, err
      good, ok, err = pcall(s.attach_writer, s, plan.path, ring_frames(s), wo)
      if not good or not ok then
        output.discard(plan)
        error(output.rename_msg(plan, tostring(good and err or ok)), 3)
      end
      st.plan = plan
      return nil
    end
    if out == nil then
      if not n then error("a recording with no end needs frames >= 0 (or out = a Buffer or function)", 3) end
      local fmt = s.kind == "DuplexStream" and s.format[1] or s.format
      out = ps.Buffer(n, s.rx_channels, fmt)
    elseif not is_buffer(out) then
      error("out must be a Buffer or a function, got " .. type(out) .. " (or a file name)", 3)
    end
    s:set_rxbuffer(out)
    return out
  end

  run.set_recording = set_recording
  run.start = start

  -- After the start of a run that records to a file: the file takes its
  -- name (an overwritten one only now).  Raises at level on failure.
  local function commit_plan(s, st, level)
    local plan = st.plan
    st.plan = nil
    if not plan then return end
    local ok, err = output.commit(plan)
    if not ok then
      pcall(c_abort, s)
      pcall(s.finish_files, s)
      output.discard(plan)
      error(plan.final .. ": cannot replace it: " .. tostring(err), level + 1)
    end
    if st.to_file and st.to_file.path == plan.final then st.to_file.overwrite = true end
  end
  run.commit_plan = commit_plan

  --- Record: stream:record{frames, offset, out, overwrite, blocking, fatal_xruns}.
  -- out may be a Buffer to record into, a sink function or a file name; by
  -- default a Buffer of frames - offset frames is made and returned.  A file
  -- that exists is refused unless overwrite = true (ps.prepare_output).
  function Stream:record(o)
    local st = check(self, 2)
    o = with_defaults(o or {}, st)
    if self.kind == "OutputStream" then error("record needs an input: this is an OutputStream", 2) end
    not_running(self, st, "record", 2)
    check_counts(o, 2)
    local offset = o.offset or 0
    no_playback(self, st)
    local out = set_recording(self, st, o, record_length(o.frames, offset, nil, o.pad))
    local ro = run_opts(o)
    -- a Buffer to fill and no frames: the run fills it (as pastream: len(out) + offset)
    if ro.frames < 0 and out then ro.frames = math.max(0, out:frames() + offset - math.max(ro.pad, 0)) end
    before_start(self, st, self.configure, self, ro)
    return start_and_maybe_wait(self, st, o, out)
  end

  --- Play and record at once: stream:playrec(source, {frames, pad, offset,
  -- out, loop, blocking}) -> the recorded Buffer (unless out is a function
  -- or a file).
  function Stream:playrec(source, o)
    local st = check(self, 2)
    o = with_defaults(o or {}, st)
    if self.kind ~= "DuplexStream" then error("playrec needs a DuplexStream, this is an " .. self.kind, 2) end
    not_running(self, st, "playrec", 2)
    check_counts(o, 2)
    set_playback(self, st, source, "playrec", o, 2)
    local n = record_length(o.frames, o.offset or 0,
      (is_buffer(source) and not o.loop) and source:frames() or nil, o.pad or 0)
    local out = set_recording(self, st, o, n, source)
    before_start(self, st, self.configure, self, run_opts(o, source))
    return start_and_maybe_wait(self, st, o, out)
  end

  --- Record the next runs to a file: stream:to_file(path, {type, subtype,
  -- endian, overwrite}); "-" is stdout.  nil stops recording to a file.
  function Stream:to_file(path, o)
    local st = check(self, 2)
    if path ~= nil and type(path) ~= "string" then
      error("bad argument #1 to 'to_file' (file name expected, got " .. type(path) .. ")", 2)
    end
    st.to_file = path and { path = path, opts = o, overwrite = o and o.overwrite } or nil
    return self
  end
end

return run
