-- DSP helpers (src/ldsp.c), each against a reference computed here in plain
-- Lua: naive DFT, window formulas, the biquad difference equation.  No device.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local dsp = ps.dsp

local pi, cos, sin, abs = math.pi, math.cos, math.sin, math.abs

local function maxdiff(buf, ref)
  local m = 0
  for i = 1, #ref do m = math.max(m, abs(buf[i] - ref[i])) end
  return m
end

-- float32 rounding of a value v: relative 6e-8, so compare with a tolerance.
local function near(got, want, tol, name)
  return T.ok(abs(got - want) <= tol, name, string.format("got %.9g, want %.9g (tol %g)", got, want, tol))
end

T.group("windows", function()
  for _, n in ipairs { 1, 2, 7, 64, 1025 } do
    for kind, f in pairs {
      hann = function(i) return 0.5 - 0.5 * cos(2 * pi * i / (n - 1)) end,
      hamming = function(i) return 0.54 - 0.46 * cos(2 * pi * i / (n - 1)) end,
      blackman = function(i) return 0.42 - 0.5 * cos(2 * pi * i / (n - 1)) + 0.08 * cos(4 * pi * i / (n - 1)) end,
    } do
      local w = dsp.window(kind, n)
      local ref = {}
      for i = 0, n - 1 do ref[i + 1] = n == 1 and 1 or f(i) end
      T.ok(w:frames() == n and w:channels() == 1 and w:format() == "float32", kind .. " " .. n .. ": mono float32 of n frames")
      local d = maxdiff(w, ref)
      T.ok(d < 1e-6, kind .. " " .. n .. ": matches the formula", "max diff " .. d)
      if n > 1 then T.ok(w[1] == w[n], kind .. " " .. n .. ": symmetric") end
    end
  end
  T.raises(function() dsp.window("kaiser", 8) end, "kaiser", "unknown window named")
  T.raises(function() dsp.window("hann", 0) end, "window length", "zero length refused")
end)

T.group("apply_window", function()
  local n = 16
  local b = ps.Buffer(n, 2)
  for i = 1, #b do b[i] = (i % 5) - 2 end
  local orig = b:copy()
  local w = dsp.window("hamming", n)
  T.ok(b:apply_window(w) == b, "method returns the buffer")
  local ok = true
  for f = 1, n do
    for c = 1, 2 do
      local want = orig:sample(f, c) * w[f]
      if abs(b:sample(f, c) - want) > 1e-6 then ok = false end
    end
  end
  T.ok(ok, "every channel times the window")
  dsp.apply_window(b, w)
  T.ok(abs(b:sample(3, 2) - orig:sample(3, 2) * w[3] * w[3]) < 1e-6, "ps.dsp.apply_window works too")
  T.raises(function() b:apply_window(dsp.window("hann", 15)) end, "15 frames", "length mismatch names the sizes")
  T.raises(function() dsp.apply_window(ps.Buffer(16, 1, "int16"), w) end, "float32", "int16 refused, naming float32")
end)

-- Naive DFT of a Lua array x (0..n-1 at 1..n): re, im arrays of n/2+1.
local function dft(x)
  local n = #x
  local re, im = {}, {}
  for k = 0, n // 2 do
    local r, i = 0, 0
    for t = 0, n - 1 do
      local a = -2 * pi * k * t / n
      r = r + x[t + 1] * cos(a)
      i = i + x[t + 1] * sin(a)
    end
    re[k + 1], im[k + 1] = r, i
  end
  return re, im
end

