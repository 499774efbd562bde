-- The Lua side's stream state and errors (issue 16): a source's or sink's
-- error reaches whoever waits, once; an offline overwrite commits only on a
-- normal end; a Lua source runs about as far ahead as the latency asked
-- for; errors name the caller's line; a closed stream's phase.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local uv = require "luv"

local HERE = "test_lua_state.lua:"
local dir = os.tmpname()
os.remove(dir)
assert(uv.fs_mkdir(dir, 448))
local function path(name) return dir .. "/" .. name end

local function count(s, pat)
  local n = 0
  for _ in s:gmatch(pat) do n = n + 1 end
  return n
end

-- 2. A source's error inside a chunk loop ends the loop with that error.
T.group("a source error inside a chunk loop", function()
  local calls, chunks = 0, 0
  local ok, err = pcall(function()
    for _ in ps.chunks{ device = "loopback", chunksize = 1024, frames = 48000 * 4,
                        playback = function(b)
                          calls = calls + 1
                          if calls > 8 then error("the source broke") end
                          b:fill(0)
                        end } do
      chunks = chunks + 1
    end
  end)
  T.eq(ok, false, "the loop raises (pcall returns false)")
  T.ok(tostring(err):find("the source broke", 1, true), "with the source's error", err)
  T.eq(count(tostring(err), "stack traceback:"), 1, "with one traceback")
  T.eq(count(tostring(err), "the source broke"), 1, "and one message")
  T.ok(chunks < 4 * 48000 / 1024, "the loop ended early (" .. chunks .. " chunks)")
  T.eq(ps.stream_count(), 0, "the loop's stream is closed")
end)

T.group("a sink that fails before wait", function()
  local s <close> = ps.InputStream{ device = "loopback" }
  s:record{ out = function() error("the sink broke") end, frames = 48000 * 4, blocking = false }
  ps.sleep(0.3)
  local ok, res = pcall(s.wait, s, 10)
  T.eq(ok, false, "wait raises (no hang, no timeout)")
  T.ok(tostring(res):find("the sink broke", 1, true), "with the sink's error", res)
  local again, res2 = pcall(s.wait, s, 1)
  T.ok(again and res2 == true, "once: a second wait returns true", res2)
end)

T.group("a sink error in the final drain", function()
  local d <close> = ps.DuplexStream{ device = "loopback" }
  local got = 0
  local ok, err = pcall(d.playrec, d, ps.Buffer(4800, 2), { frames = 4800, out = function(b)
    got = got + b:frames()
    if got >= 4800 then error("the last drain broke") end
  end })
  T.eq(ok, false, "playrec raises the sink's error")
  T.ok(tostring(err):find("the last drain broke", 1, true), "the sink's error", err)
  T.ok(d.stopped, "the stream is stopped")
  local rec = d:record{ frames = 2400 }
  T.eq(rec:frames(), 2400, "the stream runs again afterwards")
end)

-- 6. file:chunks{out = existing, overwrite = true} commits only at the end.
T.group("an offline overwrite that fails leaves the original", function()
  local src = ps.Buffer(48000, 1)
  for i = 1, #src do src[i] = (i % 100) / 100 end
  assert(ps.save(path("in.wav"), src, 48000))
  local orig = ps.Buffer(48000, 1)
  for i = 1, #orig do orig[i] = -(i % 50) / 50 end
  assert(ps.save(path("out.wav"), orig, 48000))
  local before = T.read(path("out.wav"))
  local n = 0
  local ok, err = pcall(function()
    for chunk in ps.chunks{ input = path("in.wav"), out = path("out.wav"), overwrite = true, chunksize = 4096 } do
      n = n + 1
      if n == 3 then error("the loop body broke") end
    end
  end)
  T.eq(ok, false, "the loop's error comes through")
  T.ok(tostring(err):find("the loop body broke", 1, true), "the loop body's error", err)
  T.ok(T.read(path("out.wav")) == before, "out.wav is byte for byte the original")
  T.eq(T.listing(dir), "in.wav out.wav", "no temporary file is left")
  -- a normal end replaces it
  for chunk in ps.chunks{ input = path("in.wav"), out = path("out.wav"), overwrite = true, chunksize = 4096 } do
    chunk:gain(0.5)
  end
  local got = ps.load(path("out.wav"))
  T.eq(got and got:frames(), 48000, "after a normal end out.wav has every frame")
  T.eq(T.listing(dir), "in.wav out.wav", "and no temporary file")
  os.remove(path("in.wav"))
  os.remove(path("out.wav"))
end)

