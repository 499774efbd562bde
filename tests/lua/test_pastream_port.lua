-- pastream's own loopback suite (tests/test_pastream.py in tgarc/pastream),
-- ported test by test to pastream-lua's API (issue 17, point 11): the same
-- cases and the same numbers, float32 on the rig's "loopback" device.
-- Each group is named after the pastream test it ports.
--
-- What differs, and why:
--  - pastream's signal is int32 noise after a preamble of the largest
--    value; here it is float32 noise of 24-bit values in [-1, 1) after a
--    preamble of 1.0, which the noise never reaches (float32 carries them
--    exactly, so every check stays bit-exact).
--  - pastream's ring buffers are the stream's own rings here
--    (open_txring/write, open_rxring/read); its reader and writer threads
--    are source and sink functions.
--  - pastream's test_looping needs its WIREMODE build (input = output, no
--    delay); here the rig's round trip is dropped with offset and played as
--    pad, so the recording lines up with the playback (frames + pad - offset
--    recorded, as in pastream).
--  - test_channel_mapping draws 7 random maps per side; a 2-channel device
--    has only 2 of them, so both are run, each side.
--  - round trips come from the running stream (roundtrip_frames), never
--    from an assumed period.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local uv = require "luv"

local DEVICE = "loopback"
local PREAMBLE = 1.0          -- pastream's PREAMBLE (0x7FFFFFFF), as float32
local PREAMBLESIZE = 4096

local top = uv.cwd()
local PL = T.host()
local dir, P = T.tmpdir()

