-- spectrum.lua: the spectrum of a file or a live input (Hann window, 50% overlap), as terminal bars,
-- or a file's spectrogram as a PNG picture (-o)
local ps = require "pastream"
local recipe = require "pastream.recipe"
local dsp = ps.dsp

local opt = recipe.parse(arg, {
  usage = "spectrum.lua FILE [-n N] [--bands B] [--pgm OUT.pgm]\n"
       .. "       spectrum.lua FILE -o OUT.png [-x W] [-y H] [-z DB] [-n N] [-w WINDOW] [--log] [--mix]\n"
       .. "       spectrum.lua -D DEVICE [-d SECONDS] [-n N] [-r RATE]",
  about = "Average magnitude spectrum (Hann window, 50% overlap, channels mixed) drawn as\n"
       .. "bars in dBFS, then the peak frequency ('peak: 1000.0 Hz').  Offline it can also\n"
       .. "write the spectrogram: -o OUT.png draws it as sox does (a pane per channel, time\n"
       .. "and frequency axes, a dBFS legend in a heat palette, a caption); --pgm writes the\n"
       .. "raw greyscale PGM of old (-120..0 dBFS black to white).  Live, the bars are\n"
       .. "redrawn as audio arrives.",
  args = { 0, 1 },
  { "n", "chunksize", "N", "FFT size in frames, even; default 2048 (PNG: from -y)", recipe.integer },
  { "o", "output", "OUT.png", "offline: write the spectrogram as a PNG picture", nil },
  { "x", "width", "W", "PNG: plot width in pixels (time columns); default 800", recipe.integer },
  { "y", "height", "H", "PNG: height of each channel's pane in pixels; default 513 mono, 257 stereo", recipe.integer },
  { "z", "range", "DB", "PNG: dynamic range in dB (the legend's span); default 120", recipe.positive },
  { "w", "window", "WINDOW", "PNG: hann (default), hamming, blackman or rectangular", nil },
  { nil, "log", nil, "PNG: logarithmic frequency axis" },
  { nil, "mix", nil, "PNG: one pane with the channels mixed" },
  { "t", "title", "TEXT", "PNG: the title (default: the file name)", nil },
  { nil, "pgm", "OUT.pgm", "offline: write the spectrogram to OUT.pgm", nil },
  { "b", "bands", "B", "number of bars (log-spaced bands); default 24", recipe.integer, 24 },
  { "D", "device", "DEVICE", "live: input device, index or name ('' for the default)", function(v) return v end },
  { "d", "duration", "SECONDS", "live: how long (default: until Ctrl-C)", recipe.positive },
  { "r", "rate", "RATE", "live: sample rate in Hz (default: the device's)", recipe.positive },
  more = "examples: pastream-lua spectrum.lua tone.wav -o tone.png\n"
      .. "          pastream-lua spectrum.lua speech.wav -o speech.png -x 1200 -y 300 -z 90 --log\n"
      .. "          pastream-lua spectrum.lua tone.wav --pgm tone.pgm\n"
      .. "          pastream-lua spectrum.lua -D '' -d 5",
})

local live = opt.device ~= nil
if live == (opt[1] ~= nil) then recipe.usage_error(arg, "give either FILE or --device") end
if opt.output then
  if live then recipe.usage_error(arg, "-o/--output works on files only") end
  if opt.pgm then recipe.usage_error(arg, "give either -o (PNG) or --pgm") end
  recipe.main(arg, function()
    local info, err = ps.spectrogram(opt[1], {
      out = opt.output, width = opt.width, height = opt.height, range = opt.range,
      fft = opt.chunksize, window = opt.window, log = opt.log, mix = opt.mix, title = opt.title })
    if not info then recipe.die(arg, err) end
    print(string.format("wrote %s: %d x %d spectrogram (FFT %d, %d windows)",
                        opt.output, info.width, info.height, info.fft, info.windows))
  end)
  return
end
for _, k in ipairs{ "width", "height", "range", "window", "log", "mix", "title" } do
  if opt[k] then recipe.usage_error(arg, "--" .. k .. " is for the PNG picture (-o OUT.png)") end
end

local n = opt.chunksize or 2048
if n < 2 or n % 2 ~= 0 then recipe.usage_error(arg, "chunksize must be an even integer >= 2, got " .. n) end
if opt.bands < 1 then recipe.usage_error(arg, "bands must be >= 1") end
if live and opt.pgm then recipe.usage_error(arg, "--pgm works on files only") end
if not live and (opt.duration or opt.rate) then recipe.usage_error(arg, "--duration and --rate are for --device") end

