-- meter.lua: a live peak/RMS level meter in the terminal
local ps = require "pastream"
local uv = require "luv"
local recipe = require "pastream.recipe"

local opt = recipe.parse(arg, {
  usage = "meter.lua [-D DEVICE] [-d SECONDS] [-c CH]",
  about = "Show the peak and RMS level of every input channel in dBFS, as bars on stderr:\n"
       .. "one refreshing line on a terminal (20 per second), else one line per second.",
  { "D", "device", "DEVICE", "input device: index or name (default: the system's)", "device" },
  { "d", "duration", "SECONDS", "how long (default: until Ctrl-C)", "seconds" },
  { "c", "channels", "CH", "channels (default: 2, or fewer if the device has fewer)", "integer" },
  more = "example: pastream-lua meter.lua -D loopback -d 10",
})

local FLOOR, WIDTH = -60, 24                  -- the bars show FLOOR..0 dBFS

-- "-12.3 |#########·····| -18.0" : peak as a number, RMS as the bar's #, peak as its |
local function bar(peak, rms)
  local function pos(v) return math.max(0, math.min(WIDTH, math.floor((recipe.db(v) - FLOOR) / -FLOOR * WIDTH + 0.5))) end
  local r, p = pos(rms), pos(peak)
  local cells = {}
  for i = 1, WIDTH do cells[i] = i <= r and "#" or (i == p and "|" or "-") end
  return string.format("%6.1f [%s] %6.1f", math.max(FLOOR, recipe.db(peak)), table.concat(cells), math.max(FLOOR, recipe.db(rms)))
end

recipe.main(arg, function()
  local s <close> = ps.InputStream{ device = opt.device, channels = opt.channels }
  local rate, ch = s.samplerate, s.channels
  local tty = uv.guess_handle(2) == "tty"
  local chunksize = math.floor(rate / 20)                  -- 50 ms
  local per_line = tty and 1 or 20                         -- chunks per line
  io.stderr:write(string.format("'%s', %d channels at %d Hz: peak [rms bar, | peak] rms, dBFS%s\n",
    s.device_name, ch, math.floor(rate), tty and "" or " (one line per second)"))

  local peak, sumsq, n = {}, {}, 0
  for c = 1, ch do peak[c], sumsq[c] = 0, 0 end
  local _ <close> = ps.stop_on_signal(s)                  -- Ctrl-C: stop, print the last line
  local frames = ps.frames(opt.duration, rate) or -1
  for chunk, last in s:chunks{ chunksize = chunksize, frames = frames } do
    local p, r = { chunk:peak() }, { chunk:rms() }
    for c = 1, ch do
      peak[c] = math.max(peak[c], p[c])
      sumsq[c] = sumsq[c] + r[c] * r[c]
    end
    n = n + 1
    if n == per_line or last then
      local bars = {}
      for c = 1, ch do
        bars[c] = bar(peak[c], math.sqrt(sumsq[c] / n))
        peak[c], sumsq[c] = 0, 0
      end
      n = 0
      io.stderr:write(tty and "\r" or "", table.concat(bars, "  "), tty and "" or "\n")
    end
  end
  if tty then io.stderr:write("\n") end
end)
