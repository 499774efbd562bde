-- waveform.lua: a sound file's waveform as a PNG picture: the min/max envelope and RMS
-- of every pixel column, a pane per channel, clipped samples in red
local ps = require "pastream"
local recipe = require "pastream.recipe"

local opt = recipe.parse(arg, {
  usage = "waveform.lua FILE -o OUT.png [-x W] [-y H] [--db [-z DB]] [--clip LEVEL] [-t TITLE]",
  about = "Draw FILE's waveform as a PNG: for every pixel column and channel the lowest and\n"
       .. "highest sample (the envelope) with the RMS inside it, a time axis in seconds and\n"
       .. "an amplitude scale, linear (-1..1) or in dBFS (--db).  A column with a sample at\n"
       .. "or beyond the clip level (full scale) is drawn red, with red marks on the pane's\n"
       .. "edges.  The file is read once, in offline chunks; the envelope is computed in C.",
  args = { 1, 1 },
  { "o", "output", "OUT.png", "the PNG picture to write (required)", nil, required = true },
  { "x", "width", "W", "plot width in pixels (time columns); default 1000", recipe.integer },
  { "y", "height", "H", "height of each channel's pane; default 240 mono, 160 more", recipe.integer },
  { nil, "db", nil, "a dBFS scale (mirrored about -inf in the middle) instead of linear" },
  { "z", "range", "DB", "with --db: the range shown, in dB; default 48", recipe.positive },
  { nil, "clip", "LEVEL", "the level that counts as clipped; default 32767/32768", recipe.positive },
  { "t", "title", "TEXT", "the title (default: the file name)", nil },
  more = "examples: pastream-lua waveform.lua take1.wav -o take1.png\n"
      .. "          pastream-lua waveform.lua take1.wav -o take1.png -x 1600 --db -z 60",
})

if opt.range and not opt.db then recipe.usage_error(arg, "-z/--range is for the dB scale (--db)") end

recipe.main(arg, function()
  local info, err = ps.waveform(opt[1], {
    out = opt.output, width = opt.width, height = opt.height, range = opt.range,
    scale = opt.db and "db" or "linear", clip = opt.clip, title = opt.title })
  if not info then recipe.die(arg, err) end
  local peaks = {}
  for c, ch in ipairs(info.channels) do
    peaks[c] = string.format("%.1f", recipe.db(ch.peak))
  end
  print(string.format("wrote %s: %d x %d waveform, peak %s dBFS, %d clipped samples",
                      opt.output, info.width, info.height, table.concat(peaks, "/"), info.clipped))
end)
