-- demo.lua: play a tone, record it back to a WAV file, say what happened (make demo)
--   pastream-lua scripts/demo.lua [DEVICE] [OUT.wav]
local ps = require "pastream"
local recipe = require "pastream.recipe"

-- -h/--help and unknown options are options, not device names
local opt = recipe.parse(arg, {
  usage = "demo.lua [DEVICE] [OUT.wav]",
  about = "Play a 2 s, 440 Hz tone on DEVICE (index or name; '' or none: the default),\n"
       .. "record it back at the same time, and write the recording to OUT.wav (demo.wav).",
  args = { 0, 2 },
  more = "example: pastream-lua scripts/demo.lua loopback demo.wav   (the test rig's loopback device)",
})
local device = opt[1] ~= "" and opt[1] or nil
local out = opt[2] or "demo.wav"
local seconds, freq = 2, 440

local s <close> = ps.DuplexStream{ device = device, channels = 2 }
local rate = math.floor(s.samplerate)
local n = seconds * rate

-- A 440 Hz tone at -6 dBFS with 10 ms fades, the same on both channels.
local tone = ps.Buffer(n, 2)
local fade = rate // 100
for f = 1, n do
  local env = math.min(1, (f - 1) / fade, (n - f) / fade)
  local v = 0.5 * env * math.sin(2 * math.pi * freq * (f - 1) / rate)
  tone:sample(f, 1, v)
  tone:sample(f, 2, v)
end

local devs = ps.devices()
print(string.format("device:   %s (in) / %s (out), %s",
  devs[s.device[1] + 1].name, devs[s.device[2] + 1].name, devs[s.device[2] + 1].hostapi_name))
print(string.format("stream:   %d Hz, 2 channels float32, round-trip latency %d frames",
  rate, s:roundtrip_frames()))
print(string.format("playing:  %d s of %d Hz tone (%d frames) and recording...", seconds, freq, n))

local margin = rate // 10
local rec = s:playrec(tone, { frames = n + margin, pad = -1 })

-- The delay: where the first non-zero frame of the tone shows up.
local function first_sound(buf)
  for i = 1, #buf do
    if buf[i] ~= 0 then return (i - 1) // buf:channels() end
  end
end
local delay = first_sound(rec)
if delay then delay = delay - first_sound(tone) end
local pl, pr = rec:peak()
print(string.format("played:   %d frames; recorded %d frames; xruns %d (in %d/%d, out %d/%d)",
  s.tx_frames, s.rx_frames, s.xruns, s.input_underflows, s.input_overflows,
  s.output_underflows, s.output_overflows))
if delay then
  local exact = rec:sub(delay + 1, delay + n):equals(tone)
  print(string.format("received: the tone came back after %d frames (%.2f ms), peak %.1f / %.1f dBFS, %s",
    delay, delay * 1000 / rate, 20 * math.log(pl, 10), 20 * math.log(pr, 10),
    exact and "every sample bit-exact" or "not bit-exact (a real device changes the signal)"))
else
  print("received: silence (is the output connected to the input?)")
end
assert(ps.save(out, rec, rate))
print(string.format("wrote:    %s (%d frames, %d Hz, 2 channels, 32-bit float WAV)", out, rec:frames(), rate))