-- A reproducible noise generator (pastream's randstream with a seed): each
-- call gives the next sample, a 24-bit value in [-1, 1), never PREAMBLE.
local function noise(seed)
  local x = seed
  return function()
    x = x * 6364136223846793005 + 1442695040888963407
    return ((x >> 40) - 8388608) / 8388608
  end
end

-- n frames of preamble followed by noise, as pastream's random_soundfile_input.
local function preamble_and_noise(n, ch, seed)
  local b = ps.Buffer(n, ch)
  local rnd = noise(seed)
  for f = 0, n - 1 do
    for c = 1, ch do b[f * ch + c] = f < PREAMBLESIZE and PREAMBLE or rnd() end
  end
  return b
end

-- The first frame (0-based) of buf whose first channel holds the preamble, or -1.
local function find_preamble(buf)
  local ch = buf:channels()
  for f = 0, buf:frames() - 1 do
    if buf[f * ch + 1] == PREAMBLE then return f end
  end
  return -1
end

-- pastream's assert_soundfiles_equal: from the preamble on, the recording
-- is the input (again and again with loop), bit for bit.  Returns the
-- frames matched, the delay, and the first difference (nil if none).
local function compare_from_preamble(inp, out, loop)
  local delay = find_preamble(out)
  if delay < 0 then return 0, delay, "the preamble was not found" end
  local ch, n = inp:channels(), inp:frames()
  local m = out:frames() - delay
  if not loop then m = math.min(m, n) end
  for f = 0, m - 1 do
    local fi = f % n
    for c = 1, ch do
      local a, b = inp[fi * ch + c], out[(delay + f) * ch + c]
      if a ~= b then
        return f, delay, string.format("frame %d channel %d: got %.9g want %.9g", f, c, b, a)
      end
    end
  end
  return m, delay, nil
end

-- The recording of a run that played src from stream frame 0, as the
-- stream received it (round trip d, first `offset` frames dropped); nil,
-- detail when it differs.
local function check_model(rec, src, d, offset, played_frames)
  local ch = rec:channels()
  for j = 0, rec:frames() - 1 do
    local t = j + offset - d              -- the played frame it holds
    for c = 1, ch do
      local want = (t >= 0 and t < played_frames) and src[(t % src:frames()) * ch + c] or 0
      if rec[j * ch + c] ~= want then
        return nil, string.format("frame %d channel %d: got %.9g want %.9g", j, c, rec[j * ch + c], want)
      end
    end
  end
  return true
end

-- The random sound file input of pastream's fixture: PREAMBLESIZE frames
-- of preamble and a second of noise, float32 WAV (float32 here, PCM_32 there).
local RATE, CH
do
  local s <close> = ps.DuplexStream{ device = DEVICE }
  RATE = math.tointeger(s.samplerate)
  CH = math.min(s.channels[1], s.channels[2])
end
local INPUT = P("random.wav")
local input_buf = preamble_and_noise(PREAMBLESIZE + RATE, CH, 12345)
assert(ps.save(INPUT, input_buf, RATE, { subtype = "float" }))

local function duplex(o)
  o = o or {}
  o.device, o.channels = DEVICE, CH
  return ps.DuplexStream(o)
end

-- pastream's looper: plays a preamble and then noise from a source
-- function while a chunk loop finds the preamble in what comes back and
-- checks every sample after it, until maxframes have matched.  map: the
-- txmapping or rxmapping set on the stream (received channel k is then
-- source channel map[k]).
local function looper(s, maxframes, map, out)
  local ch = CH
  local seed = 4242
  local gen, left = noise(seed), PREAMBLESIZE
  local function source(buf)
    local n = buf:frames()
    for f = 0, n - 1 do
      for c = 1, ch do
        if left > 0 then buf[f * ch + c] = PREAMBLE else buf[f * ch + c] = gen() end
      end
      if left > 0 then left = left - 1 end
    end
  end
  local check, pre = noise(seed), PREAMBLESIZE
  local want = {}
  local matched, found, bad = 0, false, nil
  for chunk in s:chunks{ playback = source, out = out } do
    local n = chunk:frames()
    local f = 0
    if not found then
      f = find_preamble(chunk)
      if f < 0 then f = n else found = true end
    end
    while f < n and not bad do
      if pre > 0 then
        pre = pre - 1
        for c = 1, ch do want[c] = PREAMBLE end
      else
        for c = 1, ch do want[c] = check() end
      end
      for c = 1, ch do
        local w = want[map and map[c] or c]
        local g = chunk[f * ch + c]
        if g ~= w then bad = string.format("frame %d channel %d: got %.9g want %.9g", matched, c, g, w) break end
      end
      matched = matched + 1
      f = f + 1
    end
    if bad or matched >= maxframes then break end
  end
  T.ok(found, "the preamble came back")
  T.ok(not bad and matched >= maxframes,
    string.format("%d frames after it match, every sample (of %d)", matched, maxframes), bad)
end

T.group("test_chunks_ndarray_loopback", function()
  local s <close> = duplex()
  looper(s, RATE)
end)

T.group("test_chunks_bytearray_loopback", function()
  local s <close> = duplex()
  looper(s, RATE, nil, ps.Buffer(65536, CH))   -- a chunk Buffer of the loop's own
end)

T.group("test_soundfilestream_loopback", function()
  local out = P("soundfilestream.wav")
  do
    local s <close> = duplex()
    s:to_file(out, { subtype = "float" })
    s:playrec(INPUT)
  end
  local rec = assert(ps.load(out))
  local m, delay, bad = compare_from_preamble(input_buf, rec)
  T.ok(delay >= 0, "the preamble is in the recording (delay " .. delay .. ")")
  T.ok(not bad, "the recording is the input from the preamble on, bit for bit", bad)
  T.eq(m, input_buf:frames() - delay, "matched all the recording holds: the input less the delay")
end)

T.group("test_stdin_stdout_loopback", function()
  local out = P("stdout.au")
  local cmd = string.format("%s %s - - -t au -f float32 -D %s -q < %s > %s", PL, top .. "/scripts/pastream",
    DEVICE, INPUT, out)
  local ok, how, code = os.execute(cmd)
  T.ok(ok, "pastream - - exits with status 0", how .. " " .. tostring(code))
  local rec = ps.load(out)
  T.ok(rec, "standard output holds an AU file")
  if not rec then return end
  local m, delay, bad = compare_from_preamble(input_buf, rec)
  T.ok(delay >= 0, "the preamble is in the recording (delay " .. delay .. ")")
  T.ok(not bad, "the recording is the input from the preamble on, bit for bit", bad)
  T.eq(m, input_buf:frames() - delay, "matched all the recording holds: the input less the delay")
end)

T.group("test_offset", function()
  local s <close> = duplex()
  local d = s:roundtrip_frames()
  for x = 8, 9 do
    local o = 1 << x
    local out = s:playrec(INPUT, { frames = 1024, offset = o })
    T.eq(out:frames(), 1024 - o, "offset " .. o .. ": 1024 - offset frames")
    local same, why = check_model(out, input_buf, d, o, 1024)
    T.ok(same, "offset " .. o .. ": the frames after the offset, delayed by the round trip", why)
  end
end)

T.group("test_frames", function()
  local s <close> = duplex()
  local d = s:roundtrip_frames()
  local i = assert(ps.load(INPUT))
  for x = 8, 15 do
    local f = 1 << x
    local out = s:playrec(i, { frames = f })
    T.eq(out:frames(), f, "frames " .. f)
    local same, why = check_model(out, i, d, 0, f)
    T.ok(same, "frames " .. f .. ": the input delayed by the round trip", why)
  end
end)

T.group("test_pad", function()
  local s <close> = duplex()
  local d = s:roundtrip_frames()
  local i = assert(ps.load(INPUT))
  for x = 8, 15 do
    local p = 1 << x
    local out = s:playrec(i, { frames = 1024, pad = p })
    T.eq(out:frames(), 1024 + p, "frames 1024, pad " .. p .. ": 1024 + pad frames")
    local same, why = check_model(out, i, d, 0, 1024)
    T.ok(same, "pad " .. p .. ": 1024 frames of the input, then silence", why)
  end
end)

-- frames < 0 and pad >= 0: once the transmit ring is found empty, the
-- stream plays pad frames and ends ("autoframes"), and never reads the
-- ring again.
T.group("test_autoframes", function()
  local s <close> = duplex()
  s:open_txring(1 << 10, CH)
  s:open_rxring(1 << 16)
  s.pad = RATE
  s.frames = -1
  s:configure{ frames = s.frames, pad = s.pad }
  local block = preamble_and_noise(1024, CH, 7)
  T.eq(s:write(block), 1024, "1024 frames in the transmit ring")
  s:start()
  -- wait to enter autoframes: the ring has been found empty and the pad plays
  local waited = 0
  while not (s.tx_frames == 1024 and s.frame_count > 1024) and waited < 5 do
    ps.sleep(0.005)
    waited = waited + 0.005
  end
  T.ok(s.active, "the stream is still active in its pad")
  -- more data now must stay unread at the end of the stream
  T.eq(s:write(block), 1024, "1024 more frames written")
  s:wait()
  T.eq(s:read_available(), 1024 + RATE, "1024 + samplerate frames recorded")
  T.eq(s:write_available(), 0, "the 1024 frames written late were never read")
  T.eq(s.tx_frames, 1024, "tx_frames")
end)

T.group("test_frames_pad_offset", function()
  local s <close> = duplex()
  local d = s:roundtrip_frames()
  s:open_txring(1 << 17, CH)
  s:open_rxring(1 << 17)
  local src = preamble_and_noise(1 << 14, CH, 99)
  for x = 0, 6 do
    local f, p, o = 1 << (x + 8), 1 << (16 - x), 1 << (x + 6)
    s.frames, s.pad, s.offset = f, p, o
    s:configure{ frames = s.frames, pad = s.pad, offset = s.offset }
    s:reset_txring()
    T.eq(s:write(src, 1, f), f, "frames " .. f .. " written")
    s:start()
    s:wait()
    local n = s:read_available()
    T.eq(n, f + p - o, string.format("frames %d, pad %d, offset %d: frames + pad - offset recorded", f, p, o))
    local rec = ps.Buffer(n, CH)
    s:read(rec)
    local same, why = check_model(rec, src, d, o, f)
    T.ok(same, "the recording, bit for bit", why)
  end
end)

T.group("test_stream_replay", function()
  local s <close> = ps.OutputStream{ device = DEVICE, channels = CH }
  s:open_txring(8192, CH)
  local full = preamble_and_noise(8192, CH, 5)
  s:configure{}
  -- start and let the stream finish
  s:write(full)
  s:start()
  T.ok(s:wait(2), "finished within 2 s (not timed out)")
  T.ok(s.finished, "finished")
  -- start the stream, wait, then abort it
  s:reset_txring()
  s:write(full)
  s:start()
  T.ok(s.active, "active after start")
  s:wait(0.001)
  s:abort()
  T.ok(s.aborted, "aborted after abort()")
  -- start the stream, then stop it
  s:reset_txring()
  s:write(full)
  s:start()
  T.ok(s.active, "active after start")
  s:wait(0.001)
  s:stop()
  T.ok(s.stopped, "stopped after stop()")
  T.ok(not s.aborted, "and not aborted")
end)

T.group("test_channel_mapping", function()
  for _, map in ipairs{ { 1, 2 }, { 2, 1 } } do
    local name = table.concat(map, ",")
    do
      local s <close> = duplex()
      s.txmapping = map
      print("# txmapping " .. name)
      looper(s, RATE, map)
    end
    do
      local s <close> = duplex()
      s.rxmapping = map
      print("# rxmapping " .. name)
      looper(s, RATE, map)
    end
  end
end)

T.group("test_looping", function()
  local s <close> = duplex()
  local d = s:roundtrip_frames()
  local randblock = preamble_and_noise(RATE, CH, 31)
  local n = randblock:frames()
  -- pastream's WIREMODE has no delay: drop the round trip, and play it as pad
  local out = s:playrec(randblock, { frames = n * 5, loop = true, offset = d, pad = d })
  T.eq(out:frames(), n * 5, "five times the block")
  for i = 0, 4 do
    T.ok(out:sub(i * n + 1, (i + 1) * n):equals(randblock), "repetition " .. i + 1 .. " is the block, bit for bit")
  end
end)

T.group("test_soundfile_looping", function()
  local out = P("looping.wav")
  local n = input_buf:frames()
  do
    local s <close> = duplex()
    s:to_file(out, { subtype = "float" })
    s:playrec(INPUT, { frames = n * 5, loop = true })
  end
  local rec = assert(ps.load(out))
  T.eq(rec:frames(), n * 5, "the recording is five times the input")
  local m, delay, bad = compare_from_preamble(input_buf, rec, true)
  T.ok(delay >= 0, "the preamble is in the recording")
  T.ok(not bad, "from the preamble on, the input again and again, bit for bit", bad)
  T.eq(m, n * 5 - delay, "every frame after the delay matched")
end)

-- pastream queues an exception with its private _set_exception and wait()
-- raises it.  pastream-lua's counterpart is the error of a source
-- function, kept for whoever waits: an error value (not a string) comes
-- out of wait as that same value, and <close> still closes the stream.
T.group("test_deferred_exception_handling", function()
  local MyException = setmetatable({ msg = "BOO-urns!" }, { __tostring = function(e) return e.msg end })
  local s
  local ok, err = pcall(function()
    local stream <close> = ps.OutputStream{ device = DEVICE, channels = CH }
    s = stream
    stream:play(function() error(MyException) end)
  end)
  T.ok(not ok and rawequal(err, MyException), "wait raised the exception itself", tostring(err))
  T.ok(s and s.closed, "and the stream was closed")
end)

T.group("test_threaded_write_deferred_exception_handling", function()
  local txmsg = "BOO-urns!"
  local s <close> = ps.OutputStream{ device = DEVICE, channels = CH }
  local ok, err = pcall(function()
    s:play(function() error(txmsg, 0) end, { blocking = false, prebuffer = false })
    T.ok(s:wait(0.5), "not timed out")
  end)
  T.ok(not ok, "the writer's exception is raised")
  T.eq(tostring(err):match("^[^\n]*"), txmsg, "with its message")
end)

T.group("test_threaded_read_deferred_exception_handling", function()
  local rxmsg = "BOO!"
  -- a reader exception should also stop the stream
  local s <close> = ps.InputStream{ device = DEVICE, channels = CH }
  local ok, err = pcall(function()
    s:record{ out = function() error(rxmsg, 0) end, blocking = false }
    T.ok(s:wait(0.5), "not timed out")
  end)
  T.ok(not ok, "the reader's exception is raised")
  T.eq(tostring(err):match("^[^\n]*"), rxmsg, "with its message")
  T.ok(not s.active, "and the stream has stopped")
end)

T.group("test_frames_raises_underflow", function()
  local s <close> = duplex()
  s:open_txring(8192, CH)
  s.frames = 9000
  s:configure{ frames = s.frames }
  s:write(preamble_and_noise(8192, CH, 3))
  local ok, err = pcall(function()
    s:start()
    s:wait()
  end)
  T.ok(not ok and ps.is(err, ps.BufferEmpty), "BufferEmpty", err)
  T.ok(tostring(err):find("after 8192 of 9000 frames", 1, true), "after the 8192 frames there were", err)
end)

T.rmtree(dir)
T.done()
