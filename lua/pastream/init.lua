--- pastream: realtime audio streams for Lua 5.4, on the luv event loop.
--
-- The C core (pastream.core) runs the PortAudio callback and ring buffers;
-- this module is the public API.  It is made of modules with one concern
-- each, re-exported here:
--
--   pastream.task     tasks on the luv loop (ps.spawn, ps.sleep, ps.run, ...)
--   pastream.wake     waiting for the engine
--   pastream.output   the output-file policy (ps.prepare_output, ...)
--   pastream.run      a stream's runs: start, wait, play, record, sources, sinks
--   pastream.chunks   chunk iterators, live and offline
--
-- Anything that waits yields its task to the loop and is resumed by the
-- engine's wake-up; outside a task the same call runs the loop until it is
-- done, so plain scripts just work.
local core = require "pastream.core"
local task = require "pastream.task"
local output = require "pastream.output"
local wake = require "pastream.wake"
local run = require "pastream.run"
local errors = require "pastream.errors"
local devname = require "pastream.devname"

local ps = {
  version = core.version,
  Buffer = core.Buffer,
  versions = core.versions,
}

--- Write a Buffer to a sound file (type from the extension, WAV if none),
-- keeping its sample format exactly.  Returns true, or nil and a message.
-- An explicit write: an existing file is replaced (recordings, out = ...,
-- are not: they need overwrite = true).
ps.save = core.save
--- Read a whole sound file: returns a float32 Buffer and the sample rate,
-- or nil and a message.
ps.load = core.load

---------------------------------------------------------------------------
-- Tasks (lua/pastream/task.lua: they need no audio, so that scripts run by
-- pastream-lua that never require "pastream" never load this core)
---------------------------------------------------------------------------

ps.spawn = task.spawn
ps.yield = task.yield
ps.sleep = task.sleep
ps.run = task.run
ps.main = task.main

-- SIGINT/SIGTERM: ps.on_signal, when a script sets it, handles the signal
-- instead; otherwise every running stream is stopped and its files are
-- finished, and then the signal is an Interrupted error raised in the
-- script where it waits (task.lua), which ends it with 128 + signo unless
-- it is caught.
task.on_terminate(function(name)
  if ps.on_signal then ps.on_signal(name) return true end
  run.stop_all()
end)

--- Errors as values (lua/pastream/errors.lua): the kinds an engine error
-- or a signal has, ps.BufferFull, ps.BufferEmpty, ps.XRun, ps.DeviceError,
-- ps.Interrupted; ps.is(err, kind) or err == kind tells them.
for _, k in ipairs(errors.kinds) do ps[k] = errors[k] end
ps.is = errors.is

ps._wait_engine = wake.wait

--- Output files (lua/pastream/output.lua): ps.prepare_output(path,
-- {overwrite, inputs}) -> plan, ps.commit_output(plan),
-- ps.discard_output(plan), ps.check_output(path, {overwrite, inputs}).
ps.prepare_output = output.prepare
ps.commit_output = output.commit
ps.discard_output = output.discard
ps.check_output = output.check
ps._rename_msg = output.rename_msg

---------------------------------------------------------------------------
-- Devices
---------------------------------------------------------------------------

--- The defaults a stream takes; change them to change every later stream.
ps.default = {
  device = nil,          -- nil: PortAudio's default; or an index/name, or {input, output}
  samplerate = nil,      -- nil: the device's default rate
  channels = nil,        -- nil: 2, or fewer if the device has fewer
  format = "float32",
  blocksize = 0,         -- 0: the host decides (lowest latency)
  latency = "high",      -- "low", "high" or seconds
  buffersize = 65536,    -- ring buffer frames (power of two)
  watchdog = 1,          -- seconds without a callback before a running stream
                         -- ends as a DeviceError (false: never)
}

function ps.devices() return core.devices() end
function ps.hostapis() return core.hostapis() end

