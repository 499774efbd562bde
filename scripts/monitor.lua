-- monitor.lua: a live monitor page in the browser (meters, spectrum) for an input, recording or not
local ps = require "pastream"
local recipe = require "pastream.recipe"
local monitor = require "pastream.monitor"

local opt = recipe.parse(arg, {
  usage = "monitor.lua [OUT] [-D DEVICE] [-c CH] [-r RATE] [-d SECONDS] [-p PORT] [--host HOST] [-y]",
  about = "Serve a live monitor page on http://127.0.0.1:PORT/ (one self-contained page:\n"
       .. "no internet needed): per-channel meters with peak hold and clip marks, a live\n"
       .. "spectrum, the elapsed time and xruns, pushed 25 times a second.  With OUT the\n"
       .. "input is recorded to OUT (by a C disk thread; the page shows the file's size),\n"
       .. "without it the input is only watched.  The page is read-only.",
  args = { 0, 1 },
  { "D", "device", "DEVICE", "input device: index or name (default: the system's)", "device" },
  { "c", "channels", "CH", "channels (default: 2, or fewer if the device has fewer)", "integer" },
  { "r", "rate", "RATE", "sample rate in Hz (default: the device's)", "positive" },
  { "d", "duration", "SECONDS", "how long (default: until Ctrl-C)", "seconds" },
  { "p", "port", "PORT", "the TCP port (default 8000; 0: a free one, printed)", "integer", 8000, min = 0, max = 65535 },
  { nil, "host", "HOST", "the address to listen on (default 127.0.0.1: this machine only)", nil, "127.0.0.1" },
  { "y", "overwrite", nil, "replace OUT if it exists" },
  more = "examples: pastream-lua monitor.lua -D loopback            # then open http://127.0.0.1:8000/\n"
      .. "          pastream-lua monitor.lua take1.wav -d 60 -p 8080",
})

local out = opt[1]
if out then recipe.check_output(arg, out, opt.overwrite) end

recipe.main(arg, function()
  local dev = opt.device and ps.device(opt.device, "input") or ps.device(nil, "input")
  local ch = opt.channels or math.min(2, dev.max_input_channels)
  local rate = opt.rate or dev.default_samplerate
  local frames = opt.duration and math.floor(opt.duration * rate + 0.5) or -1
  local mon, err
  if out then
    local s <close> = ps.InputStream { device = dev.index, channels = ch, samplerate = rate }
    mon, err = monitor.attach(ps, s, { port = opt.port, host = opt.host, file = out,
                                       device = dev.index, channels = ch })
    if not mon then recipe.die(arg, err) end
    io.stderr:write("monitor on ", mon.url, "\n")
    ps.on_signal = function() s:stop() end
    s:record { frames = frames, out = out, overwrite = opt.overwrite, meter = true, blocking = false }
    local ok, werr = pcall(s.wait, s)
    mon:close()
    if not ok then error(werr, 0) end
    io.stderr:write(string.format("recorded %d frames to %s\n", s.frame_count, out))
    return
  end
  -- only watching: the meters and the spectrum from the chunks themselves
  mon, err = monitor.new { port = opt.port, host = opt.host }
  if not mon then recipe.die(arg, err) end
  io.stderr:write("monitor on ", mon.url, "\n")
  local n = 2048
  local analyze = monitor.analyzer(ps, rate, n, 96)
  local s <close> = ps.InputStream { device = dev.index, channels = ch, samplerate = rate }
  ps.on_signal = function() s:stop() end
  local clip, pending = {}, nil
  mon.on_tick = function()          -- the peaks since the last tick
    if pending then mon.state.peaks, pending = pending, nil end
    mon.state.elapsed, mon.state.xruns = s.frame_count / rate, s.xruns
  end
  local ok, werr = pcall(function()
    for chunk in s:chunks { chunksize = n, frames = frames } do
      local peak = chunk:stats()
      for c = 1, #peak do
        if peak[c] >= 1 then clip[c] = true end
        if pending and pending[c] > peak[c] then peak[c] = pending[c] end
      end
      pending = peak
      mon.state.clip = clip
      if chunk:frames() == n then mon.state.spectrum = analyze(chunk) end
    end
  end)
  mon:close()
  if not ok then error(werr, 0) end
end)
