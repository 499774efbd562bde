-- playrec.lua: play a sound file and record the input at the same time
local ps = require "pastream"
local recipe = require "pastream.recipe"

local opt = recipe.parse(arg, {
  usage = "playrec.lua IN OUT [-D DEVICE] [-c CH] [-a] [-t TYPE] [-e ENCODING] [-y]",
  about = "Play IN through a duplex stream and record what comes back to OUT.\n"
       .. "The recording runs on for the round trip, to catch the tail: PortAudio's figure,\n"
       .. "or with --align the one measured first (a burst of noise through the device, in\n"
       .. "a third of a second: PortAudio's figure is off by a period or more through ALSA's\n"
       .. "JACK plugin and netjack2).",
  args = { 2, 2 },
  { "D", "device", "DEVICE", "device: index or name (default: the system's)", recipe.device },
  { "c", "channels", "CH", "input channels (default: as many as IN has, if the device has them)", recipe.integer },
  { "a", "align", nil, "measure the round trip, then drop that much of the recording, so OUT lines up with IN" },
  { "t", "type", "TYPE", "type of OUT (default: from its extension)", nil },
  { "e", "encoding", "ENCODING", "encoding of OUT: pcm_16, pcm_24, float, ... (default: the type's)", nil },
  { "y", "overwrite", nil, "replace OUT if it exists (once the recording has started)" },
  more = "example: pastream-lua playrec.lua sweep.wav response.wav -D loopback --align",
})

recipe.check_output(arg, opt[2], opt.overwrite)
recipe.main(arg, function()
  local inpath, outpath = opt[1], opt[2]
  local o = { device = opt.device }
  if opt.channels then
    local info, err = ps.file_info(inpath)
    if not info then error(err, 0) end
    o.channels = { opt.channels, info.channels }
  end
  local s <close> = ps.DuplexStream.from_file(inpath, o)
  local delay, how = s:roundtrip_frames(), "as PortAudio reports"
  if opt.align then
    require "pastream.roundtrip"
    local reported = delay
    local measured, why = s:measure_roundtrip()
    if not measured then error("--align: " .. why, 0) end
    delay, how = measured, string.format("measured; PortAudio reports %d", reported)
  end
  local devs = ps.devices()
  print(string.format("playing %s on '%s' and recording '%s' to %s (round trip %d frames, %s)",
    inpath, devs[s.device[2] + 1].name, devs[s.device[1] + 1].name, outpath, delay, how))
  s:playrec(inpath, { out = outpath, overwrite = opt.overwrite, pad = delay, offset = opt.align and delay or 0,
                      output_file = { type = opt.type, subtype = opt.encoding } })
  local info = assert(ps.file_info(outpath))
  print(string.format("played %d frames, recorded %d frames to %s (%s %s), xruns %d",
    s.tx_frames, info.frames, outpath, info.type, info.subtype, s.xruns))
end)
