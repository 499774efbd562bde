-- Pictures (issue 20): spectrogram and waveform PNGs (src/lpicture.c,
-- lua/pastream/picture.lua, scripts/spectrum.lua -o, scripts/waveform.lua),
-- each decoded again with libpng (core.read_png) and looked at: the size,
-- where the axis ticks are for a known file, the brightest row of a tone,
-- the red clip marks exactly where a generated file clips.  No device.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local core = require "pastream.core"

local dir = os.tmpname(); os.remove(dir); assert(os.execute("mkdir -p " .. dir))
local RATE = 48000
local pi, sin, floor, abs = math.pi, math.sin, math.floor, math.abs

-- A float32 buffer of `frames` frames; fill(f, c) gives the sample.
local function signal(frames, channels, fill)
  local b = ps.Buffer(frames, channels, "float32")
  for f = 1, frames do
    for c = 1, channels do b:sample(f, c, fill(f - 1, c)) end
  end
  return b
end

local function tone(freq, amp) return function(f) return amp * sin(2 * pi * freq * f / RATE) end end

local function decode(path)
  local im, err = core.read_png(path)
  assert(im, err)
  function im.px(x, y)
    local i = (y * im.width + x) * 3 + 1
    return im.pixels:byte(i, i + 2)
  end
  function im.is(x, y, r, g, b)
    local pr, pg, pb = im.px(x, y)
    return pr == r and pg == g and pb == b
  end
  return im
end

local GREY = { 128, 128, 128 }   -- the frame and tick colour

