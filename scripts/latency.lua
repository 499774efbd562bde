-- latency.lua: measure the round-trip latency of a loopback path by cross-correlation
local ps = require "pastream"
local recipe = require "pastream.recipe"

local opt = recipe.parse(arg, {
  usage = "latency.lua [-D DEVICE] [-b BLOCKSIZE] [-n TIMES]",
  about = "Play a short pseudorandom noise burst through a duplex stream, find it in the\n"
       .. "recording by cross-correlation and print the delay next to what PortAudio reports.\n"
       .. "Connect the output to the input (a cable, or a loopback device) first.",
  { "D", "device", "DEVICE", "device: index or name (default: the system's)", recipe.device },
  { "b", "blocksize", "FRAMES", "the stream's blocksize (default: 0, the host's choice)", recipe.integer, 0 },
  { "n", "times", "N", "measure N times (default 1)", recipe.integer, 1 },
  more = "prints: latency: N frames (X.XX ms); PortAudio reports M frames (Y.YY ms)",
})

local BURST = 2048

recipe.main(arg, function()
  local s <close> = ps.DuplexStream{ device = opt.device, channels = 1, blocksize = opt.blocksize }
  local rate = math.floor(s.samplerate)
  local reported = s:roundtrip_frames()

  -- -6 dBFS white noise, the same every run
  math.randomseed(42)
  local burst = {}
  for i = 1, BURST do burst[i] = math.random() - 0.5 end
  local b = ps.Buffer(burst, 1)
  burst = b:totable()                            -- as float32, like the recording
  local window = math.max(rate // 2, 4 * reported)

  -- The correlation of the burst with rec at a lag (0-based, in frames).
  local function corr(rec, lag)
    local sum = 0
    for i = 1, BURST do sum = sum + burst[i] * (rec[lag + i] or 0) end
    return sum
  end

  local failed = false
  for _ = 1, opt.times do
    local rec = s:playrec(b, { frames = BURST + window, pad = -1 }):totable()
    -- Where the sound starts (the first sample over half the peak) narrows the
    -- search; the correlation then finds the lag to the frame.
    local peak, onset = 0, nil
    for i = 1, #rec do peak = math.max(peak, math.abs(rec[i])) end
    for i = 1, #rec do
      if math.abs(rec[i]) >= peak / 2 then onset = i - 1 break end
    end
    local best, lag = 0, nil
    if peak > 0 then
      for l = math.max(0, onset - 512), onset + 64 do
        local c = math.abs(corr(rec, l))
        if c > best then best, lag = c, l end
      end
    end
    -- normalized: 1 when the recording is the burst, scaled
    local energy_b, energy_r = 0, 0
    if lag then
      for i = 1, BURST do
        energy_b = energy_b + burst[i] ^ 2
        energy_r = energy_r + (rec[lag + i] or 0) ^ 2
      end
    end
    local quality = lag and energy_r > 0 and best / math.sqrt(energy_b * energy_r) or 0
    if quality < 0.5 then
      print(string.format("latency: no clear echo of the burst (correlation %.2f): is the output connected to the input?", quality))
      failed = true
    else
      print(string.format("latency: %d frames (%.2f ms); PortAudio reports %d frames (%.2f ms)",
        lag, lag * 1000 / rate, reported, reported * 1000 / rate))
    end
  end
  if failed then recipe.exit(1) end
end)