for _, n in ipairs { 64, 1024 } do
  T.group("rfft and magnitude, " .. n .. " points", function()
    -- a deterministic pseudorandom signal plus a sine, on 2 channels
    local b = ps.Buffer(n, 2)
    local seed = 12345
    for f = 1, n do
      seed = (seed * 1103515245 + 12345) % 2147483648
      b:sample(f, 1, seed / 2147483648 - 0.5 + 0.3 * sin(2 * pi * 5 * (f - 1) / n))
      b:sample(f, 2, cos(2 * pi * 3 * (f - 1) / n))
    end
    for _, ch in ipairs { 1, 2 } do
      local x = {}
      for f = 1, n do x[f] = b:sample(f, ch) end
      local rre, rim = dft(x)
      local re, im = dsp.rfft(b, ch)
      T.eq(re:frames(), n // 2 + 1, "rfft: n/2+1 bins")
      local tol = 1e-4 * n   -- float32 FFT error grows with n (values reach n/2)
      T.ok(maxdiff(re, rre) < tol and maxdiff(im, rim) < tol, "rfft ch" .. ch .. " matches the DFT",
           string.format("re %g im %g", maxdiff(re, rre), maxdiff(im, rim)))
      local mag = dsp.fft_magnitude(b, ch)
      local rmag = {}
      for k = 1, #rre do rmag[k] = math.sqrt(rre[k] ^ 2 + rim[k] ^ 2) end
      T.ok(maxdiff(mag, rmag) < tol, "magnitude ch" .. ch .. " matches the DFT", "diff " .. maxdiff(mag, rmag))
    end
    -- default channel: the mean of the channels
    local x = {}
    for f = 1, n do x[f] = (b:sample(f, 1) + b:sample(f, 2)) / 2 end
    local rre, rim = dft(x)
    local rmag = {}
    for k = 1, #rre do rmag[k] = math.sqrt(rre[k] ^ 2 + rim[k] ^ 2) end
    T.ok(maxdiff(dsp.fft_magnitude(b), rmag) < 1e-4 * n, "no channel: spectrum of the channels' mean")
    -- out buffer reused: same values, no new buffer
    local out = ps.Buffer(n, 1)
    local got = dsp.fft_magnitude(b, 1, out)
    T.ok(got == out and out:frames() == n // 2 + 1, "out buffer reused and resized")
    T.ok(out:equals(dsp.fft_magnitude(b, 1)), "cached plan gives the same result again")
  end)
end

T.group("fft errors", function()
  T.raises(function() dsp.fft_magnitude(ps.Buffer(63)) end, "63", "odd size refused, naming it")
  T.raises(function() dsp.fft_magnitude(ps.Buffer(64, 2), 3) end, "channel 3 out of range 1..2", "bad channel")
  T.raises(function() dsp.fft_magnitude(ps.Buffer(64), 1, ps.Buffer(10)) end, "capacity >= 33", "small out buffer")
  -- more sizes than the cache holds, then the first again
  for n = 2, 40, 2 do dsp.fft_magnitude(ps.Buffer(n)) end
  local b = ps.Buffer(8); b[1] = 1
  T.ok(dsp.fft_magnitude(b)[5] == 1, "impulse: flat spectrum after cache eviction")
end)

T.group("1 kHz sine at 48 kHz peaks at bin 22", function()
  local n, rate = 1024, 48000
  local b = ps.Buffer(n)
  for f = 1, n do b[f] = 0.5 * sin(2 * pi * 1000 * (f - 1) / rate) end
  b:apply_window(dsp.window("hann", n))
  local mag = dsp.fft_magnitude(b)
  local best = 1
  for k = 2, #mag do if mag[k] > mag[best] then best = k end end
  T.eq(best, math.floor(1000 * n / rate + 0.5) + 1, "peak bin (1-based)")
  T.eq(best, 22, "peak bin is 22")
end)

-- Reference biquad: RBJ coefficients and the direct-form-I difference equation.
local function rbj(kind, f0, q, fs)
  local w0 = 2 * pi * f0 / fs
  local cw, alpha = cos(w0), sin(w0) / (2 * q)
  local b0, b1, b2
  if kind == "lowpass" then b0, b1, b2 = (1 - cw) / 2, 1 - cw, (1 - cw) / 2
  elseif kind == "highpass" then b0, b1, b2 = (1 + cw) / 2, -(1 + cw), (1 + cw) / 2
  else b0, b1, b2 = alpha, 0, -alpha end
  local a0 = 1 + alpha
  return b0 / a0, b1 / a0, b2 / a0, -2 * cw / a0, (1 - alpha) / a0
end

local function filter_ref(x, b0, b1, b2, a1, a2)
  local y, x1, x2, y1, y2 = {}, 0, 0, 0, 0
  for i = 1, #x do
    local v = b0 * x[i] + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
    x2, x1, y2, y1 = x1, x[i], y1, v
    y[i] = v
  end
  return y
end

for _, kind in ipairs { "lowpass", "highpass", "bandpass" } do
  T.group("Biquad " .. kind, function()
    local fs, f0, q, n = 48000, 1500, 2.0, 4000
    local bq = dsp.Biquad{ type = kind, freq = f0, q = q, samplerate = fs, channels = 2 }
    local c = { bq:coefficients() }
    local r = { rbj(kind, f0, q, fs) }
    local cd = 0
    for i = 1, 5 do cd = math.max(cd, abs(c[i] - r[i])) end
    T.ok(cd < 1e-12, "RBJ coefficients", "diff " .. cd)
    -- the input as float32 samples, so the reference filters the same values
    local input = ps.Buffer(n, 2)
    local seed = 7
    for f = 1, n do
      seed = (seed * 1103515245 + 12345) % 2147483648
      input:sample(f, 1, seed / 2147483648 - 0.5)
      input:sample(f, 2, sin(2 * pi * 440 * f / fs))
    end
    local whole = input:copy()
    bq:process(whole)
    local ok = true
    for ch = 1, 2 do
      local x = {}
      for f = 1, n do x[f] = input:sample(f, ch) end
      local y = filter_ref(x, table.unpack(r))
      for f = 1, n do if abs(whole:sample(f, ch) - y[f]) > 1e-5 then ok = false end end
    end
    T.ok(ok, "one call matches the difference equation, both channels")
    -- chunked in several calls of uneven sizes: state kept, identical output
    bq:reset()
    local chunked = input:copy()
    local pos, sizes = 1, { 1, 17, 500, 1, 1024, 3 }
    local si = 0
    while pos <= n do
      si = si % #sizes + 1
      local len = math.min(sizes[si], n - pos + 1)
      local piece = chunked:sub(pos, pos + len - 1)
      bq:process(piece)
      chunked:copyfrom(piece, pos)
      pos = pos + len
    end
    T.ok(chunked:equals(whole), "chunked calls give the identical output")
    -- without reset, state carries over: processing again differs from fresh
    local again = input:copy()
    bq:process(again)
    T.ok(not again:equals(whole), "state carries over between calls")
    bq:reset()
    again = input:copy()
    bq:process(again)
    T.ok(again:equals(whole), "reset clears the state")
  end)
end

T.group("Biquad attenuation and errors", function()
  local fs, n = 48000, 48000
  local function tone_rms(kind, freq, f0)
    local b = ps.Buffer(n)
    for f = 1, n do b[f] = sin(2 * pi * freq * f / fs) end
    dsp.Biquad{ type = kind, freq = f0, samplerate = fs }:process(b)
    return b:sub(n // 2):rms() / math.sqrt(0.5)
  end
  T.ok(dsp.to_db(tone_rms("lowpass", 5000, 200)) < -40, "lowpass 200 Hz: 5 kHz down > 40 dB")
  T.ok(abs(dsp.to_db(tone_rms("lowpass", 50, 1000))) < 0.1, "lowpass 1 kHz: 50 Hz passes")
  T.ok(dsp.to_db(tone_rms("highpass", 50, 1000)) < -30, "highpass 1 kHz: 50 Hz down > 30 dB")
  T.ok(abs(dsp.to_db(tone_rms("bandpass", 1000, 1000))) < 0.1, "bandpass: 0 dB at the centre")
  T.raises(function() dsp.Biquad{ type = "notch", freq = 1, samplerate = 48000 } end, "notch", "bad type named")
  T.raises(function() dsp.Biquad{ type = "lowpass", samplerate = 48000 } end, "'freq' is required", "freq required")
  T.raises(function() dsp.Biquad{ type = "lowpass", freq = 30000, samplerate = 48000 } end, "samplerate/2", "freq above Nyquist")
  T.raises(function() dsp.Biquad{ type = "lowpass", freq = 100, samplerate = 48000, q = 0 } end, "q must be > 0", "q > 0")
  T.raises(function() dsp.Biquad{ type = "lowpass", freq = 100, samplerate = 48000 }:process(ps.Buffer(4, 2)) end,
           "1 channels cannot process a buffer of 2", "channel mismatch named")
end)

T.group("dB, gain_db, mix", function()
  near(dsp.to_db(1), 0, 1e-12, "to_db(1) = 0")
  near(dsp.to_db(0.5), 20 * math.log(0.5, 10), 1e-12, "to_db(0.5) = 20 log10 0.5")
  near(dsp.to_db(-0.1), -20, 1e-12, "to_db of a negative amplitude uses |x|")
  T.eq(dsp.to_db(0), -math.huge, "to_db(0) = -inf")
  near(dsp.from_db(-6), 10 ^ (-6 / 20), 1e-15, "from_db(-6)")
  near(dsp.from_db(dsp.to_db(0.123)), 0.123, 1e-12, "round trip")
  local b = ps.Buffer({ 1, -0.5, 0.25, 1 }, 2)
  T.ok(b:gain_db(-20) == b, "gain_db returns the buffer")
  near(b[2], -0.05, 1e-7, "gain_db -20 dB: x 0.1")
  dsp.gain_db(b, 20, 2)
  near(b[1], 0.1, 1e-7, "channel 1 untouched")
  near(b[4], 1, 1e-6, "channel 2 back up 20 dB")
  local s = ps.Buffer({ 1, 0, 0.5, 0.5, -1, 1 }, 2)
  local m = dsp.mix(s)
  T.ok(m:channels() == 1 and m:frames() == 3, "mix: mono, same frames")
  T.ok(maxdiff(m, { 0.5, 0.5, 0 }) < 1e-7, "mix: mean of channels")
  T.ok(maxdiff(dsp.mix(s, { 1, -2 }), { 1, -0.5, -3 }) < 1e-7, "mix with weights")
  T.raises(function() dsp.mix(s, { 1 }) end, "1 weights for a buffer of 2 channels", "weights count checked")
end)

T.done()
