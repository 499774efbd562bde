-- ps.Buffer: constructors, indexing with bounds checks, and the C operations
-- each checked against a plain Lua computation.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"

T.group("constructors", function()
  local b = ps.Buffer(10, 3, "int16")
  T.eq(b:frames(), 10, "frames"); T.eq(b:channels(), 3, "channels"); T.eq(b:format(), "int16", "format")
  T.eq(#b, 30, "#buf counts samples")
  T.eq(b[30], 0.0, "new buffers are silent")
  T.eq(ps.Buffer(4, 1, "uint8")[1], 0.0, "uint8 silence reads as 0")
  local t = ps.Buffer({ 0.5, -0.5, 0.25, 1 }, 2)
  T.eq(t:frames(), 2, "from a table: frames = samples / channels")
  T.eq(t:sample(2, 1), 0.25, "from a table: interleaved order")
  local raw = string.pack("<ff", 0.5, -1)
  local s = ps.Buffer(raw, 1)
  T.eq(s[2], -1.0, "from a byte string")
  T.eq(s:tostring(), raw, "tostring gives the bytes back")
  T.raises(function() ps.Buffer({ 1, 2, 3 }, 2) end, "3 samples is not a whole number of 2-channel frames", "a ragged table")
  T.raises(function() ps.Buffer("abc", 1) end, "3 bytes is not a whole number of 4-byte frames", "a ragged string")
  T.raises(function() ps.Buffer(10, 1, "float64") end, "unknown sample format 'float64'", "a bad format")
  T.raises(function() ps.Buffer(-1) end, "frames must be >= 0", "negative frames")
  T.raises(function() ps.Buffer({ 1, "x" }) end, "sample 2 of the table is not a number", "a non-number sample")
end)

T.group("indexing", function()
  local b = ps.Buffer(4, 2)
  b[1] = 0.5; b[8] = -0.75
  T.eq(b:sample(1, 1), 0.5, "buf[i] writes sample i")
  T.eq(b:sample(4, 2), -0.75, "the last sample is frame 4 channel 2")
  b:sample(2, 2, 0.125)
  T.eq(b[4], 0.125, "sample(f, c, v) writes")
  T.raises(function() return b[9] end, "sample index 9 out of range 1..8 (4 frames x 2 channels)", "read past the end says the sizes")
  T.raises(function() b[0] = 1 end, "sample index 0 out of range 1..8", "write before the start says the sizes")
  T.raises(function() b:sample(5, 1) end, "frame 5 out of range 1..4", "frame out of range")
  T.raises(function() b:sample(1, 3) end, "channel 3 out of range 1..2", "channel out of range")
  T.eq(b.frames, ps.Buffer(0).frames, "methods are reachable by name")
end)

T.group("formats round-trip within their precision", function()
  for _, f in ipairs { "float32", "int32", "int24", "int16", "int8", "uint8" } do
    local b = ps.Buffer({ 0.5, -0.5, 0, -1 }, 1, f)
    T.ok(b[1] == 0.5 and b[2] == -0.5 and b[3] == 0 and b[4] == -1, f .. " holds 0.5, -0.5, 0, -1 exactly")
  end
  local c = ps.Buffer({ 2.0, -2.0 }, 1, "int16")
  T.ok(c[1] == 32767 / 32768 and c[2] == -1, "integer formats clip")
  local i16 = ps.Buffer({ 0.25, -0.125 }, 2):convert("int16")
  T.eq(i16:format(), "int16", "convert gives the new format")
  T.eq(select(1, string.unpack("<i2", i16:tostring())), 8192, "convert scales by 32768")
end)

T.group("operations against plain Lua", function()
  local n = 1000
  local b = ps.Buffer(n, 2)
  local ref = {}
  for i = 1, 2 * n do ref[i] = math.sin(i * 0.37) * 0.9; b[i] = ref[i] end
  local function close(a, e) return math.abs(a - e) < 1e-6 end
  local pk, rms, mn, mx = { 0, 0 }, { 0, 0 }, { 1, 1 }, { -1, -1 }
  for i = 1, 2 * n do
    local c = (i - 1) % 2 + 1
    local v = b[i]
    pk[c] = math.max(pk[c], math.abs(v)); rms[c] = rms[c] + v * v
    mn[c] = math.min(mn[c], v); mx[c] = math.max(mx[c], v)
  end
  local p1, p2 = b:peak()
  T.ok(p1 == pk[1] and p2 == pk[2], "peak per channel")
  local r1, r2 = b:rms()
  T.ok(close(r1, math.sqrt(rms[1] / n)) and close(r2, math.sqrt(rms[2] / n)), "rms per channel")
  T.ok(b:min(1) == mn[1] and b:max(2) == mx[2], "min and max of one channel")
  -- buf:stats: every channel's peak and sum of squares in one call, folded
  -- into running tables; the same figures as peak/rms and a plain loop, for
  -- the vector path's channel counts (1, 2, 4), others (3) and int16.
  for _, case in ipairs{ { 1, "float32" }, { 2, "float32" }, { 3, "float32" },
                         { 4, "float32" }, { 2, "int16" } } do
    local ch, fmt = case[1], case[2]
    local nf = 1003                                  -- not a multiple of any vector
    local x = ps.Buffer(nf, ch, fmt)
    for i = 1, nf * ch do x[i] = math.sin(i * 0.91) * (0.3 + 0.1 * ((i - 1) % ch)) end
    local pk2, sq2 = {}, {}
    for c = 1, ch do pk2[c], sq2[c] = 0, 0 end
    for i = 1, nf * ch do
      local c, v = (i - 1) % ch + 1, x[i]
      pk2[c] = math.max(pk2[c], math.abs(v)); sq2[c] = sq2[c] + v * v
    end
    local P, S = x:stats()
    local good = true
    for c = 1, ch do
      if P[c] ~= pk2[c] or math.abs(S[c] - sq2[c]) > 1e-9 * nf then good = false end
      if P[c] ~= x:peak(c) or math.abs(math.sqrt(S[c] / nf) - x:rms(c)) > 1e-12 then good = false end
    end
    T.ok(good, ("stats of %d x %s: peak and sum of squares per channel, as peak/rms"):format(ch, fmt))
    -- in two chunks, folded into the same tables
    local P2, S2 = x:sub(1, 500):stats()
    x:sub(501, nf):stats(P2, S2)
    good = true
    for c = 1, ch do
      if P2[c] ~= P[c] or math.abs(S2[c] - S[c]) > 1e-9 then good = false end
    end
    T.ok(good, ("stats of %d x %s in two chunks: the same running totals"):format(ch, fmt))
  end
  local okst, errst = pcall(b.stats, b, "peaks")
  T.ok(not okst and errst:find("table of peaks or nil", 1, true), "stats: a bad table is named: " .. tostring(errst))
  local g = b:copy():gain(0.5)
  local ok = true
  for i = 1, #b do if g[i] ~= b[i] * 0.5 then ok = false end end
  T.ok(ok, "gain multiplies every sample (float32 exact for 0.5)")
  local m = b:copy():add(b, -1)
  T.eq(m:peak(1), 0.0, "add(other, -1) cancels")
  -- add against plain Lua: x + g*y in double, rounded to float once, for
  -- float32 into float32 (its own loop) and int16 into float32 (the generic one)
  local function f32(v) return (string.unpack("<f", string.pack("<f", v))) end
  for _, ofmt in ipairs{ "float32", "int16" } do
    local y = ps.Buffer(#b // 2, 2, ofmt)
    for i = 1, #y do y[i] = ((i * 7919) % 2001 - 1000) / 1000.3 end
    for _, gain in ipairs{ 1, -0.3, 1 / 3 } do
      local sum, want = b:copy():add(y, gain), true
      for i = 1, #b do if sum[i] ~= f32(b[i] + gain * y[i]) then want = false break end end
      T.ok(want, ("add(%s, %g) into float32 is x + g*y rounded once, every sample"):format(ofmt, gain))
    end
  end
  local f = ps.Buffer(3, 2):fill(0.25, 2)
  T.ok(f[1] == 0 and f[2] == 0.25 and f[6] == 0.25, "fill one channel")
  local s = b:sub(10, 19)
  T.ok(s:frames() == 10 and s:sample(1, 1) == b:sample(10, 1), "sub(i, j) copies frames i..j")
  T.ok(b:sub(-5):frames() == 5, "sub with a negative start counts from the end")
  T.ok(b:copy():equals(b), "copy equals the original")
  local t = b:sub(1, 2):totable()
  T.ok(#t == 4 and t[3] == b[3], "totable gives the samples")
  T.raises(function() b:add(ps.Buffer(3, 2)) end, "cannot add a buffer of 3 frames x 2 channels to one of 1000 x 2", "add checks sizes")
  local r = ps.Buffer(100, 1)
  r:resize(10)
  T.ok(r:frames() == 10 and r:capacity() == 100 and #r == 10, "resize within the capacity")
  T.raises(function() r:resize(101) end, "capacity is 100", "resize past the capacity")
  local d = ps.Buffer(6, 1)
  for i = 1, 6 do d[i] = i / 8 end
  d:copyfrom(d, 1, 3, 4)
  T.ok(d[1] == 3 / 8 and d[4] == 6 / 8, "copyfrom within a buffer (overlapping)")
  T.raises(function() d:copyfrom(ps.Buffer(2, 2)) end, "cannot copy 2 channels of float32 into 1 channels", "copyfrom checks channels")
end)

T.group("__close and __gc free the memory once", function()
  do local b <close> = ps.Buffer(1000) end
  local b = ps.Buffer(10)
  getmetatable(b).__close(b)
  T.raises(function() return b[1] end, "freed buffer", "a closed buffer says so")
  collectgarbage(); collectgarbage()
  T.ok(true, "finalizers ran without a crash")
end)

T.done()