-- The brightest row (0 = the pane's bottom) of column x in a pane.
local function brightest_row(im, x, y0, h)
  local best, row = -1, nil
  for y = y0, y0 + h - 1 do
    local r, g, b = im.px(x, y)
    local l = r + g + b
    if l > best then best, row = l, y0 + h - 1 - y end
  end
  return row, best
end

T.group("spectrogram of a 1 kHz tone: size, ticks, brightest row", function()
  local path = dir .. "/tone.wav"
  ps.save(path, signal(10 * RATE, 2, function(f, c)
    return c == 1 and tone(1000, 0.5)(f) or tone(3000, 0.5)(f)
  end), RATE)
  local out = dir .. "/tone.png"
  local info = assert(ps.spectrogram(path, { out = out, width = 500 }))
  local im = decode(out)
  -- layout: 64 left, 500 plot, 1 border, 80 legend; 30 top, 2 x 257 + 14, 1, 40
  T.eq(im.width, 64 + 500 + 1 + 80, "PNG width: margins + 500 columns + legend")
  T.eq(im.height, 30 + 2 * 257 + 14 + 1 + 40, "PNG height: two panes of 257 rows (the sox default for stereo)")
  T.eq(info.width, im.width, "info.width is the PNG's")
  T.eq(info.height, im.height, "info.height is the PNG's")
  T.eq(info.fft, 512, "FFT of 512 for 257 rows: a bin a row")
  -- time ticks: 10 s over 500 px, labels >= 60 px apart -> every 2 s, 100 px
  local xs = {}
  for i, t in ipairs(info.xticks) do xs[i] = string.format("%g@%d", t.value, t.x) end
  T.eq(table.concat(xs, " "), "0@64 2@164 4@264 6@364 8@464 10@564", "time ticks every 2 s at round pixels")
  local yb = info.pane_y[2] + 257 + 1
  local marks, gaps = 0, 0
  for k = 0, 5 do
    local x = 64 + 100 * k
    if im.is(x, yb + 2, table.unpack(GREY)) then marks = marks + 1 end
    if not im.is(x + 50, yb + 2, table.unpack(GREY)) then gaps = gaps + 1 end
  end
  T.eq(marks, 6, "the decoded PNG has a tick mark under every tick position")
  T.eq(gaps, 6, "and none half-way between them")
  -- frequency ticks: 24 kHz over 257 rows, >= 16 px apart -> every 2 kHz
  local fy = {}
  for _, t in ipairs(info.yticks) do
    if #fy < 13 then fy[#fy + 1] = string.format("%g@%d", t.value, t.y) end
  end
  local want = {}
  for k = 0, 12 do want[#want + 1] = string.format("%g@%d", 2000 * k, 30 + 256 - floor(2000 * k / 24000 * 256 + 0.5)) end
  T.eq(table.concat(fy, " "), table.concat(want, " "), "frequency ticks every 2 kHz of the first pane, row = f / 24 kHz * 256")
  local ymarks = 0
  for _, t in ipairs(info.yticks) do
    if im.is(64 - 3, t.y, table.unpack(GREY)) then ymarks = ymarks + 1 end
  end
  T.eq(ymarks, #info.yticks, "a tick mark left of the pane at every frequency tick (" .. #info.yticks .. ")")
  -- the tone: brightest row at 1 kHz (pane 1) and 3 kHz (pane 2), +- one bin
  local bin = RATE / 512
  for p, freq in ipairs { 1000, 3000 } do
    local misses = {}
    for _, x in ipairs { 64 + 10, 64 + 250, 64 + 490 } do
      local row = brightest_row(im, x, info.pane_y[p], 257)
      local f = row / 256 * RATE / 2
      if abs(f - freq) > bin then misses[#misses + 1] = string.format("x %d: %.1f Hz", x, f) end
    end
    T.ok(#misses == 0, string.format("pane %d: the brightest row is %d Hz +- one bin (%.2f Hz)", p, freq, bin),
         table.concat(misses, ", "))
  end
  -- the legend: the top of the bar is the palette's loudest (white), its bottom black
  local lx = 64 + 500 + 18 + 5
  local r, g, b = im.px(lx, 30)
  T.ok(r == 255 and g == 255 and b == 255, "legend top is white (0 dBFS)", string.format("%d,%d,%d", r, g, b))
  T.ok(im.is(lx, info.pane_y[2] + 256, 0, 0, 0), "legend bottom is black (-120 dBFS)")
end)

T.group("spectrogram: mono from a Buffer, log axis, mix, options", function()
  local buf = signal(RATE, 1, tone(1000, 0.5))
  local out = dir .. "/mono.png"
  local info = assert(ps.spectrogram(buf, { out = out, samplerate = RATE, width = 200 }))
  local im = decode(out)
  T.eq(im.height, 30 + 513 + 1 + 40, "mono: one pane of 513 rows")
  T.eq(info.fft, 1024, "mono: FFT 1024")
  local row = brightest_row(im, 64 + 100, 30, 513)
  T.ok(abs(row / 512 * RATE / 2 - 1000) <= RATE / 1024, "mono Buffer: brightest row at 1 kHz +- one bin",
       "row " .. row .. " = " .. row / 512 * RATE / 2 .. " Hz")
  -- log frequency: row r is fmin * (nyq / fmin)^(r / (h - 1))
  info = assert(ps.spectrogram(buf, { out = out, samplerate = RATE, width = 200, height = 300, log = true }))
  im = decode(out)
  local fmin, nyq = math.max(20, RATE / info.fft), RATE / 2
  row = brightest_row(im, 64 + 100, 30, 300)
  local f = fmin * (nyq / fmin) ^ (row / 299)
  T.ok(abs(f - 1000) <= RATE / info.fft, "log axis: brightest row at 1 kHz +- one bin", string.format("%.1f Hz", f))
  local labels = {}
  for _, t in ipairs(info.yticks) do labels[#labels + 1] = string.format("%g", t.value) end
  T.ok(table.concat(labels, " "):find("1000 2000 5000 10000 20000", 1, true),
       "log axis: ticks at 1-2-5 values", table.concat(labels, " "))
  -- mixed: one pane for a stereo buffer
  local st = signal(RATE // 2, 2, function(f, c) return c == 1 and tone(1000, 0.5)(f) or 0 end)
  info = assert(ps.spectrogram(st, { out = out, samplerate = RATE, mix = true, width = 100, height = 129 }))
  T.eq(decode(out).height, 30 + 129 + 1 + 40, "mix: one pane")
  T.eq(info.frames, RATE // 2, "a stereo Buffer: its frames, not its samples")
  -- a signal shorter than its announced length: the rest is silence, no crash
  local short = core.Spectrogram { frames = 100000, channels = 2, width = 100, height = 65 }
  short:add(ps.Buffer(1000, 2))
  T.ok(short:write(out), "a spectrogram told 100000 frames and given 1000 is still drawn")
  local wshort = core.Waveform { frames = 100000, channels = 2, width = 100 }
  wshort:add(ps.Buffer(1000, 2))
  T.ok(wshort:write(out), "and a waveform")
  -- misuse raises naming the option; failures return nil, message
  T.raises(function() ps.spectrogram(buf, { out = out, fft = 7 }) end, "option 'fft'", "fft 7 raises")
  T.raises(function() ps.spectrogram(buf, { out = out, window = "kaiser" }) end, "option 'window'", "an unknown window raises")
  T.raises(function() ps.spectrogram(buf, { out = out, width = 3 }) end, "option 'width'", "width 3 raises")
  T.raises(function() ps.spectrogram(buf, {}) end, "option 'out'", "no out raises")
  T.raises(function() core.Spectrogram { frames = 10, channels = 8, height = 4000 } end, "over 16000 pixels high",
           "a picture too high raises, naming the option")
  T.raises(function() ps.spectrogram(42, { out = out }) end, "a file name or a Buffer", "a number as the source raises")
  local ok, err = ps.spectrogram(dir .. "/missing.wav", { out = out })
  T.ok(ok == nil and err:find("missing.wav", 1, true), "a missing file: nil and a message naming it", err)
  ok, err = ps.spectrogram(buf, { out = dir .. "/no/such/dir/x.png" })
  T.ok(ok == nil and err:find("no/such/dir", 1, true), "an unwritable output: nil and a message naming it", err)
  local path = dir .. "/tone.wav"
  local before = T.read(path)
  ok, err = ps.spectrogram(path, { out = path })
  T.ok(ok == nil and err:find("is the input file", 1, true), "out = the input file: refused", err)
  T.ok(T.read(path) == before, "and the input is untouched")
end)

-- Where two PNGs of one size differ: the bounding box {x0, y0, x1, y1} and
-- the colours the second has there (a set of "r,g,b"), or nil when equal.
local function diff(a, b)
  assert(a.width == b.width and a.height == b.height, "two sizes")
  local box, colours
  for y = 0, a.height - 1 do
    for x = 0, a.width - 1 do
      local r1, g1, b1 = a.px(x, y)
      local r2, g2, b2 = b.px(x, y)
      if r1 ~= r2 or g1 ~= g2 or b1 ~= b2 then
        box = box or { x, y, x, y }
        box[1], box[2] = math.min(box[1], x), math.min(box[2], y)
        box[3], box[4] = math.max(box[3], x), math.max(box[4], y)
        colours = colours or {}
        colours[r2 .. "," .. g2 .. "," .. b2] = true
      end
    end
  end
  return box, colours
end

T.group("title and caption: drawn where they belong, and nowhere else", function()
  local buf = signal(RATE // 2, 1, tone(1000, 0.5))
  local function draw(name, o)
    o.out, o.samplerate, o.width = dir .. "/" .. name .. ".png", RATE, 300
    assert(ps.spectrogram(buf, o))
    return decode(o.out)
  end
  local bare = draw("bare", { title = "", caption = "" })
  local titled = draw("titled", { title = "TITLE", caption = "" })
  local captioned = draw("captioned", { title = "", caption = "a caption" })
  -- the 5x8 font advances 6 pixels: "TITLE" is 29 wide, centred over the
  -- 300 columns of the plot that start at x = 64, from row 6
  local box, colours = diff(bare, titled)
  local n = 0 for _ in pairs(colours or {}) do n = n + 1 end
  T.ok(box and box[2] >= 6 and box[4] < 6 + 8 and box[1] >= 64 + (300 - 29) // 2 and box[3] < 64 + (300 - 29) // 2 + 29,
    "the title: only the 29 x 8 box centred over the plot, from row 6, differs",
    box and table.concat(box, " "))
  T.eq(n, 1, "... in one colour (the text's)")
  box = diff(bare, captioned)
  T.ok(box and box[1] >= 2 and box[3] < 2 + 9 * 6 and box[2] >= bare.height - 10 and box[4] < bare.height - 2,
    "the caption: only its box at the bottom left differs", box and table.concat(box, " "))
  -- the defaults: the file's name as the title, and a caption of what the picture shows
  local path = dir .. "/named.wav"
  ps.save(path, buf, RATE)
  local out = dir .. "/named.png"
  assert(ps.spectrogram(path, { out = out, width = 300 }))
  local named = decode(out)
  box = diff(bare, named)
  T.ok(box and box[2] >= 6 and box[4] >= named.height - 10, "by default the title (the file's name) and the caption are drawn",
    box and table.concat(box, " "))
end)

T.group("the README's pictures are what make pictures draws", function()
  local host = T.host()
  local ok = os.execute(string.format("%s doc/pictures.lua %s >/dev/null", host, dir))
  T.ok(ok, "doc/pictures.lua runs")
  for _, name in ipairs { "spectrogram.png", "waveform.png" } do
    T.ok(ok and T.read(dir .. "/" .. name) == T.read("doc/" .. name),
      "doc/" .. name .. " is, byte for byte, what it draws now")
  end
end)

T.group("waveform: clip marks exactly where the file clips", function()
  -- 1 s stereo, a -6 dBFS sine; clipped samples at known frames
  local clips = { [12000] = { 1, 1.0 }, [47999] = { 1, -1.0 } }
  for f = 30001, 30010 do clips[f] = { 2, -1.25 } end
  local path = dir .. "/clip.wav"
  ps.save(path, signal(RATE, 2, function(f, c)
    local k = clips[f]
    if k and k[1] == c then return k[2] end
    return tone(c == 1 and 440 or 660, 0.5)(f)
  end), RATE)
  local out = dir .. "/clip.png"
  local info = assert(ps.waveform(path, { out = out, width = 400, height = 100 }))
  local im = decode(out)
  T.eq(im.width, 64 + 400 + 1 + 20, "PNG width")
  T.eq(im.height, 30 + 2 * 100 + 14 + 1 + 40, "PNG height")
  T.eq(info.clipped, 12, "12 clipped samples counted")
  -- every column with a pure red pixel, per pane, against floor(frame * 400 / 48000)
  for p, want in ipairs { "100 399", "250" } do
    local cols = {}
    local y0 = info.pane_y[p]
    for x = 0, 399 do
      for y = y0, y0 + 99 do
        if im.is(64 + x, y, 255, 0, 0) then cols[#cols + 1] = tostring(x) break end
      end
    end
    T.eq(table.concat(cols, " "), want, "pane " .. p .. ": red exactly in the columns of the clipped frames")
  end
  local redelse = 0
  for y = 0, im.height - 1 do
    for x = 0, im.width - 1 do
      if (x < 64 or x >= 464) and im.is(x, y, 255, 0, 0) then redelse = redelse + 1 end
    end
  end
  T.eq(redelse, 0, "no red outside the plot")
  -- the envelope of a -6 dBFS sine spans 0.5 .. -0.5: rows 25 .. 74 of a 100-row pane
  local top, bottom
  for y = 0, 99 do
    local r, g, b = im.px(64 + 200, info.pane_y[1] + y)
    if b >= 200 and r < 200 then top = top or y; bottom = y end
  end
  T.ok(top and abs(top - 24.75) <= 1 and abs(bottom - 74.25) <= 1, "envelope from +0.5 to -0.5",
       string.format("rows %s..%s", tostring(top), tostring(bottom)))
  local xs = {}
  for i, t in ipairs(info.xticks) do xs[i] = string.format("%g@%d", t.value, t.x) end
  T.eq(table.concat(xs, " "), "0@64 0.2@144 0.4@224 0.6@304 0.8@384 1@464", "time ticks every 0.2 s")
  -- dB scale: -6 dBFS on a 48 dB range is 42/48 of the half height
  info = assert(ps.waveform(path, { out = out, width = 400, height = 101, scale = "db" }))
  im = decode(out)
  top = nil
  for y = 0, 100 do
    local r, g, b = im.px(64 + 200, info.pane_y[1] + y)
    if b >= 200 and r < 200 then top = y break end
  end
  local want = (1 - 42 / 48) / 2 * 100
  T.ok(top and abs(top - want) <= 1, "dB scale: the -6 dBFS peak at row " .. want, tostring(top))
  T.raises(function() ps.waveform(path, { out = out, scale = "log" }) end, "option 'scale'", "a bad scale raises")
end)

T.group("waveform: an hour's worth of columns from chunks of any size", function()
  -- the same picture whether the signal comes in one Buffer or in chunks
  local buf = signal(10007, 1, function(f) return ((f * 7919) % 2001 - 1000) / 1000 end)
  local a = core.Waveform { frames = 10007, channels = 1, width = 333 }
  a:add(buf)
  local b = core.Waveform { frames = 10007, channels = 1, width = 333 }
  local pos = 0
  for _, n in ipairs { 1, 2, 500, 4096, 3, 10007 } do
    n = math.min(n, 10007 - pos)
    if n > 0 then b:add(buf:sub(pos + 1, pos + n)) pos = pos + n end
  end
  T.eq(pos, 10007, "chunks cover the signal")
  local ia = assert(a:write(dir .. "/a.png")); local ib = assert(b:write(dir .. "/b.png"))
  T.ok(T.read(dir .. "/a.png") == T.read(dir .. "/b.png"), "chunked and whole give the same PNG")
  T.eq(ia.clipped, ib.clipped, "and the same clip count")
  local s1 = core.Spectrogram { frames = 10007, channels = 1, width = 50, height = 65 }
  s1:add(buf)
  local s2 = core.Spectrogram { frames = 10007, channels = 1, width = 50, height = 65 }
  pos = 0
  for _, n in ipairs { 7, 100, 2048, 1, 10007 } do
    n = math.min(n, 10007 - pos)
    if n > 0 then s2:add(buf:sub(pos + 1, pos + n)) pos = pos + n end
  end
  assert(s1:write(dir .. "/s1.png")); assert(s2:write(dir .. "/s2.png"))
  T.ok(T.read(dir .. "/s1.png") == T.read(dir .. "/s2.png"), "spectrogram: chunked and whole give the same PNG")
  s1:close(); s1:close()
  T.raises(function() s1:add(buf) end, "closed spectrogram", "a closed spectrogram raises")
  T.raises(function() a:add(ps.Buffer(10, 2)) end, "1 channels expected", "a chunk with other channels raises")
end)

T.group("recipes: spectrum.lua -o and waveform.lua", function()
  local host = arg and arg[-1] and arg[-1]:match("pastream%-lua$") and arg[-1] or "./pastream-lua"
  local path = dir .. "/tone.wav"
  local function run(cmd)
    local p = io.popen(cmd .. " 2>&1")
    local s = p:read("a")
    local ok, _, code = p:close()
    return s, ok and 0 or code
  end
  local s, code = run(string.format("%s scripts/spectrum.lua %s -o %s/r.png -x 300 -y 129 -z 90", host, path, dir))
  T.eq(code, 0, "spectrum.lua -o exits 0")
  T.ok(s:find("wrote " .. dir .. "/r.png: 445 x 343 spectrogram", 1, true), "and says what it wrote", s)
  T.eq(decode(dir .. "/r.png").width, 445, "the PNG is there")
  s, code = run(string.format("%s scripts/spectrum.lua %s -o %s/r.png -w nope", host, path, dir))
  T.ok(code ~= 0 and s:find("option 'window'", 1, true), "a bad window: an error naming it", s)
  s, code = run(string.format("%s scripts/spectrum.lua %s -x 300", host, path))
  T.ok(code == 2 and s:find("-o OUT.png", 1, true), "-x without -o: a usage error", s)
  s, code = run(string.format("%s scripts/waveform.lua %s -o %s/w.png --db -z 60", host, path, dir))
  T.eq(code, 0, "waveform.lua exits 0")
  T.ok(s:find("peak -6.0/-6.0 dBFS, 0 clipped samples", 1, true), "and reports peaks and clips", s)
  s, code = run(string.format("%s scripts/waveform.lua %s", host, path))
  T.ok(code == 2 and s:find("missing -o", 1, true), "waveform.lua without -o: a usage error", s)
end)

os.execute("rm -rf " .. dir)
T.done()
