-- play.lua: play a sound file through an output device
local ps = require "pastream"
local recipe = require "pastream.recipe"

local opt = recipe.parse(arg, {
  usage = "play.lua IN [-D DEVICE] [--loop]",
  about = "Play IN ('-' is stdin) at its own rate and channel count; a C disk thread reads it.",
  args = { 1, 1 },
  { "D", "device", "DEVICE", "output device: index or name (default: the system's)", "device" },
  { "l", "loop", nil, "play it again and again, until Ctrl-C" },
  more = "example: pastream-lua play.lua take1.flac -D loopback",
})

recipe.main(arg, function()
  local path = opt[1]
  local info, err = ps.file_info(path)
  if not info then error(err, 0) end
  local s <close> = ps.OutputStream{ device = opt.device, channels = info.channels, samplerate = info.samplerate }
  print(string.format("playing %s (%s %s, %d channels, %d Hz, %.2f s) on '%s'%s", path, info.type,
    info.subtype, info.channels, info.samplerate, info.frames / info.samplerate,
    s.device_name, opt.loop and ", looping until Ctrl-C" or ""))
  io.stdout:flush()
  local stopper <close> = ps.stop_on_signal(s)            -- Ctrl-C: stop, summarize
  s:play(path, { loop = opt.loop, meter = true })
  stopper:release()
  local peaks = {}
  for c, p in ipairs(s.tx_peak) do peaks[c] = string.format("%.1f", recipe.db(p)) end
  print(string.format("played %d frames (%.2f s), peak %s dBFS, xruns %d",
    s.tx_frames, s.tx_frames / s.samplerate, table.concat(peaks, " / "), s.xruns))
end)
