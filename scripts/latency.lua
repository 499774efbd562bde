-- latency.lua: measure the round-trip latency of a loopback path, beside PortAudio's figure
local ps = require "pastream"
local recipe = require "pastream.recipe"
require "pastream.roundtrip"

local opt = recipe.parse(arg, {
  usage = "latency.lua [-D DEVICE] [-b BLOCKSIZE] [-n TIMES]",
  about = "Play a short pseudorandom noise burst through a duplex stream, find it in the\n"
       .. "recording (stream:measure_roundtrip()) and print the delay next to what PortAudio\n"
       .. "reports (stream:roundtrip_frames(), which is off by a period or more through\n"
       .. "ALSA's JACK plugin and netjack2).\n"
       .. "Connect the output to the input (a cable, or a loopback device) first.",
  { "D", "device", "DEVICE", "device: index or name (default: the system's)", recipe.device },
  { "b", "blocksize", "FRAMES", "the stream's blocksize (default: 0, the host's choice)", recipe.integer, 0 },
  { "n", "times", "N", "measure N times (default 1)", recipe.integer, 1 },
  more = "prints: latency: measured N frames (X.XX ms); PortAudio reports M frames (Y.YY ms)",
})

recipe.main(arg, function()
  local s <close> = ps.DuplexStream{ device = opt.device, channels = 1, blocksize = opt.blocksize }
  local rate = s.samplerate
  local reported = s:roundtrip_frames()
  local failed = false
  for _ = 1, opt.times do
    local measured, why = s:measure_roundtrip()
    if not measured then
      print("latency: no clear echo of the burst: " .. why)
      failed = true
    else
      print(string.format("latency: measured %d frames (%.2f ms); PortAudio reports %d frames (%.2f ms)",
        measured, measured * 1000 / rate, reported, reported * 1000 / rate))
    end
  end
  if failed then recipe.exit(1) end
end)
