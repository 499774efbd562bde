--- pastream.process: a live through-path for effects, s:process(body, opts).
-- init.lua installs it: process.install(ps).
--
-- Each input chunk of a DuplexStream goes to body(input, output, info) on
-- the Lua loop; what the body leaves in output is played a fixed time
-- later.  The frames cross the engine once each way: the receive ring is
-- read into the input Buffer, the output Buffer is written into the
-- transmit ring (no Lua FIFO, no source function in between).
--
-- The timing.  The transmit ring is "clocked" (PS_TX_CLOCKED in
-- src/engine.h): its frame i plays at stream frame i.  It starts with a
-- preroll of P = chunksize + margin frames of silence, so chunk k (input
-- stream frames kN .. kN+N-1) plays from stream frame kN + P.  At the
-- device, a frame therefore leaves the output P frames plus the round trip
-- after it entered the input: latency = roundtrip + chunksize + margin.
-- margin = block + slack: block, the most frames the callback moves at
-- once (the device's output latency, at least the blocksize: one JACK
-- period), because a chunk's last frame may arrive at the start of a block
-- whose output has already been handed over; slack, the time the body may
-- take (default one chunk, at least 10 ms).  A chunk whose output is
-- written within `slack` frames' time of its last input frame reaching the
-- stream is always on time; more often it has up to a block more.
--
-- Too slow (underrun): a chunk not in the ring when its frames are due
-- plays as silence, and those frames are counted (s.tx_lost, info.late);
-- when the chunk comes, its late frames are dropped and the rest plays on
-- time.  The latency never changes; the run goes on.  Input the body has
-- not read yet waits in the receive ring (buffersize frames): a body that
-- falls behind by more than that ends the run with BufferFull.
local core = require "pastream.core"
local run = require "pastream.run"
local wake = require "pastream.wake"
local task = require "pastream.task"

local process = {}

local function pick(v, i) if type(v) == "table" then return v[i] end return v end

local Stream = core.stream_methods
local c_stop, c_abort = Stream.stop, Stream.abort