--- Find a device as users name it (pastream.devname says how): by index
-- (PortAudio's, 0-based), by exact name, as HOSTAPI:NAME ("jack:loopback",
-- "alsa:default"), by an ALSA hw:CARD,DEV form, or by words of its name
-- (case-insensitive).  Several matches are an error that lists them; no
-- match, one that lists the near ones.  kind ("input"/"output") keeps only
-- devices that have it.  ps.find_device(query, kind) -> the device, or nil
-- and why not (for a script's own message); ps.device raises that message.
local function find_device(query, kind)
  -- A device named on another host API than ALSA before PortAudio starts
  -- ("jack:loopback"): ALSA need not probe its plugin PCMs, and loads none
  -- of their libraries (src/device.h, ps_pa_spare_alsa)
  local api = type(query) == "string" and query:match("^(%a+):")
  if api and api:lower() ~= "alsa" and devname.aliases[api:lower()] then core.spare_alsa() end
  local devs = core.devices()
  if query == nil then
    local din, dout = core.default_devices()
    local i = kind == "input" and din or dout
    if i < 0 then i = kind == nil and din or i end
    if i < 0 then return nil, "there is no default " .. (kind or "audio") .. " device" end
    return devs[i + 1]
  end
  if math.type(query) ~= "integer" and type(query) ~= "string" then
    return nil, "bad argument #1 to 'device' (index or name expected, got " .. type(query) .. ")"
  end
  return devname.match(devs, core.hostapis(), query, kind)
end
ps.find_device = find_device

function ps.device(query, kind)
  if kind ~= nil and kind ~= "input" and kind ~= "output" then
    error("bad argument #2 to 'device' (\"input\" or \"output\" expected, got "
          .. tostring(kind) .. ")", 2)
  end
  local d, err = find_device(query, kind)
  if not d then error(err, 2) end
  return d
end
--- How many streams are open (made and not yet closed).
ps.stream_count = core.stream_count

---------------------------------------------------------------------------
-- Streams
---------------------------------------------------------------------------

-- Option value for direction dir (1 input, 2 output): a pair or a single value.
local function side(v, dir)
  if type(v) == "table" then return v[dir] end
  return v
end

local function latency_value(v, name, level)
  if v == nil or v == "high" then return -1 end
  if v == "low" then return -2 end
  if type(v) == "number" and v >= 0 then return v end
  error(string.format("%s must be \"low\", \"high\" or seconds >= 0, got %s", name, tostring(v)), level)
end

-- open_stream(kind, o, level): errors are raised at `level` (the user's call).
local function open_stream(kind, o, level)
  o = o or {}
  if type(o) ~= "table" then error("bad argument #1 to '" .. kind .. "' (options table expected)", level) end
  local def = ps.default
  local dirs = kind == "DuplexStream" and { 1, 2 } or kind == "InputStream" and { 1 } or { 2 }
  local p = { device = { -1, -1 }, channels = {}, format = {}, latency = {} }
  local rate
  for _, dir in ipairs(dirs) do
    local k = dir == 1 and "input" or "output"
    local q = side(o.device, dir)
    if q == nil then q = side(def.device, dir) end
    local d, derr = find_device(q, k)
    if not d then error(derr, level) end
    p.device[dir] = d.index
    local maxch = dir == 1 and d.max_input_channels or d.max_output_channels
    local ch = side(o.channels, dir) or side(def.channels, dir) or math.min(2, maxch)
    if math.type(ch) ~= "integer" or ch < 1 then
      error(string.format("%s channels must be an integer >= 1, got %s", k, tostring(ch)), level)
    end
    p.channels[dir] = ch
    p.format[dir] = side(o.format, dir) or side(def.format, dir) or "float32"
    p.latency[dir] = latency_value(side(o.latency, dir) or side(def.latency, dir), k .. " latency", level + 1)
    rate = rate or d.default_samplerate
  end
  p.samplerate = o.samplerate or def.samplerate or rate
  p.blocksize = o.blocksize or def.blocksize or 0
  p.dither = o.dither
  local bs = o.buffersize or def.buffersize
  if math.type(bs) ~= "integer" or bs < 256 or bs & (bs - 1) ~= 0 then
    error("buffersize must be a power of two, got " .. tostring(bs) .. " (at least 256 frames)", level)
  end
  local s, err = core.Stream(p)
  if not s then error(err, level) end
  local ok, merr = pcall(function()
    s.buffersize = bs
    local wd = o.watchdog
    if wd == nil then wd = def.watchdog end
    if wd == false then wd = 0 end
    if type(wd) ~= "number" or wd < 0 then
      error("watchdog must be seconds > 0 or false, got " .. tostring(wd), 0)
    end
    if wd > 0 then
      -- never less than a few of the stream's own buffers
      local lat = s.latency
      if type(lat) == "table" then lat = math.max(lat[1], lat[2]) end
      wd = math.max(wd, 4 * (lat + p.blocksize / p.samplerate))
    end
    s:_watchdog(wd)
    if o.txmapping then s:set_txmap(o.txmapping) end
    if o.rxmapping then s:set_rxmap(o.rxmapping) end
  end)
  if not ok then
    s:close()                       -- a bad option leaves no stream open
    error(merr, level)
  end
  run.state(s)                      -- its Lua-side state record, phase "idle"
  return s
end

local function constructor(kind)
  return setmetatable({}, {
    __call = function(_, o)
      local s = open_stream(kind, o, 3)   -- (not a tail call: level 3 is the caller)
      return s
    end,
    __tostring = function() return "pastream." .. kind end,
  })
end
ps.InputStream = constructor("InputStream")
ps.OutputStream = constructor("OutputStream")
ps.DuplexStream = constructor("DuplexStream")
run.open_stream = open_stream       -- for ps.chunks, which opens its own
--- Runs, sources, sinks (pastream.run) and chunk iterators (pastream.chunks).
run.install(ps)
require("pastream.chunks").install(ps)
require("pastream.process").install(ps)

local Stream = core.stream_methods

--- Information about a sound file: {samplerate, channels, frames, type,
-- subtype, endian, seekable}, or nil and a message.  RAW files need
-- {samplerate, channels, subtype}.
ps.file_info = core.file_info

--- The file types and subtypes this libsndfile writes: {wav = {"pcm_16", ...}, ...}.
ps.formats = core.formats

--- A DuplexStream whose samplerate and (output) channels come from a file.
function ps.DuplexStream.from_file(path, o)
  local info, err = core.file_info(path, o and o.input_file)
  if not info then error(err, 2) end
  local opts = {}
  for k, v in pairs(o or {}) do opts[k] = v end
  opts.samplerate = opts.samplerate or info.samplerate
  if opts.channels == nil then
    local din, derr = find_device(side(opts.device, 1), "input")
    if not din then error(derr, 2) end
    opts.channels = { math.min(info.channels, din.max_input_channels), info.channels }
  end
  local ok, s = pcall(ps.DuplexStream, opts)
  if not ok then error(s, 2) end
  return s
end

--- ps.OutputStream.from_file(path, o), ps.InputStream.from_file(path, o):
-- a stream whose samplerate and channels come from a sound file (to play
-- it, or to record in its shape); options as the constructors'.
for _, kind in ipairs { "InputStream", "OutputStream" } do
  ps[kind].from_file = function(path, o)
    local info, err = core.file_info(path, o and o.input_file)
    if not info then error(err, 2) end
    local opts = {}
    for k, v in pairs(o or {}) do opts[k] = v end
    opts.samplerate = opts.samplerate or info.samplerate
    if opts.channels == nil then
      local d, derr = find_device(opts.device, kind == "InputStream" and "input" or "output")
      if not d then error(derr, 2) end
      local max = kind == "InputStream" and d.max_input_channels or d.max_output_channels
      opts.channels = math.min(info.channels, max)
    end
    local s = open_stream(kind, opts, 3)
    return s
  end
end

--- The round-trip latency of a duplex stream in frames, as PortAudio
-- reports it (input + output latency).
function Stream:roundtrip_frames()
  run.check(self, 2)
  local lat = self.latency
  local total = type(lat) == "table" and lat[1] + lat[2] or lat
  return math.floor(total * self.samplerate + 0.5)
end

---------------------------------------------------------------------------
-- Small helpers every script needs
---------------------------------------------------------------------------

--- ps.frames(seconds, rate) -> the whole number of frames nearest to
-- seconds at rate (nil for nil seconds: "no end").  Raises on a negative
-- or non-number duration.
function ps.frames(seconds, rate)
  if seconds == nil then return nil end
  if type(seconds) ~= "number" or not (seconds >= 0) or seconds == math.huge then
    error("bad argument #1 to 'frames' (seconds >= 0 expected, got " .. tostring(seconds) .. ")", 2)
  end
  if type(rate) ~= "number" or not (rate > 0) then
    error("bad argument #2 to 'frames' (sample rate > 0 expected, got " .. tostring(rate) .. ")", 2)
  end
  return math.floor(seconds * rate + 0.5)
end

--- ps.stop_on_signal([stream]) -> stopped: SIGINT and SIGTERM end the
-- script's own run or loop (which then stops and finishes its files as
-- usual) instead of the program.  stopped() returns true (and the signal's
-- name) once one has arrived; with a stream, the signal also stops it.
-- stopped is a to-be-closed value: at the end of its scope (or on
-- stopped:release()) the signals go back to what they did before.
--   local stopped <close> = ps.stop_on_signal()
--   for chunk in ps.chunks{...} do ... if stopped() then break end end
local Stopper = {}
Stopper.__index = Stopper
Stopper.__call = function(self) return self.signal ~= nil, self.signal end
function Stopper:release()
  if ps.on_signal == self.hook then ps.on_signal = self.previous end
end
Stopper.__close = Stopper.release

function ps.stop_on_signal(stream)
  if stream ~= nil and not pcall(run.check, stream, 1) then
    error("bad argument #1 to 'stop_on_signal' (open stream or nil expected)", 2)
  end
  local self = setmetatable({ previous = ps.on_signal }, Stopper)
  self.hook = function(name)
    self.signal = self.signal or name
    if stream and not stream.closed then pcall(stream.stop, stream) end
  end
  ps.on_signal = self.hook
  return self
end

--- DSP helpers on float32 Buffers (src/ldsp.c): ps.dsp.window, apply_window,
-- fft_magnitude, rfft, Biquad, to_db, from_db, gain_db, mix; and the
-- methods buf:apply_window(win), buf:gain_db(db).
ps.dsp = core.dsp

--- Pictures as PNG files (lua/pastream/picture.lua): ps.spectrogram(src, o), ps.waveform(src, o).
function ps.spectrogram(src, o) return require("pastream.picture").spectrogram(src, o) end
function ps.waveform(src, o) return require("pastream.picture").waveform(src, o) end

return ps