local win = dsp.window("hann", n)
local wsum = 0
for i = 1, n do wsum = wsum + win[i] end
local scale = 2 / wsum            -- a full-scale sine reads 0 dBFS at its bin
local mono = ps.Buffer(n)         -- reused: mix, window, FFT without allocating
local mag = ps.Buffer(n // 2 + 1)
local nbins = n // 2 + 1
local FLOOR = -120

local power, count = {}, 0        -- the running sum of |X|^2 per bin
for k = 1, nbins do power[k] = 0 end

-- One chunk: mono mix, window, magnitudes (scaled to dBFS amplitude).
local function analyze(chunk)
  if chunk:frames() < n then      -- a short last chunk: zero padded
    mono:fill(0)
    local m = dsp.mix(chunk)
    mono:copyfrom(m, 1, 1, m:frames())
  else
    dsp.mix(chunk, nil, mono)
  end
  mono:apply_window(win)
  dsp.fft_magnitude(mono, 1, mag)
  for k = 1, nbins do
    local a = mag[k] * scale
    power[k] = power[k] + a * a
  end
  count = count + 1
end

local function avg_db(k) return count > 0 and math.max(FLOOR, dsp.to_db(math.sqrt(power[k] / count))) or FLOOR end

-- The peak, refined by a parabola through the dB values around the top bin.
local function peak(rate)
  local best = 2
  for k = 2, nbins do if power[k] > power[best] then best = k end end
  local off = 0
  if best > 1 and best < nbins then
    local a, b, c = avg_db(best - 1), avg_db(best), avg_db(best + 1)
    local d = a - 2 * b + c
    if d < 0 then off = 0.5 * (a - c) / d end
  end
  return (best - 1 + off) * rate / n, avg_db(best)
end

local function bars(rate, out)
  local lo, hi = math.max(20, rate / n), rate / 2
  local width = 50
  local lines = {}
  for i = 1, opt.bands do
    local f1 = lo * (hi / lo) ^ ((i - 1) / opt.bands)
    local f2 = lo * (hi / lo) ^ (i / opt.bands)
    local k1 = math.max(1, math.floor(f1 * n / rate + 0.5) + 1)
    local k2 = math.min(nbins, math.max(k1, math.floor(f2 * n / rate + 0.5) + 1))
    local db = FLOOR
    for k = k1, k2 do db = math.max(db, avg_db(k)) end
    local len = math.floor((db - FLOOR) / -FLOOR * width + 0.5)
    lines[#lines + 1] = string.format("%7.0f Hz %6.1f dB |%s", f1, db, string.rep("#", len))
  end
  local pf, pdb = peak(rate)
  lines[#lines + 1] = string.format("peak: %.1f Hz (%.1f dBFS), %d chunks of %d frames", pf, pdb, count, n)
  out:write(table.concat(lines, "\n"), "\n")
end

-- The spectrogram: one column per chunk, stored as a string of bytes.
local columns = {}
local function column()
  local t = {}
  for k = nbins, 1, -1 do      -- top row = highest frequency
    local db = math.max(FLOOR, dsp.to_db(mag[k] * scale))
    t[#t + 1] = string.char(math.floor((db - FLOOR) / -FLOOR * 255 + 0.5))
  end
  columns[#columns + 1] = table.concat(t)
end

local function write_pgm(path)
  local f = assert(io.open(path, "wb"))
  f:write(string.format("P5\n%d %d\n255\n", #columns, nbins))
  local row = {}
  for y = 1, nbins do
    for x = 1, #columns do row[x] = columns[x]:sub(y, y) end
    f:write(table.concat(row))
  end
  assert(f:close())
end

recipe.main(arg, function()
  if not live then
    local f, err = ps.open(opt[1])
    if not f then recipe.die(arg, err) end
    local rate = f.samplerate
    f:close()
    for chunk in ps.chunks{ input = opt[1], chunksize = n, overlap = n // 2 } do
      analyze(chunk)
      if opt.pgm then column() end
    end
    if count == 0 then recipe.die(arg, opt[1] .. ": no audio frames") end
    bars(rate, io.stdout)
    if opt.pgm then
      write_pgm(opt.pgm)
      print(string.format("wrote %s: %d x %d spectrogram", opt.pgm, #columns, nbins))
    end
    return
  end

  local device = opt.device ~= "" and opt.device or nil
  local rate = opt.rate or ps.device(device, "input").default_samplerate
  local frames = ps.frames(opt.duration, rate)
  local tty = os.getenv("TERM") and os.execute("test -t 1")
  local stopped <close> = ps.stop_on_signal()
  local every, since = math.max(1, math.ceil(0.2 * rate / (n // 2))), 0   -- redraw ~5 times a second
  for chunk in ps.chunks{ device = device, samplerate = rate, channels = 1, chunksize = n,
                          overlap = n // 2, frames = frames } do
    analyze(chunk)
    since = since + 1
    if tty and since >= every then
      io.stdout:write("\27[H\27[J")
      bars(rate, io.stdout)
      for k = 1, nbins do power[k] = 0 end
      count, since = 0, 0
    end
    if stopped() then break end
  end
  stopped:release()
  if count > 0 then bars(rate, io.stdout) end
end)
