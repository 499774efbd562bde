--- pastream.chunks: chunk iterators, live (stream:chunks, ps.chunks) and
-- offline (file:chunks, ps.chunks{input = ...}).  init.lua installs them:
-- chunks.install(ps).
--
-- Each iterator returns a to-be-closed value (as io.lines does), so that a
-- break or an error still stops the stream, or finishes the output file.
local core = require "pastream.core"
local run = require "pastream.run"
local wake = require "pastream.wake"
local output = require "pastream.output"

local chunks = {}

local Stream = core.stream_methods
local SoundFile = core.soundfile_methods
local c_abort = Stream.abort

function chunks.install(ps)
  -- Stops the stream of a chunk loop on break or error (closes it when the
  -- loop made it).  A source's error that the loop has not raised yet is
  -- raised by close.
  local chunk_closer = { __close = function(c)
    local s = c.stream
    if not s or s.closed then return end
    if c.own then
      run.close(s)
    else
      if s.active then pcall(c_abort, s) end
      local st = run.state(s)
      local p = st.pump
      if p and p.state == "running" and coroutine.status(p.co) == "suspended" then p:cancel() end
      pcall(s.finish_files, s)
      if st.phase == "running" then st.phase = "ended" end
      local err = run.take_failure(st)
      if err then run.raise(err, 2) end
    end
  end }

  --- for chunk [, last] in stream:chunks{chunksize, overlap, frames, pad,
  -- offset, playback, loop, out} do ... end
  -- Yields the received audio in chunks of exactly chunksize frames (the last
  -- may be shorter, and then `last` is true); with overlap, each chunk starts
  -- with the previous chunk's last `overlap` frames.  The chunk Buffer is
  -- reused: :copy() one to keep it.  chunksize 0 (and blocksize 0) yields
  -- whatever has arrived.  playback: a Buffer, file or source function
  -- played at the same time.  out: a Buffer to use as the chunk.  An error
  -- of the playback source ends the loop with that error.
  function Stream:chunks(o)
    local st = run.check(self, 2)
    o = o or {}
    if type(o) ~= "table" then error("bad argument #1 to 'chunks' (options table expected)", 2) end
    o = run.with_defaults(o, st)
    if self.kind == "OutputStream" then error("chunks needs an input: this is an OutputStream", 2) end
    if run.phase(self) == "running" then
      error("cannot start a chunk loop while the stream is running (stop it or wait for it first)", 2)
    end
    run.check_counts(o, 2)
    local chunksize = o.chunksize or self.blocksize or 0
    local overlap = o.overlap or 0
    if math.type(chunksize) ~= "integer" or chunksize < 0 then
      error("chunksize must be an integer >= 0, got " .. tostring(chunksize), 2)
    end
    if math.type(overlap) ~= "integer" or overlap < 0 or (overlap > 0 and overlap >= chunksize) then
      error(string.format("overlap must be 0..chunksize-1 (chunksize %d), got %s", chunksize, tostring(overlap)), 2)
    end
    local out = o.out
    if out ~= nil and type(out) ~= "string" and not run.is_buffer(out) then
      error("out must be a file name (the recording) or a Buffer (the chunk), got " .. type(out), 2)
    end
    -- a file name in out (or stream:to_file) records the input beside the loop
    local file = type(out) == "string" and out or (out == nil and st.to_file and st.to_file.path) or nil
    local fmt = self.kind == "DuplexStream" and self.format[1] or self.format
    local ring = run.ring_frames(self, 2 * chunksize)
    local chunk = run.is_buffer(out) and out or ps.Buffer(chunksize > 0 and chunksize or ring, self.rx_channels, fmt)
    if o.playback ~= nil then
      if self.kind ~= "DuplexStream" then error("playback needs a DuplexStream", 2) end
      run.set_playback(self, st, o.playback, "chunks", o, 2)
    else
      run.no_playback(self, st)
    end
    st.sink = nil
    self:set_rxbuffer(nil)
    if file then
      -- the recording's disk thread drains the receive ring into the file;
      -- the loop reads a copy (the tap), so the loop body never slows it
      run.set_recording(self, st, { out = file, overwrite = o.overwrite, output_file = o.output_file },
        nil, type(o.playback) == "string" and o.playback or nil)
      self:open_rxtap(ring)
    else
      self:open_rxtap(nil)
      self:open_rxring(ring)
    end
    run.before_start(self, st, self.configure, self, run.run_opts(o, o.playback))
    run.before_start(self, st, run.start, self, st, o, 4)
    run.commit_plan(self, st, 2)

    local step = chunksize - overlap
    local first = true
    local done = false
    -- The received frames a chunk's overlap repeats, kept apart from the
    -- chunk: the loop body may process the chunk in place.
    local tail = overlap > 0 and ps.Buffer(overlap, chunk:channels(), chunk:format()) or nil
    local function keep_tail()
      if tail and chunk:frames() >= overlap then tail:copyfrom(chunk, 1, chunk:frames() - overlap + 1, overlap) end
    end
    local function next_chunk()
      if done then return nil end
      -- closed inside its own loop: the loop ends
      if self.closed then done = true return nil end
      local want = first and chunksize or step
      while true do
        local err = run.take_failure(st)   -- the playback source failed
        if err then done = true run.raise(err, 2) end
        if file and not self.closed then
          local lost = self.tap_lost
          if lost > 0 then
            done = true
            error(string.format("the chunk loop fell behind: %d frames had no room in its buffer "
              .. "(buffersize %d; the recording %s has every frame)", lost, ring, file), 2)
          end
        end
        local avail = self:read_available()
        if chunksize == 0 then
          if avail > 0 then
            chunk:resize(math.min(avail, chunk:capacity()))
            self:read(chunk)
            return chunk, nil, self
          end
        elseif avail >= want then
          chunk:resize(chunksize)
          if not first and overlap > 0 then chunk:copyfrom(tail, 1, 1, overlap) end
          self:read(chunk, chunksize - want + 1, want)
          first = false
          keep_tail()
          return chunk, nil, self
        end
        if self.ended then
          -- the stream has ended: what is left is the last chunk
          done = true
          if self.closed then return nil end
          avail = self:read_available()
          err = run.take_failure(st) or run.engine_error(self)
          if err then run.raise(err, 2) end
          if avail == 0 then return nil end
          local keep = first and 0 or overlap
          chunk:resize(keep + avail)
          if keep > 0 then chunk:copyfrom(tail, 1, 1, keep) end
          self:read(chunk, keep + 1, avail)
          return chunk, true, self
        end
        wake.wait()
      end
    end
    return next_chunk, nil, nil, setmetatable({ stream = self }, chunk_closer)
  end

  -------------------------------------------------------------------------
  -- Offline: sound files read and written directly
  -------------------------------------------------------------------------

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

  --- for chunk [, last] in file:chunks{chunksize, overlap, frames, out,
  -- overwrite} do ... end
  -- The offline twin of stream:chunks: exact chunks of a file as float32
  -- Buffers (reused), as fast as the disk allows.  out: a SoundFile or path
  -- that gets each chunk's new frames (not the overlap) after the loop body
  -- has processed it in place.  A path is written by the output policy
  -- (pastream.output): the file takes its name when the loop ends normally
  -- (or by break), and an error in the loop leaves what was there before.
  function SoundFile:chunks(o)
    o = o or {}
    if type(o) ~= "table" then error("bad argument #1 to 'chunks' (options table expected)", 2) end
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
      local ok, p = pcall(output.prepare, out, { overwrite = o.overwrite, inputs = { file_paths[self] } })
      if not ok then error(p, 2) end
      plan = p
      local err
      out, err = core.open(plan.path, "w", { samplerate = self.samplerate, channels = self.channels,
                                             type = o.out_type or plan.type, subtype = o.out_subtype })
      if not out then
        output.discard(plan)
        error(output.rename_msg(plan, err), 2)
      end
    end
    local chunk = o.buffer or ps.Buffer(chunksize, self.channels)
    local first, done, pending = true, false, nil
    -- the file's frames a chunk's overlap repeats, apart from the chunk,
    -- which the loop body may process in place
    local tail = overlap > 0 and ps.Buffer(overlap, chunk:channels(), chunk:format()) or nil
    local function flush()
      if out and pending then out:write(chunk, pending[1], pending[2]) end
      pending = nil
    end
    local function next_chunk()
      flush()
      if done then return nil end
      local keep = first and 0 or overlap
      chunk:resize(chunksize)
      if keep > 0 then chunk:copyfrom(tail, 1, 1, keep) end
      local want = math.min(chunksize - keep, left)
      local got = want > 0 and self:read(chunk, keep + 1, want) or 0
      left = left - got
      first = false
      if tail and keep + got >= overlap then tail:copyfrom(chunk, 1, keep + got - overlap + 1, overlap) end
      if got < chunksize - keep then
        done = true
        if got == 0 then return nil end
        chunk:resize(keep + got)
        pending = { keep + 1, got }
        return chunk, true, self
      end
      pending = { keep + 1, got }
      return chunk, nil, self
    end
    local closer = setmetatable({}, { __close = function(_, err)
      pending = nil                   -- a chunk the loop body did not finish
      if out and out ~= o.out then out:close() end
      if not plan then return end
      if err == nil and not first then
        -- the loop ended normally (or by break): the new file takes its name
        local ok, cerr = output.commit(plan)
        if not ok then
          output.discard(plan)
          error(plan.final .. ": cannot replace it: " .. tostring(cerr), 2)
        end
      else
        output.discard(plan)          -- an error, or never iterated: keep what was there
      end
    end })
    -- the last chunk is written when the loop asks for the next one
    return next_chunk, nil, nil, closer
  end

  --- for chunk in ps.chunks{device, channels, samplerate, ..., chunksize,
  -- overlap, frames, playback, ...} do ... end: opens its own stream (a
  -- DuplexStream when playback is given, else an InputStream) and closes it
  -- when the loop ends, by break or error too.  With input = PATH, the
  -- chunks of that file (file:chunks).
  function ps.chunks(o)
    o = o or {}
    if type(o) ~= "table" then error("bad argument #1 to 'chunks' (options table expected)", 2) end
    if o.input then                   -- offline: chunks of a file
      local f, err = ps.open(o.input, "r", o.input_file)
      if not f then error(err, 2) end
      local ok, iter, _, _, closer = pcall(f.chunks, f, o)
      if not ok then f:close() error(iter, 2) end
      local mt = getmetatable(closer)
      local close_out = mt.__close
      mt.__close = function(c, e)
        local cok, cerr = pcall(close_out, c, e)
        f:close()
        if not cok then error(cerr, 0) end
      end
      return iter, nil, nil, closer
    end
    local s = run.open_stream(o.playback ~= nil and "DuplexStream" or "InputStream", o, 3)
    local ok, iter, _, _, closer = pcall(s.chunks, s, o)
    if not ok then run.close(s) error(iter, 2) end   -- a bad option leaves no stream open
    closer.own = true
    return iter, nil, nil, closer
  end
end

return chunks
