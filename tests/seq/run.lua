-- Run one sequence of steps (tests/seq/gen.lua) in this process, keep a
-- model of every stream, and check the invariants after each step.  The
-- child side of tests/lua/test_sequences.lua; it prints, line by line:
--   step K: CODE              before step K runs (a crash leaves it last)
--   -> ok | -> error: MSG     what the step did
--   VIOLATION K: TEXT         an invariant that does not hold
--   terminal-file PATH MIN    before a step that may end the program: the
--                             recording at PATH must hold >= MIN frames
--   done                      the sequence ran to its end
local ps = require "pastream"
local core = require "pastream.core"
local uv = require "luv"
local H = require "seq.helpers"

local R = {}

-- The calls that start a run.
local op_runs = { start = true, play = true, playrec = true, record = true, chunks = true }

local function out(fmt, ...)
  io.stdout:write(string.format(fmt, ...), "\n")
  io.stdout:flush()
end

-- An error a script can act on names what went wrong; the Lua VM's own
-- messages about nil values mean the library tripped over its own state.
local UNCLEAR = {
  "attempt to index", "attempt to call", "attempt to concatenate",
  "attempt to perform arithmetic", "attempt to compare", "attempt to get length",
  "bad argument #%d+ to '%?'", "table index is nil", "stack overflow",
  "cannot resume", "attempt to yield", "invalid key to 'next'",
}
function R.unclear(err)
  -- the engine's errors are values (err.kind, tostring(err) the message)
  local mt = type(err) == "table" and getmetatable(err)
  if mt and mt.__tostring and err.kind then err = tostring(err) end
  if type(err) ~= "string" then return "an error that is not a string (" .. type(err) .. ")" end
  if err:find(H.DELIBERATE, 1, true) then return nil end     -- the script's own error
  local first = err:match("^[^\n]*")
  if first:match("^%s*$") then return "an empty error message" end
  for _, p in ipairs(UNCLEAR) do
    if first:find(p) then return "an unclear error: " .. first end
  end
  return nil
end

-- The streams and Buffers of a sequence, as the model sees them.  Weak
-- keys: the model must not keep a dropped stream from the collector.
local function new_model()
  return { streams = setmetatable({}, { __mode = "k" }),
           closed_buffers = setmetatable({}, { __mode = "k" }) }
end

-- Whether a run the model knows ends by itself.
local function bounded(m)
  local c = m.cfg
  if not c then return false end          -- a run that failed halfway: unknown
  if c.frames >= 0 then return true end
  if c.loop or c.pad < 0 then return false end
  local t = m.tx
  return t == "buffer" or t == "finite" or t == "error" or t == "file" or t == "closer"
end