-- 7. A Lua source runs about as far ahead as the latency asked for.
T.group("a Lua source's fill level", function()
  local asked, first = 0, nil
  for chunk in ps.chunks{ device = "loopback", chunksize = 512, frames = 48000,
                          playback = function(b) asked = asked + b:frames() b:fill(0) end } do
    first = first or asked
    break
  end
  T.ok(first and first <= 16384, "frames asked of the source before the first chunk: " .. tostring(first)
       .. " (a quarter of the 65536-frame ring at most)")
  local s <close> = ps.OutputStream{ device = "loopback" }
  local fill = 48000 // 2
  local asked2 = 0
  s:set_source(function(b) asked2 = asked2 + b:frames() b:fill(0) end, { fill = fill })
  s:configure{ frames = 48000 * 2 }
  s:start()
  T.ok(asked2 < 2 * fill, "fill = 24000: the source was asked for less than twice that (" .. asked2 .. ")")
  s:abort()
  -- the default follows the stream's output latency and blocksize: four
  -- times both, at least 0.1 s, prefilled before the device starts
  for _, bs in ipairs { 0, 8192 } do
    local o <close> = ps.OutputStream{ device = "loopback", blocksize = bs }
    local rate = math.floor(o.samplerate)
    local want = math.max(math.ceil(0.1 * rate), 4 * (math.ceil(o.latency * rate) + o.blocksize))
    local asked3, block = 0, 0
    o:set_source(function(b) asked3 = asked3 + b:frames() block = b:frames() b:fill(0) end)
    o:configure{ frames = rate * 4 }
    o:start()
    T.ok(asked3 >= want and asked3 < 2 * want,
      string.format("blocksize %d, latency %.4f s: the source is %d frames ahead at the start, less than twice that asked (%d, in blocks of %d)",
        o.blocksize, o.latency, want, asked3, block))
    o:abort()
  end
end)

-- 9. Errors at the caller's line; options checked where they are given.
T.group("error positions", function()
  local function line_of(fn)
    local ok, err = pcall(fn)
    return not ok and tostring(err):match(HERE:gsub("%p", "%%%0") .. "(%d+):") or tostring(err)
  end
  local l = debug.getinfo(1, "l").currentline
  T.eq(line_of(function() local _ = ps.OutputStream{ device = "nonexistent" } end), tostring(l + 1),
    "OutputStream{device = 'nonexistent'} names the caller's line")
  local s <close> = ps.InputStream{ device = "loopback" }
  l = debug.getinfo(1, "l").currentline
  T.eq(line_of(function() for _ in s:chunks{ frames = 1.5 } do end end), tostring(l + 1),
    "chunks{frames = 1.5} names the caller's line")
  T.raises(function() s:wait("soon") end, "bad argument #1 to 'wait'", "wait('soon') is a bad argument")
  local n = ps.stream_count()
  T.raises(function() return ps.OutputStream{ device = "loopback", buffersize = 1000 } end,
    "buffersize must be a power of two, got 1000", "buffersize = 1000 is refused by the constructor")
  T.eq(ps.stream_count(), n, "and leaves no stream open")
end)

-- 11. One state per stream: the phase is checked first.
T.group("a stream's phase", function()
  local s = ps.OutputStream{ device = "loopback" }
  s:play(ps.Buffer(48000, 2), { blocking = false })
  local l = debug.getinfo(1, "l").currentline
  local ok, err = pcall(function() s:play(ps.Buffer(10, 2)) end)
  T.ok(not ok and tostring(err):find(HERE .. (l + 1) .. ": cannot play while the stream is running", 1, true),
    "play while running is refused at the caller's line", err)
  s:close()
  T.eq(s.closed, true, "closed")
  T.eq(s.ended, true, "ended is true on a closed stream")
  for _, m in ipairs { "play", "record", "start", "wait", "stop", "abort", "chunks", "set_source", "to_file" } do
    l = debug.getinfo(1, "l").currentline
    ok, err = pcall(function() local _ = s[m](s, ps.Buffer(10, 2)) end)
    T.ok(not ok and tostring(err):find(HERE .. (l + 1) .. ": attempt to use a closed stream", 1, true),
      m .. " on a closed stream raises at the caller's line", err)
  end
  T.ok(pcall(s.close, s), "close twice is fine")
end)

T.group("a source that closes its own stream", function()
  local s = ps.OutputStream{ device = "loopback" }
  local calls = 0
  s:play(function(b) calls = calls + 1 if calls == 3 then s:close() end b:fill(0) end,
    { blocking = false, source = { blocksize = 512, fill = 1024 } })
  -- the third call comes once the ring has room again; a hang guard only
  local t0 = os.time()
  while not s.closed and os.time() - t0 < 20 do ps.sleep(0.01) end
  ps.sleep(0.1)                   -- room for a wrong fourth call
  T.ok(s.closed, "the stream is closed")
  T.eq(calls, 3, "the source is not called again")
end)

T.group("a task waiting for a stream that another task closes", function()
  local s = ps.OutputStream{ device = "loopback" }
  s:play(ps.Buffer(48000 * 10, 2), { blocking = false })
  local h = ps.spawn(function() return s:wait() end)
  ps.sleep(0.1)
  s:close()
  local ok, res = pcall(h.join, h)
  T.ok(ok and res == true, "the waiter wakes and returns", res)
end)

uv.fs_rmdir(dir)
T.done()
