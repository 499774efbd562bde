--- pastream.picture: spectrograms and waveforms of a sound file or a Buffer,
-- written as PNG files (src/lpicture.c draws them; libpng writes them).
--
--   ps.spectrogram(path_or_buffer, {out = "s.png", width, height, fft,
--                  window, range, log, fmin, mix, title, caption, samplerate})
--   ps.waveform(path_or_buffer, {out = "w.png", width, height, scale,
--               range, clip, title, caption, samplerate})
--   -> info (the image's size, plot area, tick positions, ...) or nil, message
--
-- A file is read once, in offline chunks (ps.chunks{input = path}), and each
-- chunk goes to the C accumulator: an hour of audio never sits in memory.
-- Options that do not make sense raise; a file that cannot be read or
-- written returns nil and a message.  The PNG is written beside `out` and
-- renamed into place, so a failure never leaves half a picture.
local M = {}

local CHUNK = 65536

local function same_file(a, b)
  local uv = package.loaded.luv or require "luv"
  local sa, sb = uv.fs_stat(a), uv.fs_stat(b)
  return sa and sb and sa.dev == sb.dev and sa.ino == sb.ino
end

local function basename(p) return (p:match("([^/]+)$")) or p end

local function run(kind, src, o, make)
  local ps = require "pastream"
  local core = require "pastream.core"
  if type(o) ~= "table" then error("bad argument #2 to '" .. kind .. "' (options table expected)", 3) end
  if type(o.out) ~= "string" or o.out == "" then
    error("bad argument #2 to '" .. kind .. "' (option 'out': the PNG file to write)", 3)
  end
  local meta, feed
  if type(src) == "string" then
    if same_file(src, o.out) then return nil, o.out .. " is the input file: choose another output" end
    local f, err = ps.open(src)
    if not f then return nil, err end
    meta = { frames = f.frames, channels = f.channels, samplerate = f.samplerate, name = basename(src) }
    f:close()
    feed = function(pic)
      for chunk in ps.chunks{ input = src, chunksize = o.chunksize or CHUNK } do pic:add(chunk) end
    end
  elseif getmetatable(src) == getmetatable(core.Buffer(0)) then
    if src:format() ~= "float32" then src = src:convert("float32") end
    meta = { frames = src:frames(), channels = src:channels(), samplerate = o.samplerate or 48000, name = "buffer" }
    feed = function(pic) pic:add(src) end
  else
    error("bad argument #1 to '" .. kind .. "' (a file name or a Buffer expected, got " .. type(src) .. ")", 3)
  end
  if meta.frames < 1 then return nil, meta.name .. ": no audio frames" end
  local spec = { frames = meta.frames, channels = meta.channels, samplerate = meta.samplerate }
  for k, v in pairs(o) do if spec[k] == nil then spec[k] = v end end
  local ok, pic = pcall(make, spec)
  if not ok then error(pic:gsub("^[^\n]-%.lua:%d+: ", ""), 3) end
  local fed, ferr = pcall(feed, pic)
  if not fed then pic:close() return nil, tostring(ferr) end
  local tmp = o.out .. ".part"
  local title = o.title or meta.name
  local info, err = pic:write(tmp, title, o.caption or M.caption(kind, meta, o))
  pic:close()
  if not info then os.remove(tmp) return nil, err end
  local renamed, rerr = os.rename(tmp, o.out)
  if not renamed then os.remove(tmp) return nil, rerr end
  info.file = o.out
  return info
end

--- The default caption: what the picture shows and how it was made.
function M.caption(kind, meta, o)
  local secs = meta.frames / meta.samplerate
  local s = string.format("%g Hz, %d ch, %.3f s", meta.samplerate, meta.channels, secs)
  if kind == "spectrogram" then
    s = s .. string.format(", %s window%s, %g dB range%s%s", o.window or "hann",
      o.fft and (" of " .. o.fft) or "", o.range or 120, o.log and ", log frequency" or "",
      o.mix and ", channels mixed" or "")
  else
    s = s .. ", " .. (o.scale == "db" and string.format("dB scale (%g dB)", o.range or 48) or "linear scale")
      .. ", red: clipped samples"
  end
  return s .. "  -  pastream-lua"
end

function M.spectrogram(src, o)
  return run("spectrogram", src, o, require("pastream.core").Spectrogram)
end

function M.waveform(src, o)
  return run("waveform", src, o, require("pastream.core").Waveform)
end

return M