function R.run(steps, o)
  local env = setmetatable({ ps = ps, H = H, uv = uv, TMP = o.tmp }, { __index = _G })
  local M = new_model()
  local violations = 0
  local K = 0
  local function violation(fmt, ...)
    violations = violations + 1
    out("VIOLATION %d: " .. fmt, K, ...)
  end
  local function model(s) return M.streams[s] end
  local function file_frames(path)
    local info = core.file_info(path)
    return info and info.frames or -1
  end
  local function check_file(m, why)
    if not m.recfile then return end
    local got = file_frames(m.recfile)
    if got < m.recmin then
      violation("%s: the recording %s holds %d frames, but %d were written before it ended",
                why, m.recfile:match("[^/]*$"), got, m.recmin)
    end
    m.recfile, m.recmin = nil, 0
  end

  for k, step in ipairs(steps) do
    K = k
    collectgarbage("step", 0)
    local s = step.s and rawget(env, step.s)
    if step.s and step.op ~= "new" and s == nil then
      out("step %d: %s  -- skipped: %s is nil", k, step.code, step.s)
      goto continue
    end
    do
      local m = s and model(s)
      if step.op == "wait" and not step.timeout and m and m.state == "running" and not m.bounded then
        out("step %d: %s  -- skipped: the run has no end", k, step.code)
        goto continue
      end
      -- what the stream was before the step
      local before
      if m and not s.closed then
        before = { active = s.active, ended = s.ended, rx_channels = s.rx_channels }
        if m.recfile then m.recmin = select(2, s:file_frames()) or 0 end
      end
      local closed_buf      -- a closed Buffer this step hands to the library
      for b in step.code:gmatch("%f[%w](b%d)%f[^%w]") do
        local v = rawget(env, b)
        if v ~= nil and M.closed_buffers[v] and step.op ~= "close_buffer" and step.op ~= "buffer" then
          closed_buf = b
        end
      end
      local rxbuf_ch
      if step.op == "set_rxbuffer" and step.b then
        local v = rawget(env, step.b)
        if v and not M.closed_buffers[v] then rxbuf_ch = v:channels() end
      end
      if step.op == "terminal" then
        for st, sm in pairs(M.streams) do
          if sm.recfile and not st.closed then
            out("terminal-file %s %d", sm.recfile, select(2, st:file_frames()) or 0)
          end
        end
      end
      if step.op == "close_buffer" then
        local v = rawget(env, step.b)
        if v then M.closed_buffers[v] = true end
      end

      -- A file another call writes: a stream recording into it can no
      -- longer be held to what it wrote (two writers of one path are the
      -- script's mistake, not the library's).
      local path = step.file and (o.tmp .. "/" .. step.file .. ".wav")
      if not path and m and m.to_file and step.op == "record" and step.out == "new" then path = m.to_file end
      if path then
        for _, sm in pairs(M.streams) do
          if sm.recfile == path then sm.recfile, sm.recmin = nil, 0 end
        end
      end

      -- a file an overwrite may replace: what it holds now
      local original
      if step.file and (step.op == "overwrite_fails" or step.op == "record" or step.op == "playrec") then
        local f = io.open(o.tmp .. "/" .. step.file .. ".wav", "rb")
        if f then original = f:read("a") f:close() end
      end

      out("step %d: %s", k, step.code)
      local fn, perr = load(step.code, "=step " .. k, "t", env)
      assert(fn, perr)
      local ok, err = pcall(fn)
      local first = not ok and tostring(err):match("^[^\n]*") or nil
      if ok then out("-> ok") else out("-> error: %s", first) end

      -- every error is a clear message
      if not ok then
        local why = R.unclear(err)
        if why then violation("%s", why) end
        if first:find("tests/seq/helpers.lua", 1, true) and not first:find(H.DELIBERATE, 1, true) then
          violation("the test's own helper failed (a bug of the test): %s", first)
        end
      end
      local deliberate = not ok and tostring(err):find(H.DELIBERATE, 1, true)
      if m and first and first:find("cannot start the stream", 1, true) then m.start_failed = true end
      if m and first and first:find("already running", 1, true) and op_runs[step.op] and step.op ~= "start"
         and m.state ~= "running" then
        violation("%s says 'already running', but the stream's last run %s", step.op,
                  m.start_failed and "failed to start" or "ended")
      end

      -- an overwrite that failed before its stream started (an offline
      -- loop's body, or a stream that was closed) leaves the original as it was
      if not ok and original and (step.op == "overwrite_fails" or (s and not before)) then
        local f = io.open(o.tmp .. "/" .. step.file .. ".wav", "rb")
        local now = f and f:read("a")
        if f then f:close() end
        if now ~= original then
          violation("an overwrite of %s that failed (%s) changed the original: %d bytes, now %s",
                    step.file .. ".wav", first, #original, now and (#now .. " bytes") or "gone")
        end
      end

      -- a closed Buffer is refused
      if ok and closed_buf then
        violation("%s was accepted with the closed Buffer %s", step.op, closed_buf)
      end

      -- the model follows the step
      local op = step.op
      if m and (op == "play" or op == "playrec") then m.run_src = step.src
      elseif m and (op == "record" or op == "chunks") then m.run_src = step.src or "none" end
      if op == "new" then
        local nv = rawget(env, step.s)
        if ok and nv then
          M.streams[nv] = { state = "idle", cfg = { frames = -1, pad = 0, loop = false }, tx = "none" }
        end
      elseif m then
        local was = m.state
        local function ended_or_running()
          -- a run that failed: it never started, or it ended with the error
          if was ~= "running" then m.state = "ended" end
        end
        if op == "close" then
          if ok then m.state = "closed"; check_file(m, "close") end
        elseif op == "start" then
          if ok then
            if m.rxbuf_ch and before and m.rxbuf_ch ~= before.rx_channels then
              violation("start accepted a %d-channel rxbuffer for a recording of %d channels (rxmapping)",
                        m.rxbuf_ch, before.rx_channels)
            end
            m.state, m.run_src = "running", m.tx
            m.bounded = bounded(m)
          else
            if first and first:find("already running", 1, true) and was ~= "running" then
              violation("start says 'already running', but the stream's last run %s",
                        m.start_failed and "failed to start" or "ended")
            end
            m.start_failed = true
          end
        elseif op == "stop" or op == "abort" then
          if ok and was == "running" then m.state = "ended" end
        elseif op == "wait" then
          if not ok then
            if was == "running" then m.state = "ended" end
          elseif not step.timeout and not s.closed then
            -- returned without a timeout: the run is over and its files finished
            if was == "running" then m.state = "ended" end
            check_file(m, "wait")
          end
        elseif op == "play" or op == "playrec" or op == "record" then
          if ok then
            if step.src then m.tx = step.src end
            if op == "record" then m.tx = "none" end
            m.cfg = { frames = step.frames or -1, pad = 0, loop = false }
            if op == "play" then m.rxbuf_ch = nil end
            local recfile = step.file and (o.tmp .. "/" .. step.file .. ".wav")
            if op == "record" and step.out == "new" and m.to_file then recfile = m.to_file end
            if op ~= "play" then
              m.rxbuf_ch = (step.out == "new" or step.out == "buffer" or
                            (op == "playrec" and not step.file)) and not recfile and s.rx_channels or nil
            end
            if step.blocking then
              m.state = "ended"
              if recfile and step.frames and step.frames >= 0 then
                local want = math.max(0, step.frames - (step.offset or 0))
                local got = file_frames(recfile)
                if got ~= want then
                  violation("%s{frames = %d, offset = %d} to a file returned, and the file holds %d frames, not %d",
                            op, step.frames, step.offset or 0, got, want)
                end
              end
            else
              m.state, m.run_src, m.bounded = "running", m.tx, step.bounded
              if recfile then m.recfile, m.recmin = recfile, 0 end
            end
          else
            ended_or_running()
            m.cfg, m.tx = nil, "unknown"
          end
        elseif op == "chunks" then
          if ok or was ~= "running" then m.state = "ended" end
          m.tx = step.src or "none"
          m.rxbuf_ch = nil
          if not ok then m.cfg = nil end
        elseif op == "set_source" then
          if ok then m.tx = step.src end
        elseif op == "set_txbuffer" then
          if ok then m.tx = step.b and "buffer" or "none" end
        elseif op == "set_rxbuffer" then
          if ok then m.rxbuf_ch = rxbuf_ch end
        elseif op == "set_sink" then
          if ok then m.rxbuf_ch = nil end
        elseif op == "configure" then
          if ok then
            local f = step.code:match("frames = (%-?%d+)")
            local p = step.code:match("pad = (%-?%d+)")
            m.cfg = { frames = tonumber(f) or -1, pad = tonumber(p) or 0,
                      loop = step.code:match("loop = true") ~= nil }
          end
        elseif op == "to_file" then
          if ok then m.to_file = step.target and (o.tmp .. "/" .. step.target .. ".wav") or nil end
        elseif op == "finish_files" then
          if ok and m.recfile and not (before and before.active) then check_file(m, "finish_files") end
        elseif op == "drop" then
          if ok then m.dropped = true end
        end

        -- a state change the run does not allow is refused
        local MUTATORS = { finish_files = true, set_txbuffer = true, set_rxbuffer = true, map = true,
                           configure = true, set_source = true, set_sink = true }
        if ok and MUTATORS[op] and before and before.active and not before.ended
           and not s.closed and s.active and not s.ended then
          violation("%s succeeded while the stream was running", op)
        end
      end

      -- BufferEmpty is not the end of a run whose Lua source never ends
      if not ok and first and first:find("BufferEmpty", 1, true) and m and m.run_src == "infinite" then
        violation("a run whose Lua source never ends stopped with BufferEmpty: %s", first)
      end
      if not ok and deliberate and m and m.state == "running" then
        -- the script's own error stopped the run
        m.state = "ended"
      end

      -- the invariants
      local open = 0
      for st, sm in pairs(M.streams) do
        local closed = st.closed
        if not closed then open = open + 1 end
        if sm.state == "closed" and not closed then
          violation("a stream that was closed is open again")
        end
        if sm.state == "closed" or closed then
          sm.state = "closed"
        elseif sm.state == "idle" or sm.state == "ended" then
          local a, e = st.active, st.ended
          if a or not e then
            violation("a stream is running (active %s, ended %s) that the model says %s%s",
                      tostring(a), tostring(e), sm.state,
                      sm.start_failed and " (its last start failed)" or "")
            sm.state = "running"         -- say it once
            sm.bounded = false
          end
        elseif sm.state == "running" and st.ended and not st.active then
          sm.state = "ended"
        end
      end
      local count = core.stream_count()
      if count ~= open then
        violation("ps.stream_count() is %d, but %d streams are open", count, open)
      end
    end
    ::continue::
  end

  -- The end: every stream closed, and nothing left that ends the program.
  K = #steps + 1
  out("step %d: %s", K, "-- the end: close every stream")
  for st, sm in pairs(M.streams) do
    local ok, err = pcall(st.close, st)
    -- a source's or sink's own error that nobody waited for comes out of
    -- close, once: that is the script's error, not the library's
    if not ok and not tostring(err):find(H.DELIBERATE, 1, true) then
      violation("close at the end raised: %s", tostring(err))
    end
    check_file(sm, "close at the end")
  end
  ps.sleep(0.1)
  collectgarbage()
  if core.stream_count() ~= 0 then
    violation("ps.stream_count() is %d after every stream was closed", core.stream_count())
  end
  out("done %d", violations)
  return violations
end

return R
