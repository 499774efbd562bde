-- filter.lua: biquad filtering (lowpass, highpass, bandpass), file to file or live
local ps = require "pastream"
local recipe = require "pastream.recipe"

local types = { lowpass = true, highpass = true, bandpass = true }
local opt = recipe.parse(arg, {
  usage = "filter.lua IN OUT -t TYPE -f FREQ [-q Q] [-g GAIN_DB] [-y]\n"
       .. "       filter.lua -D DEVICE -t TYPE -f FREQ [-q Q] [-g GAIN_DB] [-d SECONDS] [-r RATE]",
  about = "Filter IN into OUT (same rate and channels; the type comes from OUT's extension),\n"
       .. "chunk by chunk in place, with an RBJ-cookbook biquad whose state carries across\n"
       .. "chunks.  Live (-D), input is filtered and played back on the same device a fixed\n"
       .. "time later (s:process: the round trip + one chunk + a margin; frames the filter\n"
       .. "was too late for play as silence and are counted as late).",
  args = { 0, 2 },
  { "t", "type", "TYPE", "lowpass, highpass or bandpass", function(v) return types[v] and v end },
  { "f", "freq", "FREQ", "cutoff (or centre) frequency in Hz", recipe.positive },
  { "q", "q", "Q", "quality factor; default 0.7071 (Butterworth)", recipe.positive, math.sqrt(0.5) },
  { "g", "gain", "GAIN_DB", "gain applied after the filter, in dB; default 0", tonumber, 0 },
  { "n", "chunksize", "N", "frames per chunk; default 4096 (live: 512)", recipe.integer },
  { "D", "device", "DEVICE", "live: duplex device, index or name ('' for the default)", function(v) return v end },
  { "d", "duration", "SECONDS", "live: how long (default: until Ctrl-C)", recipe.positive },
  { "r", "rate", "RATE", "live: sample rate in Hz (default: the device's)", recipe.positive },
  { "y", "overwrite", nil, "replace OUT if it exists" },
  more = "example: pastream-lua filter.lua noisy.wav clean.flac -t lowpass -f 3000",
})

local live = opt.device ~= nil
if not opt.type then recipe.usage_error(arg, "--type is required (lowpass, highpass or bandpass)") end
if not opt.freq then recipe.usage_error(arg, "--freq is required") end
if live and #opt > 0 then recipe.usage_error(arg, "no files with --device") end
if not live and #opt ~= 2 then recipe.usage_error(arg, "give IN and OUT files, or --device") end
if not live and (opt.duration or opt.rate) then recipe.usage_error(arg, "--duration and --rate are for --device") end
local chunksize = opt.chunksize or (live and 512 or 4096)
if chunksize < 1 then recipe.usage_error(arg, "chunksize must be >= 1") end
if not live then recipe.check_output(arg, opt[2], opt.overwrite) end

local function make_filter(rate, channels)
  if opt.freq >= rate / 2 then
    recipe.die(arg, string.format("--freq %g Hz must be below half the sample rate (%g Hz)", opt.freq, rate / 2), 2)
  end
  return ps.dsp.Biquad{ type = opt.type, freq = opt.freq, q = opt.q, samplerate = rate, channels = channels }
end

recipe.main(arg, function()
  if not live then
    local input, out = opt[1], opt[2]
    local f, err = ps.open(input)
    if not f then recipe.die(arg, err) end
    local rate, channels, total = f.samplerate, f.channels, f.frames
    f:close()
    local bq = make_filter(rate, channels)
    for chunk in ps.chunks{ input = input, out = out, overwrite = opt.overwrite, chunksize = chunksize, overlap = 0 } do
      bq:process(chunk)
      if opt.gain ~= 0 then chunk:gain_db(opt.gain) end
    end
    print(string.format("%s -> %s: %s %g Hz q %.3g, %d frames, %d channels at %d Hz",
      input, out, opt.type, opt.freq, opt.q, total, channels, rate))
    return
  end

  local device = opt.device ~= "" and opt.device or nil
  local rate = opt.rate or ps.device(device, "input").default_samplerate
  local frames = ps.frames(opt.duration, rate)
  local bq = make_filter(rate, 1)
  local s <close> = ps.DuplexStream{ device = device, samplerate = rate, channels = 1 }
  local stopped <close> = ps.stop_on_signal(s)
  -- s:process: each input chunk is filtered in place and played back a
  -- fixed time later (the round trip + one chunk + the margin it states)
  local n = 0
  local info = s:process(function(chunk)
    bq:process(chunk)
    if opt.gain ~= 0 then chunk:gain_db(opt.gain) end
    n = n + chunk:frames()
    return chunk
  end, { chunksize = chunksize, frames = frames })
  stopped:release()
  print(string.format("filtered %d frames live (%s %g Hz) at %d Hz, latency %d frames (%.1f ms), %d late",
    n, opt.type, opt.freq, math.floor(rate), info.latency, info.latency / rate * 1000, info.late))
end)
