-- pastream.devname: device queries as users write them (exact names, hw:
-- forms, a host API prefix), on a desktop-like list written here and on the
-- real list of the rig the test runs on.  tests/sh/test_paths.sh runs it
-- again on its ALSA, netjack2 and PipeWire rigs with PATHS_RIG set
-- (alsa, netjack, pipewire), each with queries for the devices that rig has.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local dn = require "pastream.devname"
local ps = require "pastream"

-- What PortAudio lists on a desktop with a sound card, PipeWire's ALSA
-- plugins and a JACK server (names as Debian's PortAudio 19.6 prints them).
local H = {
  { index = 0, name = "ALSA" }, { index = 1, name = "OSS" },
  { index = 2, name = "JACK Audio Connection Kit" },
}
local function dev(i, name, api, cin, cout)
  return { index = i, name = name, hostapi = api, hostapi_name = H[api + 1].name,
           max_input_channels = cin, max_output_channels = cout }
end
local D = {
  dev(0, "HDA Intel PCH: ALC892 Analog (hw:0,0)", 0, 2, 2),
  dev(1, "HDA Intel PCH: HDMI 0 (hw:0,3)", 0, 0, 8),
  dev(2, "USB Audio: - (hw:1,0)", 0, 2, 0),
  dev(3, "pulse", 0, 32, 32),
  dev(4, "pipewire", 0, 64, 64),
  dev(5, "jack", 0, 2, 2),
  dev(6, "default", 0, 64, 64),
  dev(7, "system", 2, 2, 2),
  dev(8, "loopback", 2, 2, 2),
  dev(9, "Jack", 2, 2, 2),           -- a JACK client named like the ALSA PCM, but for case
}
local function idx(q, kind)
  local d, msg = dn.match(D, H, q, kind)
  return d and d.index or msg
end

T.eq(idx(7), 7, "an integer is PortAudio's index")
T.eq(idx("8"), 8, "a string of digits is an index")
T.ok(tostring(idx(10)):find("no device 10", 1, true), "an index past the end is refused")
T.ok(tostring(idx(1, "input")):find("no input channels", 1, true), "an index without the kind's channels is refused")
T.eq(idx("jack"), 5, "an exact name, case and all, wins (ALSA's 'jack', not JACK's 'Jack')")
T.eq(idx("Jack"), 9, "an exact name: JACK's 'Jack'")
T.eq(idx("pulse"), 3, "ALSA's plugin PCM 'pulse' by its name")
T.eq(idx("default"), 6, "ALSA's 'default' by its name")
T.eq(idx("HDA Intel PCH: ALC892 Analog (hw:0,0)"), 0,
  "a full name with a colon is an exact name, not a host API prefix")
T.eq(idx("hw:0,0"), 0, "hw:CARD,DEV finds the device whose name ends in (hw:CARD,DEV)")
T.eq(idx("hw:0,3"), 1, "hw:0,3: the HDMI device")
T.eq(idx("plughw:1,0"), 2, "plughw:CARD,DEV finds the same hardware device")
T.eq(idx("hw:1"), 2, "hw:CARD finds a card's only device")
T.ok(tostring(idx("hw:0")):find("matches several", 1, true), "hw:CARD with two devices is ambiguous, and says which")
T.ok(tostring(idx("hw:0,3", "input")):find("no input device matches 'hw:0,3'", 1, true),
  "hw:0,3 as an input: HDMI has no input channels")
T.ok(tostring(idx("hw:PCH,0")):find("hw:CARD,DEV", 1, true), "hw: with a card name is refused naming the form")
T.eq(idx("jack:loopback"), 8, "jack:NAME: a JACK device")
T.eq(idx("JACK:system"), 7, "the prefix is case-insensitive")
T.eq(idx("alsa:jack"), 5, "alsa:jack: ALSA's JACK PCM")
T.eq(idx("jack:jack"), 9, "jack:jack: JACK's 'Jack' (the same word on the other host API)")
T.eq(idx("alsa:hw:0,0"), 0, "alsa:hw:0,0: a prefix and a hw: form")
T.eq(idx("jack audio:loopback"), 8, "the start of PortAudio's host API name works as a prefix")
T.ok(tostring(idx("jack:pulse")):find("no device of JACK Audio Connection Kit matches 'pulse'", 1, true),
  "a name on another host API is not found through the prefix, and the message says where it looked")
T.ok(tostring(idx("alsa:loopback")):find("'loopback'", 1, true), "alsa:loopback: JACK's device is not ALSA's")
T.ok(tostring(idx("asio:x")):find("no host API 'asio'", 1, true),
  "a host API PortAudio does not have here is named as such")
T.ok(tostring(idx("alsa:")):find("no device name", 1, true), "a prefix with no name is refused")
T.eq(idx("alc892"), 0, "words of a name, case-insensitive")
T.ok(tostring(idx("hda")):find("matches several devices: 0 'HDA Intel PCH: ALC892 Analog (hw:0,0)' (ALSA)", 1, true),
  "several matches are listed with their host APIs")
T.ok(tostring(idx("nosuch")):find("no device matches 'nosuch' (there are: 0 'HDA", 1, true),
  "no match names the query, and with nothing near it lists every device")
T.eq(idx("loopbak"), "no device matches 'loopbak' (near: 8 'loopback' (JACK Audio Connection Kit); 10 in all)",
  "a typo: the near match is listed, not all ten")
T.eq(idx("jack:sytem"), "no device of JACK Audio Connection Kit matches 'sytem' (near: 7 'system' "
  .. "(JACK Audio Connection Kit); 3 in all)", "a typo after a prefix: near matches on that host API")
T.ok(tostring(idx("alc893", "input")):find("(near: 0 'HDA Intel PCH: ALC892 Analog (hw:0,0)' (ALSA); 9 in all)", 1, true),
  "a word of the name one letter off is near")
T.ok(tostring(idx("pipe wire2")):find("near: 4 'pipewire' (ALSA)", 1, true), "a word held in a name is near")
T.eq(dn.distance("loopback", "loopbak"), 1, "distance: one letter left out")
T.eq(dn.prefix("ALSA") .. " " .. dn.prefix("JACK Audio Connection Kit") .. " " .. dn.prefix("Windows DirectSound"),
  "alsa jack ds", "prefix: the shortest alias of a host API")
T.eq(dn.prefix("Some Host"), nil, "prefix: none for a host API without an alias")
T.ok(tostring(idx("  ")):find("empty", 1, true), "an empty name is refused")
T.raises(function() dn.match(D, H, "x", "both") end, "bad argument #4 to 'match'", "a bad kind raises naming the argument")
T.raises(function() dn.match(D, H, {}) end, "bad argument #3 to 'match'", "a bad query raises naming the argument")
T.raises(function() dn.match(nil, H, "x") end, "bad argument #1 to 'match'", "no device list raises naming the argument")
local g = dn.group(D, H)
T.eq(#g, 3, "group: one group per host API")
T.eq(#g[1].devices .. "," .. #g[2].devices .. "," .. #g[3].devices, "7,0,3", "group: ALSA 7, OSS 0, JACK 3 devices")

-- The real list of the rig this runs on.
local devs, apis = ps.devices(), ps.hostapis()
local real = {
  [""] = { "jack:loopback", "JACK Audio Connection Kit", "loopback" },          -- the JACK rig (tests/run.sh)
  alsa = { "alsa:" .. (os.getenv("PS_ALSA_PCM") or "rigjack"), "ALSA", os.getenv("PS_ALSA_PCM") or "rigjack" },
  netjack = { "jack:system", "JACK Audio Connection Kit", "system" },
  pipewire = { "jack:null sink", "JACK Audio Connection Kit", "pastream rig null sink" },
}
local rig = os.getenv("PATHS_RIG") or ""
local want = assert(real[rig], "PATHS_RIG is alsa, netjack or pipewire")
local d, msg = dn.match(devs, apis, want[1], "input")
T.ok(d, "real list: '" .. want[1] .. "' is found", msg)
if d then
  T.eq(d.hostapi_name .. " / " .. d.name, want[2] .. " / " .. want[3], "real list: '" .. want[1] .. "' is that host API's device")
  T.eq(ps.device(want[1], "input").index, d.index, "ps.device('" .. want[1] .. "') finds it (ps.device uses devname)")
  local s = ps.DuplexStream{ device = want[1], channels = 2 }
  T.eq(s.device[1] .. "," .. s.device[2], d.index .. "," .. d.index,
    "real list: a duplex stream opens on device = '" .. want[1] .. "'")
  s:close()
  local ok, err = pcall(ps.DuplexStream, { device = want[1] .. "x" })
  T.ok(not ok and tostring(err):find("x' (", 1, true) and tostring(err):find("'" .. want[3] .. "' (" .. want[2] .. ")", 1, true),
    "a stream's device option with a typo: the error lists the device meant", tostring(err))
end
-- every real device is found by its own exact name under its host API prefix
local prefix = { ALSA = "alsa", ["JACK Audio Connection Kit"] = "jack", OSS = "oss" }
local bad = {}
for _, x in ipairs(devs) do
  local p = prefix[x.hostapi_name]
  if p then
    local y = dn.match(devs, apis, p .. ":" .. x.name)
    if not y or y.index ~= x.index then bad[#bad + 1] = p .. ":" .. x.name end
  end
end
T.eq(table.concat(bad, ", "), "", "real list: each device found as HOSTAPI:NAME (" .. #devs .. " devices)")
T.done()
