-- record.lua: record from an input device to a sound file (for a duration, or until Ctrl-C)
local ps = require "pastream"
local recipe = require "pastream.recipe"

local opt = recipe.parse(arg, {
  usage = "record.lua OUT [-d SECONDS] [-D DEVICE] [-c CH] [-r RATE] [-t TYPE] [-e ENCODING] [-y]",
  about = "Record to OUT (the type comes from the extension unless -t is given; '-' is stdout).\n"
       .. "A C disk thread writes the file; Ctrl-C stops a recording without -d cleanly.",
  args = { 1, 1 },
  { "d", "duration", "SECONDS", "how long to record (default: until Ctrl-C)", "seconds" },
  { "D", "device", "DEVICE", "input device: index or name ('' or none: the system's default)", "device" },
  { "c", "channels", "CH", "channels to record (default: 2, or fewer if the device has fewer)", "integer" },
  { "r", "rate", "RATE", "sample rate in Hz (default: the device's)", "positive" },
  { "t", "type", "TYPE", "file type: wav, flac, ogg, aiff, caf, w64, raw, ...", nil },
  { "e", "encoding", "ENCODING", "sample encoding: pcm_16, pcm_24, float, vorbis, ...", nil },
  { "y", "overwrite", nil, "replace OUT if it exists (once the recording has started)" },
  more = "example: pastream-lua record.lua take1.flac -d 10 -e pcm_24",
})

recipe.check_output(arg, opt[1], opt.overwrite)
recipe.main(arg, function()
  local out = opt[1]
  local s <close> = ps.InputStream{ device = opt.device, channels = opt.channels, samplerate = opt.rate }
  local rate = s.samplerate
  local frames = ps.frames(opt.duration, rate) or -1
  local log = out == "-" and io.stderr or io.stdout

  local stopper <close> = ps.stop_on_signal(s)  -- Ctrl-C: stop, finish the file, summarize
  s:record{ out = out, frames = frames, meter = true, overwrite = opt.overwrite,
            output_file = { type = opt.type, subtype = opt.encoding }, blocking = false }
  -- said once the stream runs, and flushed: whoever waits for this line
  -- (a script, a test) knows the recording has begun
  log:write(string.format("recording %s from '%s', %d channels at %d Hz%s\n", out,
    s.device_name, s.channels, math.floor(rate),
    frames >= 0 and string.format(" for %d frames", frames) or " until Ctrl-C"))
  log:flush()
  s:wait()
  stopper:release()

  local peaks = {}
  for c, p in ipairs(s.rx_peak) do peaks[c] = string.format("%.1f", recipe.db(p)) end
  local got = s.rx_frames
  log:write(string.format("recorded %d frames (%.2f s), peak %s dBFS, xruns %d\n",
    got, got / rate, table.concat(peaks, " / "), s.xruns))
  if out ~= "-" then
    local info = assert(ps.file_info(out))
    log:write(string.format("wrote %s: %s %s, %d channels, %d Hz, %d frames\n",
      out, info.type, info.subtype, info.channels, info.samplerate, info.frames))
  end
end)
