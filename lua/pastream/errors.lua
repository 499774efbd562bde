--- pastream.errors: the errors a run ends with, as values.
--
-- An engine error (BufferFull, BufferEmpty, XRun, DeviceError) or a signal
-- (Interrupted) is raised as an Error: err.kind names it, err.message is
-- the message (tostring(err) gives it, `..` and the string methods work on
-- it as on the message), and fields carry the numbers (err.frames: the
-- frame count when it happened; err.frame_count, err.rx_frames,
-- err.tx_frames, err.xruns; err.signal and err.exit for Interrupted).
-- The kinds themselves are Errors too, so that `err == ps.BufferFull` and
-- ps.is(err, ps.BufferFull) tell the kind.  Needs no audio: task.lua uses
-- it for Interrupted.
local errors = {}

local Error = { __name = "pastream.Error" }
Error.__tostring = function(e) return rawget(e, "message") or rawget(e, "kind") end
Error.__concat = function(a, b) return tostring(a) .. tostring(b) end
-- two Errors are equal when they are of the same kind
Error.__eq = function(a, b) return rawget(a, "kind") == rawget(b, "kind") end
-- err:find(...), err:match(...) and the other string methods work on the message
Error.__index = function(_, k)
  local f = string[k]
  if f then return function(self, ...) return f(tostring(self), ...) end end
end
errors.Error = Error

--- errors.new(kind, message [, fields]) -> an Error.
function errors.new(kind, message, fields)
  local e = fields or {}
  e.kind, e.message = kind, message or kind
  return setmetatable(e, Error)
end

--- errors.is(v [, kind]) -> true when v is an Error (of kind: an Error
-- kind such as ps.BufferFull, or its name).
function errors.is(v, kind)
  if getmetatable(v) ~= Error then return false end
  if kind == nil then return true end
  if getmetatable(kind) == Error then kind = rawget(kind, "kind") end
  return rawget(v, "kind") == kind
end

errors.kinds = { "BufferFull", "BufferEmpty", "XRun", "DeviceError", "Interrupted" }
for _, k in ipairs(errors.kinds) do errors[k] = errors.new(k) end

--- errors.from_engine(message, stream) -> an Error for a message of
-- stream:error() ("BufferFull: ... after N frames ..."), with the stream's
-- counters; a message of another kind stays as it is.
function errors.from_engine(message, s)
  if type(message) ~= "string" then return message end
  local kind = message:match("^(%a+):")
  if not kind or getmetatable(errors[kind]) ~= Error then return message end
  local f = { frames = math.tointeger(tonumber(message:match("after (%d+) ") or message:match("after (%d+)$"))) }
  if s and not s.closed then
    f.frame_count, f.rx_frames, f.tx_frames, f.xruns = s.frame_count, s.rx_frames, s.tx_frames, s.xruns
    f.status = s.status
  end
  return errors.new(kind, message, f)
end

return errors