--- process.plan(s, o) -> the timing of s:process(body, o) on stream s,
-- without running it: {chunksize, block, slack, margin, preroll,
-- roundtrip, latency} in frames.  Raises at `level` (as error's, seen
-- from plan's caller) on a bad option.
local function plan(s, o, level)
  level = level + 1                   -- as error()'s level, seen from plan's caller
  local n = o.chunksize
  if n == nil then n = s.blocksize > 0 and s.blocksize or 1024 end
  if math.type(n) ~= "integer" or n < 1 then
    error("chunksize must be an integer >= 1, got " .. tostring(n), level)
  end
  local rate = s.samplerate
  local slack = o.slack
  if slack == nil then slack = math.max(n, math.ceil(0.01 * rate)) end
  if math.type(slack) ~= "integer" or slack < 0 then
    error("slack must be an integer >= 0 (frames the body may take), got " .. tostring(slack), level)
  end
  local lat = s.latency
  local block = math.max(s.blocksize, math.ceil(pick(lat, 2) * rate - 1e-6), 1)
  local rt = o.roundtrip
  if rt == nil then
    local measured = Stream.measured_roundtrip   -- pastream.roundtrip, when loaded and run
    rt = measured and measured(s) or s:roundtrip_frames()
  end
  if math.type(rt) ~= "integer" or rt < 0 then
    error("roundtrip must be an integer >= 0 (frames), got " .. tostring(rt), level)
  end
  local margin = block + slack
  return { chunksize = n, block = block, slack = slack, margin = margin, preroll = n + margin,
           roundtrip = rt, latency = rt + n + margin, samplerate = rate }
end
process.plan = plan

function process.install(ps)
  --- s:process_plan([opts]) -> the timing s:process would have with these
  -- options (a table of frame counts; see process.plan).
  function Stream:process_plan(o)
    run.check(self, 2)
    if o ~= nil and type(o) ~= "table" then error("bad argument #1 to 'process_plan' (options table expected)", 2) end
    if self.kind ~= "DuplexStream" then error("process needs a DuplexStream, this is an " .. self.kind, 2) end
    return plan(self, o or {}, 2)
  end

  --- s:process(body [, {chunksize, slack, frames, roundtrip, out,
  -- overwrite}]) -> info
  -- body(input, output, info) gets every input chunk (exactly chunksize
  -- frames; the last may be shorter) and fills output (chunksize frames of
  -- the output channels, zeroed before each call).  It may instead return
  -- a Buffer of the same shape to play (the input, processed in place),
  -- or false to end the run after this chunk.  Runs until frames (the
  -- stream's frames, default -1: no end), the body's false, an error or a
  -- signal; blocks the calling task meanwhile.  out (or stream:to_file):
  -- a file that records the input, by the C disk thread.  info: the timing
  -- (process.plan) and the counts so far: chunks, late (frames played as
  -- silence because their chunk came too late).
  function Stream:process(body, o)
    local st = run.check(self, 2)
    if type(body) ~= "function" then
      error("bad argument #1 to 'process' (function expected, got " .. type(body) .. ")", 2)
    end
    if o ~= nil and type(o) ~= "table" then error("bad argument #2 to 'process' (options table expected)", 2) end
    o = run.with_defaults(o or {}, st)
    if self.kind ~= "DuplexStream" then error("process needs a DuplexStream, this is an " .. self.kind, 2) end
    if run.phase(self) == "running" then
      error("cannot process while the stream is running (stop it or wait for it first)", 2)
    end
    run.check_counts(o, 2)
    local out = o.out
    if out ~= nil and type(out) ~= "string" then
      error("out must be a file name (the recording of the input), got " .. type(out), 2)
    end
    local info = plan(self, o, 2)
    local n, preroll = info.chunksize, info.preroll
    info.chunks, info.late = 0, 0

    local rxch, txch = self.rx_channels, pick(self.channels, 2)
    local rxfmt, txfmt = pick(self.format, 1), pick(self.format, 2)
    local input = ps.Buffer(n, rxch, rxfmt)
    local output = ps.Buffer(n, txch, txfmt)
    -- the rings: the transmit ring holds the preroll and the chunks the
    -- body gets ahead by; the receive ring the input it has not read yet
    st.source, st.sink = nil, nil
    self:set_txbuffer(nil)
    self:set_rxbuffer(nil)
    self:open_txring(run.ring_frames(self, 2 * (preroll + n)), txch)
    self:reset_txring()
    -- a file name in out (or stream:to_file) records the input beside the
    -- body, by the disk thread; the body reads a copy (the tap)
    local file = out or (st.to_file and st.to_file.path) or nil
    local ring = run.ring_frames(self, 4 * n)
    if file then
      run.set_recording(self, st, { out = file, overwrite = o.overwrite, output_file = o.output_file })
      self:open_rxtap(ring)
    else
      self:open_rxtap(nil)
      self:open_rxring(ring)
    end
    local silence = ps.Buffer(math.min(preroll, 8192), txch, txfmt)
    local left = preroll
    while left > 0 do
      local k = math.min(left, silence:frames())
      self:write(silence, 1, k)
      left = left - k
    end
    run.before_start(self, st, self.configure, self,
      { frames = o.frames or -1, pad = 0, offset = 0, clocked = true, fatal_xruns = o.fatal_xruns, meter = o.meter })
    run.before_start(self, st, run.start, self, st, { prebuffer = false }, 4)
    run.commit_plan(self, st, 2)

    -- Play a chunk: into the transmit ring, waiting for room (the
    -- callback makes room every block).
    local function put(buf, frames)
      local at = 1
      while at <= frames and not self.ended do
        at = at + self:write(buf, at, frames - at + 1)
        if at <= frames then wake.wait() end
      end
    end

    local function loop()
      while true do
        -- ended first: the callback publishes the end after the frames,
        -- so what is there then is all there will be
        local ended = self.ended
        local avail = self:read_available()
        if file and self.tap_lost > 0 then
          error(string.format("the process body fell behind: %d input frames had no room in its buffer "
            .. "(buffersize %d; the recording %s has every frame)", self.tap_lost, ring, file), 0)
        end
        if avail >= n or (ended and avail > 0) then
          local k = math.min(n, avail)
          input:resize(k)
          output:resize(k)
          self:read(input)
          output:fill(0)
          local r = body(input, output, info)
          info.chunks = info.chunks + 1
          if r == false or self.closed then return end   -- (the body may close its stream)
          local play = output
          if r ~= nil then
            if not run.is_buffer(r) or r:channels() ~= txch or r:frames() ~= k or r:format() ~= txfmt then
              error(string.format("the process body returned %s; it must return nothing, false, or a Buffer "
                .. "of %d frames x %d channels %s to play", tostring(r), k, txch, txfmt), 0)
            end
            play = r
          end
          if not ended then put(play, k) end
          if self.closed then return end
          info.late = self.tx_lost
        elseif ended then
          return
        else
          wake.wait()
          if self.closed then return end
        end
      end
    end

    local ok, err = xpcall(loop, task.traceback)
    if self.closed then
      if not ok then run.raise(err, 2) end
      return info
    end
    info.late = self.tx_lost
    if not ok then
      pcall(c_abort, self)
      pcall(Stream.wait, self)        -- the run's end; the body's error is the one to tell
      run.raise(err, 2)
    end
    if not self.ended then pcall(c_stop, self) end
    local wok, werr = pcall(Stream.wait, self)
    info.late = self.tx_lost
    if not wok then run.raise(werr, 2) end
    return info
  end
end

return process
