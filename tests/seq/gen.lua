-- Random, seeded sequences of pastream API calls (tests/lua/test_sequences.lua).
--
-- gen.sequence(seed, {fault = bool}) returns a list of steps.  Each step
-- is one line of Lua (step.code, run as it is printed) and what the
-- checker needs to know about it (step.op and a few fields).  The list
-- depends on the seed only, never on what happens when it runs, so that a
-- failing sequence can be run again, and cut down, step by step.
--
-- The names a sequence uses: streams s1..s3, Buffers b1..b3, files f1..f2
-- (TMP .. "/f1.wav"), ps = require "pastream", H = tests/seq/helpers.lua.
-- Most steps are single calls with random arguments; some are short
-- fragments of related calls (a Buffer then a map on it, then a start),
-- since a misuse usually needs two or three calls in a row to show.
local gen = {}

-- splitmix64: the same numbers on every Lua 5.4, whatever math.random does.
local function rng(seed)
  local x = seed
  local R = {}
  function R.next()
    x = x + 0x9E3779B97F4A7C15
    local z = x
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
  function R.int(a, b) return a + (R.next() >> 1) % (b - a + 1) end
  function R.chance(p) return R.int(0, 9999) < p * 10000 end
  function R.pick(t) return t[R.int(1, #t)] end
  return R
end

-- A table literal with its fields in the given order (nil ones left out).
local function opts(t, order)
  local parts = {}
  for _, k in ipairs(order) do
    local v = t[k]
    if v ~= nil then
      local s = type(v) == "string" and (v:match("^@") and v:sub(2) or string.format("%q", v))
                or tostring(v)
      parts[#parts + 1] = k .. " = " .. s
    end
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end
gen.opts = opts

local RUN_ORDER = { "frames", "pad", "offset", "loop", "out", "overwrite", "chunksize", "playback",
                    "blocking" }

function gen.sequence(seed, o)
  o = o or {}
  local R = rng(seed)
  local steps = {}
  -- What the generator knows: the kind of stream each name last got.
  local kinds, chans = {}, {}
  local function add(step) steps[#steps + 1] = step end
  local function stream_name() return R.pick{ "s1", "s1", "s1", "s2", "s3" } end
  local function buffer_name() return R.pick{ "b1", "b2", "b3" } end
  local function file_name() return R.pick{ "f1", "f2" } end
  local function file_expr(f) return 'TMP .. "/' .. f .. '.wav"' end

  local function new_stream(s, kind)
    kind = kind or R.pick{ "DuplexStream", "DuplexStream", "DuplexStream", "InputStream", "OutputStream" }
    local ch = R.pick{ 1, 2, 2 }
    local bs = R.pick{ 16384, 32768, 65536 }
    kinds[s], chans[s] = kind, ch
    add{ op = "new", s = s, kind = kind,
         code = string.format('%s = ps.%s{device = "loopback", channels = %d, buffersize = %d}',
                              s, kind, ch, bs) }
  end

  local function new_buffer(b, ch)
    local n = R.pick{ 1, 1000, 4800, 4800, 9600 }
    ch = ch or R.pick{ 1, 2, 2, 3, 4 }
    add{ op = "buffer", b = b, ch = ch, code = string.format("%s = H.noise(%d, %d)", b, n, ch) }
  end

  -- A source expression and its kind.
  local function source(s)
    local k = R.pick{ "buffer", "buffer", "infinite", "infinite", "finite", "error", "yield", "closer", "file" }
    if k == "buffer" then return buffer_name(), k end
    if k == "file" then return file_expr(file_name()), k end
    if k == "finite" then return string.format('H.source("finite", %d)', R.pick{ 100, 3000, 20000 }), k end
    if k == "error" then return string.format('H.source("error", %d)', R.int(1, 3)), k end
    if k == "closer" then return string.format('H.source("closer", %s)', s), k end
    return string.format('H.source("%s")', k), k
  end
  local function sink(s)
    local k = R.pick{ "count", "count", "error", "yield", "closer" }
    if k == "error" then return string.format('H.sink("error", %d)', R.int(1, 3)), k end
    if k == "closer" then return string.format('H.sink("closer", %s)', s), k end
    return string.format('H.sink("%s")', k), k
  end

  -- frames, pad, offset, loop of a run: short runs (0.2 s at most) mostly.
  local function counts(t)
    t.frames = R.pick{ nil, -1, 100, 1024, 4800, 9600 }
    if R.chance(0.4) then t.pad = R.pick{ -1, 0, 500 } end
    if R.chance(0.3) then t.offset = R.pick{ 0, 7, 1000 } end
    if R.chance(0.2) then t.loop = true end
    return t
  end
  -- Whether a run with these options and source kind ends by itself.
  local function bounded(t, srckind)
    if t.frames and t.frames >= 0 then return true end
    if t.loop or (t.pad and t.pad < 0) then return false end
    return srckind == "buffer" or srckind == "finite" or srckind == "error" or srckind == "file"
  end

  local function map(s, dir)
    local w = R.pick{ nil, 1, 2, 3, 4 }
    local code
    if w == nil then
      code = R.chance(0.5) and string.format("%s.%smapping = nil", s, dir)
                           or string.format("%s:set_%smap(nil)", s, dir)
    else
      local e = {}
      for i = 1, w do e[i] = R.int(dir == "rx" and 1 or 0, 2) end
      local list = "{" .. table.concat(e, ", ") .. "}"
      code = R.chance(0.5) and string.format("%s.%smapping = %s", s, dir, list)
                           or string.format("%s:set_%smap%s", s, dir, list)
    end
    add{ op = "map", s = s, dir = dir, width = w, code = code }
  end

  local function wait(s)
    local t = R.pick{ nil, nil, 0.2, 0.5, 1 }
    add{ op = "wait", s = s, timeout = t,
         code = t and string.format("%s:wait(%s)", s, t) or s .. ":wait()" }
  end

  local function play(s, fn)
    local src, k = source(s)
    local t = counts{}
    if not bounded(t, k) or R.chance(0.5) then t.blocking = false end
    fn = fn or (kinds[s] == "DuplexStream" and R.chance(0.4) and "playrec" or "play")
    if fn == "playrec" and R.chance(0.3) then
      t.out = "@" .. (R.chance(0.5) and buffer_name() or file_expr(file_name()))
      t.overwrite = true
    end
    add{ op = fn, s = s, src = k, blocking = t.blocking ~= false, bounded = bounded(t, k),
         frames = t.frames, offset = t.offset, file = t.out and t.out:match('"/(f%d)%.wav"'),
         code = string.format("%s:%s(%s, %s)", s, fn, src, opts(t, RUN_ORDER)) }
  end

  local function record(s)
    local t = counts{}
    t.pad, t.loop = nil, nil
    local outk = R.pick{ "new", "new", "buffer", "file", "file", "sink" }
    if outk == "buffer" then t.out = "@" .. buffer_name()
    elseif outk == "file" then t.out = "@" .. file_expr(file_name()); t.overwrite = true
    elseif outk == "sink" then t.out = "@" .. (sink(s)) end
    local b = t.frames and t.frames >= 0 or outk == "buffer"
    if not b or R.chance(0.5) then t.blocking = false end
    add{ op = "record", s = s, out = outk, blocking = t.blocking ~= false, bounded = b,
         frames = t.frames, offset = t.offset, file = outk == "file" and t.out:match('"/(f%d)%.wav"'),
         code = string.format("%s:record%s", s, opts(t, RUN_ORDER)) }
  end

  local function chunks(s)
    local t = { chunksize = R.pick{ 0, 256, 1024 } }
    t.frames = R.pick{ nil, 4800, 9600 }
    local k
    if R.chance(0.4) then
      local src; src, k = source(s)
      t.playback = "@" .. src
    end
    local brk = R.pick{ 1, 3, 10 }
    if not t.frames then brk = math.min(brk, 10) end
    add{ op = "chunks", s = s, src = k,
         code = string.format("do local n = 0 for c in %s:chunks%s do n = n + 1 if n == %d then break end end end",
                              s, opts(t, RUN_ORDER), brk) }
  end

  local function ps_chunks()
    local src = R.pick{ 'H.source("infinite")', 'H.source("yield")', 'H.source("error", 2)', "b1" }
    add{ op = "ps_chunks",
         code = string.format('for c in ps.chunks{device = "loopback", playback = %s, chunksize = %d} do break end',
                              src, R.pick{ 256, 1024 }) }
  end

  local singles = {
    function(s) new_stream(s) end,
    function() new_buffer(buffer_name()) end,
    function() local b = buffer_name(); add{ op = "close_buffer", b = b,
                 code = string.format("do local _ <close> = %s end  -- closes %s", b, b) } end,
    function(s) local b = R.chance(0.8) and buffer_name() or nil
                add{ op = "set_txbuffer", s = s, b = b, code = string.format("%s:set_txbuffer(%s)", s, b or "nil") } end,
    function(s) local b = R.chance(0.8) and buffer_name() or nil
                add{ op = "set_rxbuffer", s = s, b = b, code = string.format("%s:set_rxbuffer(%s)", s, b or "nil") } end,
    function(s) map(s, R.pick{ "tx", "rx" }) end,
    function(s) local t = counts{}
                add{ op = "configure", s = s, code = string.format("%s:configure%s", s,
                     opts(t, { "frames", "pad", "offset", "loop" })) } end,
    function(s) add{ op = "start", s = s, code = s .. ":start()" } end,
    function(s) add{ op = "stop", s = s, code = s .. ":stop()" } end,
    function(s) add{ op = "abort", s = s, code = s .. ":abort()" } end,
    function(s) add{ op = "close", s = s, code = s .. ":close()" } end,
    wait, wait, play, play, record, record, chunks,
    function(s) local src, k = source(s)
                if k == "buffer" or k == "file" then src, k = 'H.source("infinite")', "infinite" end
                add{ op = "set_source", s = s, src = k, code = string.format("%s:set_source(%s)", s, src) } end,
    function(s) local snk = sink(s)
                add{ op = "set_sink", s = s, code = string.format("%s:set_sink(%s)", s, snk) } end,
    function(s) local f = R.chance(0.8) and file_name()
                add{ op = "to_file", s = s, target = f or nil,
                     code = string.format("%s:to_file(%s)", s, f and file_expr(f) .. ", {overwrite = true}" or "nil") } end,
    function(s) add{ op = "finish_files", s = s, code = s .. ":finish_files()" } end,
    function() add{ op = "gc", code = "collectgarbage() collectgarbage()" } end,
    function(s) add{ op = "drop", s = s, code = s .. " = nil" } end,
    function() add{ op = "sleep", code = "ps.sleep(0.1)" } end,
    ps_chunks,
    function() -- an overwrite that fails keeps the original
      local f = file_name()
      add{ op = "save", file = f, code = string.format("ps.save(%s, H.noise(48000, 2), 48000)", file_expr(f)) }
      add{ op = "overwrite_fails", file = f,
           code = string.format("H.overwrite_fails(%s, %d)", file_expr(f), R.pick{ 1, 3 }) }
    end,
    function(s) -- (rarely: after the first, a SIGINT ends the program today, issue 15 point 7)
      if R.chance(0.2) then
        add{ op = "signals", code = "ps.on_signal = H.signal_hook(\"count\") H.sigint() ps.sleep(0.2) H.sigint() ps.sleep(0.2)" }
      else
        add{ op = "sleep", code = "ps.sleep(0.1)" }
      end
    end,
  }

  -- Fragments: the calls that tend to meet each other's state.
  local fragments = {
    function(s) -- a Buffer, a map of another width on it, a run
      local b, dir = buffer_name(), R.pick{ "rx", "rx", "tx" }
      new_buffer(b, R.chance(0.7) and chans[s] or nil)
      add{ op = "set_" .. dir .. "buffer", s = s, b = b, code = string.format("%s:set_%sbuffer(%s)", s, dir, b) }
      map(s, dir)
      add{ op = "start", s = s, code = s .. ":start()" }
      wait(s)
    end,
    function(s) -- a Buffer closed, then used
      local b = buffer_name()
      new_buffer(b)
      add{ op = "close_buffer", b = b, code = string.format("do local _ <close> = %s end  -- closes %s", b, b) }
      local use = R.pick{ "set_txbuffer", "set_rxbuffer", "play", "record" }
      if use == "play" then
        add{ op = "play", s = s, src = "buffer", blocking = true, bounded = true,
            code = string.format("%s:play(%s)", s, b) }
      elseif use == "record" then
        add{ op = "record", s = s, out = "buffer", blocking = true, bounded = true,
            code = string.format("%s:record{out = %s}", s, b) }
      else
        add{ op = use, s = s, b = b, code = string.format("%s:%s(%s)", s, use, b) }
      end
    end,
    function(s) -- a run of one kind, then the low-level calls of another
      if R.chance(0.5) then
        play(s, "play")
      else
        local b, t = buffer_name(), counts{}
        if R.chance(0.7) then new_buffer(b, chans[s]) end
        if R.chance(0.8) then t.frames = nil end
        t.loop = nil
        if t.pad == -1 then t.pad = nil end
        add{ op = "play", s = s, src = "buffer", blocking = true, bounded = true, frames = t.frames,
             offset = t.offset, code = string.format("%s:play(%s, %s)", s, b, opts(t, RUN_ORDER)) }
      end
      local src, k = source(s)
      if k == "buffer" or k == "file" or R.chance(0.5) then src, k = 'H.source("infinite")', "infinite" end
      add{ op = "set_source", s = s, src = k, code = string.format("%s:set_source(%s)", s, src) }
      add{ op = "start", s = s, code = s .. ":start()" }
      -- long enough for a ring of 65536 frames to run dry if nobody fills it
      if R.chance(0.7) then add{ op = "wait", s = s, timeout = 2, code = s .. ":wait(2)" } else wait(s) end
    end,
    function(s) -- files changed while the stream runs
      record(s)
      add{ op = "finish_files", s = s, code = s .. ":finish_files()" }
      local f = R.pick{ "stop", "abort", "close" }
      add{ op = f, s = s, code = s .. ":" .. f .. "()" }
    end,
    function(s) -- a Lua source or sink, then the stream ends under it
      if R.chance(0.5) then play(s) else record(s) end
      local f = R.pick{ "stop", "abort", "close" }
      add{ op = f, s = s, code = s .. ":" .. f .. "()" }
      wait(s)
    end,
    function(s) -- waits after a close, the last with no timeout
      add{ op = "close", s = s, code = s .. ":close()" }
      wait(s)
      R.pick{ 0 }     -- (the draw wait() makes: the seeds keep their sequences)
      add{ op = "wait", s = s, code = s .. ":wait()" }
    end,
  }

  local n = o.length or R.int(6, 14)
  new_stream("s1", R.chance(0.8) and "DuplexStream" or nil)
  local crash_at = o.fault and R.int(2, n - 2)
  while #steps < n do
    local s = stream_name()
    if not kinds[s] and R.chance(0.7) then new_stream(s) end
    if crash_at and #steps >= crash_at then
      add{ op = "crash_rig", code = "H.crash_rig(s1, s2, s3)" }
      crash_at = nil
      -- after the server is gone: what a script would still call
      for _ = 1, R.int(2, 4) do
        local f = R.pick{ "start", "start", "stop", "close", "wait", "play", "record" }
        if f == "wait" then wait(s) elseif f == "play" then play(s) elseif f == "record" then record(s)
        else add{ op = f, s = s, code = s .. ":" .. f .. "()" } end
      end
    elseif R.chance(0.3) then
      R.pick(fragments)(s)
    else
      R.pick(singles)(s)
    end
  end
  -- The end of the program, now and then: an error in a luv callback or a
  -- signal hook, or a plain SIGINT, while a file may be recording.
  if not o.fault and R.chance(0.2) then
    if R.chance(0.5) then
      local s = "s1"
      add{ op = "record", s = s, out = "file", blocking = false, bounded = false, file = "f2",
           code = s .. ':record{out = TMP .. "/f2.wav", overwrite = true, blocking = false}' }
      add{ op = "sleep", code = "ps.sleep(0.3)" }
    end
    local k = R.pick{ "timer", "signal", "sigint" }
    if k == "timer" then
      add{ op = "terminal", kind = k, code = "H.timer_error(50) ps.sleep(1)" }
    elseif k == "signal" then
      add{ op = "terminal", kind = k, code = 'ps.on_signal = H.signal_hook("error") H.sigint() ps.sleep(1)' }
    else
      add{ op = "terminal", kind = k, code = "ps.on_signal = nil H.sigint() ps.sleep(1)" }
    end
  end
  return steps
end

return gen
