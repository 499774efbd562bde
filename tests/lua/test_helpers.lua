-- The shared helpers that the CLI and the recipes use instead of their own
-- copies (issue 16, point 13), called directly: ps.frames (seconds to
-- frames), ps.find_device (a device as users name it, or nil and why) and
-- ps.stop_on_signal (SIGINT ends the script's own run, not the program).
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local uv = require "luv"

T.group("ps.frames", function()
  T.eq(ps.frames(1.5, 48000), 72000, "1.5 s at 48 kHz: 72000 frames")
  T.eq(ps.frames(0.1, 44100), 4410, "0.1 s at 44.1 kHz: 4410 frames")
  T.eq(ps.frames(1 / 96000, 48000), 1, "half a frame rounds to the nearer frame")
  T.eq(ps.frames(0, 48000), 0, "no time, no frames")
  T.eq(ps.frames(nil, 48000), nil, "no duration: nil (no limit)")
  T.raises(function() ps.frames(-1, 48000) end, "test_helpers.lua:16: bad argument #1 to 'frames' (seconds >= 0 expected, got -1)",
    "negative seconds are refused, naming the argument, at the caller's line")
  T.raises(function() ps.frames(math.huge, 48000) end, "seconds >= 0 expected", "infinite seconds too")
  T.raises(function() ps.frames(0 / 0, 48000) end, "seconds >= 0 expected", "and not a number")
  T.raises(function() ps.frames(1, 0) end, "bad argument #2 to 'frames' (sample rate > 0 expected, got 0)",
    "a rate of 0 is refused")
end)

T.group("ps.find_device", function()
  local d = ps.find_device("loopback")
  T.ok(d and d.name == "loopback" and d.index == ps.device("loopback").index, "a name: the device, as ps.device finds it")
  d = ps.find_device("jack:loopback", "input")
  T.ok(d and d.name == "loopback" and d.max_input_channels > 0, "HOSTAPI:NAME with a kind")
  local none, why = ps.find_device("no-such-device-here")
  T.ok(none == nil and why:find("no device matches 'no-such-device-here'", 1, true),
    "no match: nil and the reason, which names the query", why)
  T.ok(why:find("loopback", 1, true), "... and lists what there is", why)
  none, why = ps.find_device({})
  T.ok(none == nil and why:find("index or name expected, got table", 1, true), "a table: nil and why", why)
  T.ok(ps.find_device(nil, "input"), "no query: the default input device")
  -- PortAudio has started (above): a jack: query now spares ALSA nothing,
  -- however often (src/device.h, ps_pa_spare_alsa)
  local before = os.getenv("ALSA_CONFIG_PATH")
  T.ok(ps.find_device("jack:loopback"), "a jack: query after PortAudio started finds the device")
  T.eq(require("pastream.core").spare_alsa(), false, "... and sparing ALSA then does nothing")
  T.eq(require("pastream.core").spare_alsa(), false, "... called again, nothing either")
  T.eq(os.getenv("ALSA_CONFIG_PATH"), before, "ALSA's configuration is left as it was")
end)

T.group("ps.stop_on_signal", function()
  local s <close> = ps.InputStream{ device = "loopback" }
  s:record{ frames = 48000 * 10, blocking = false }
  local before = function() end
  ps.on_signal = before
  do
    local stopped <close> = ps.stop_on_signal(s)
    T.eq(select("#", stopped()) >= 1 and stopped(), false, "no signal yet: stopped() is false")
    T.ok(ps.on_signal ~= before, "it takes the signals over")
    uv.kill(uv.os_getpid(), "sigint")
    local t0 = os.time()
    while not stopped() and os.time() - t0 < 20 do ps.sleep(0.01) end   -- a hang guard only
    local yes, name = stopped()
    T.ok(yes and name == "sigint", "after SIGINT: true and the signal's name", tostring(name))
    local t1 = os.time()
    while s.active and os.time() - t1 < 20 do ps.sleep(0.01) end
    T.eq(s.status, "stopped", "the stream it was given is stopped, and the program goes on")
  end
  T.eq(ps.on_signal, before, "at the end of its scope the signals go back to what they did before")
  T.raises(function() ps.stop_on_signal(42) end, "open stream or nil expected", "anything but a stream is refused")
  local c = ps.InputStream{ device = "loopback" }
  c:close()
  T.raises(function() ps.stop_on_signal(c) end, "open stream or nil expected", "and so is a closed stream")
  ps.on_signal = nil
end)

T.done()
