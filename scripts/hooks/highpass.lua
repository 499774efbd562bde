-- highpass.lua: a --process hook for pastream, a biquad high-pass filter.
--
--   pastream --process scripts/hooks/highpass.lua in.wav            # play it filtered
--   HIGHPASS_HZ=300 pastream --process scripts/hooks/highpass.lua null out.wav
--
-- A hook is a Lua chunk run with the stream's side of the audio as its
-- argument ({samplerate, channels, side = "play", "rec" or "live"}); it returns a
-- function that gets every chunk (a float32 Buffer, frames x channels) and
-- changes it in place, and optionally the chunk size it wants (frames).
-- It runs on the Lua loop, with the same API as scripts.
local info = ...
local ps = require "pastream"

local freq = tonumber(os.getenv("HIGHPASS_HZ") or "") or 100
local bq = ps.dsp.Biquad{ type = "highpass", freq = freq, q = 0.7071,
                          samplerate = info.samplerate, channels = info.channels }

return function(chunk) bq:process(chunk) end, 1024
