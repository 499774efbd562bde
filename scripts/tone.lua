-- tone.lua: a sine, square, sweep or noise generator (a Lua source function)
local ps = require "pastream"
local recipe = require "pastream.recipe"

local waves = { sine = true, square = true, sweep = true, noise = true }
local opt = recipe.parse(arg, {
  usage = "tone.lua [-f FREQ] [-l LEVEL_DB] [-w sine|square|sweep|noise] [-d SECONDS] [-D DEVICE]",
  about = "Generate a test signal in Lua, block by block, and play it (the same on every channel).",
  { "f", "freq", "FREQ", "frequency in Hz (a sweep's start); default 440", "positive", 440 },
  { "l", "level", "LEVEL_DB", "peak level in dBFS, <= 0; default -12", tonumber, -12 },
  { "w", "wave", "WAVE", "sine, square, sweep (exponential, FREQ to --to) or noise; default sine",
    function(v) return waves[v] and v end, "sine" },
  { nil, "to", "FREQ", "where a sweep ends, in Hz; default 20000", "positive", 20000 },
  { "d", "duration", "SECONDS", "how long (default: until Ctrl-C; a sweep then takes 10 s)", "seconds" },
  { "D", "device", "DEVICE", "output device: index or name (default: the system's)", "device" },
  { "c", "channels", "CH", "channels (default: 2, or fewer if the device has fewer)", "integer" },
  { "r", "rate", "RATE", "sample rate in Hz (default: the device's)", "positive" },
  { "o", "out", "FILE", "also write what is generated to FILE", nil },
  { "y", "overwrite", nil, "replace FILE if it exists (once playing has started)" },
  more = "example: pastream-lua tone.lua -w sweep -f 20 --to 20000 -d 5 -l -6",
})
if opt.level > 0 then recipe.usage_error(arg, "the level must be <= 0 dBFS, got " .. opt.level) end

if opt.out then recipe.check_output(arg, opt.out, opt.overwrite) end
recipe.main(arg, function()
  local s <close> = ps.OutputStream{ device = opt.device, channels = opt.channels, samplerate = opt.rate }
  local rate, ch = s.samplerate, s.channels
  if opt.freq >= rate / 2 or (opt.wave == "sweep" and opt.to >= rate / 2) then
    error(string.format("frequencies must be below half the sample rate (%d Hz)", math.floor(rate / 2)), 0)
  end
  local total = ps.frames(opt.duration, rate)
  local amp = 10 ^ (opt.level / 20)
  local file, plan
  if opt.out then
    plan = ps.prepare_output(opt.out, { overwrite = opt.overwrite })
    local err
    file, err = ps.open(plan.path, "w", { samplerate = math.floor(rate), channels = ch, type = plan.type })
    if not file then ps.discard_output(plan) error(err, 0) end
  end

  -- One sample per call; phase counts cycles (0..1).
  local phase, freq, n = 0, opt.freq, 0
  local sweep_len = total or 10 * rate
  local k = (opt.to / opt.freq) ^ (1 / sweep_len)     -- exponential sweep: freq *= k per sample
  math.randomseed(1)
  local next_sample = {
    sine = function() return amp * math.sin(2 * math.pi * phase) end,
    square = function() return phase < 0.5 and amp or -amp end,
    sweep = function() return amp * math.sin(2 * math.pi * phase) end,
    noise = function() return amp * (2 * math.random() - 1) end,
  }
  local gen = next_sample[opt.wave]

  local function source(buf)
    local frames = total and math.min(buf:frames(), total - n) or buf:frames()
    for f = 1, frames do
      local v = gen()
      for c = 1, ch do buf:sample(f, c, v) end
      phase = phase + freq / rate
      phase = phase - math.floor(phase)
      if opt.wave == "sweep" then
        freq = (n + f) % sweep_len == 0 and opt.freq or freq * k
      end
    end
    n = n + frames
    if file and frames > 0 then file:write(buf, 1, frames) end
    return frames                                       -- fewer than asked: the end
  end

  local what = opt.wave == "noise" and "white noise"
    or string.format("%s, %g Hz%s", opt.wave, opt.freq, opt.wave == "sweep" and (" to " .. opt.to .. " Hz") or "")
  print(string.format("playing %s at %g dBFS on '%s' (%d channels, %d Hz)%s", what, opt.level, s.device_name,
    ch, math.floor(rate), total and string.format(" for %.2f s", total / rate) or " until Ctrl-C"))
  io.stdout:flush()
  local stopper <close> = ps.stop_on_signal(s)
  local ok, err = pcall(s.play, s, source, { frames = total or -1, blocking = false })
  if not ok then
    if file then file:close() ps.discard_output(plan) end
    error(err, 0)
  end
  assert(ps.commit_output(plan))               -- started: FILE takes its name
  s:wait()
  stopper:release()
  if file then file:close() end
  print(string.format("played %d frames (%.2f s), xruns %d%s", s.tx_frames, s.tx_frames / rate, s.xruns,
    file and (", wrote " .. n .. " frames to " .. opt.out) or ""))
end)
