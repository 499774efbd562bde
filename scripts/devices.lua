-- devices.lua: list the audio devices and host APIs PortAudio sees
local ps = require "pastream"
local recipe = require "pastream.recipe"

recipe.parse(arg, {
  usage = "devices.lua",
  about = "List every device (index, channels, default rate and latency) and host API.\n"
       .. "The -D option of the other recipes takes a device's index, its name, HOSTAPI:NAME\n"
       .. "(jack:loopback, alsa:default), hw:CARD,DEV or words of its name.",
})

print(string.format("%4s  %-28s %-26s %3s %3s %7s %9s", "#", "device", "host API", "in", "out", "rate", "latency"))
for _, d in ipairs(ps.devices()) do
  local mark = (d.default_input and "<" or " ") .. (d.default_output and ">" or " ")
  print(string.format("%2d%s  %-28s %-26.26s %3d %3d %7d %7.1fms", d.index, mark, d.name, d.hostapi_name,
    d.max_input_channels, d.max_output_channels, math.floor(d.default_samplerate),
    1000 * math.max(d.default_low_input_latency, d.default_low_output_latency)))
end
print("(< default input, > default output)")
print()
print(string.format("%4s  %-28s %7s", "#", "host API", "devices"))
for _, h in ipairs(ps.hostapis()) do
  print(string.format("%4d  %-28s %7d", h.index, h.name, h.device_count))
end
