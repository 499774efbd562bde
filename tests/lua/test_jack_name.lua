-- The JACK client name (src/device.c).  JACK2 names a client's notification
-- socket after the client alone (/dev/shm/jack_NAME_UID_0), not after its
-- server, and unlinks that path before it binds it: two processes of one
-- user opening clients of one name on two servers at once take each other's
-- socket, and one open fails (PortAudio then finds no JACK server at all:
-- "no device matches 'loopback' (there are none)").  With PortAudio's
-- default name, "PortAudio" in every process, that failed a check or two
-- in a make check whose two lanes each run their own servers.  So the
-- client is named by the process id, unless PASTREAM_JACK_NAME names it.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local uv = require "luv"
local ps = require "pastream"

local HOST = T.host()
local PROBE = (os.getenv("PS_BUILD") or "build") .. "/pa_probe"
local pid = math.tointeger(uv.os_getpid())

-- Whether the rig's server has a PortAudio device (a client with ports)
-- called name: pa_probe NAME exits 0 when it does.
local function device(name)
  return os.execute(PROBE .. " '" .. name .. "'") == true
end

local function child(env, code)
  local cmd = string.format("%s %s -e %q 2>&1", env, HOST, code)
  local f = assert(io.popen(cmd))
  local out = f:read("a")
  local ok, _, rc = f:close()
  return out, ok and 0 or rc
end

-- the rig's period, as the server says it
local period
do
  local f = assert(io.popen("jack_bufsize 2>/dev/null"))
  period = math.tointeger(tonumber(f:read("a"):match("^(%d+)") or ""))
  f:close()
end

T.group("settle while the stream runs and after a failed start", function()
  local s <close> = ps.InputStream { device = "loopback", channels = 2 }
  local seen
  for _ in s:chunks { chunksize = 1024, frames = 4800 } do seen = seen or s.settle end
  T.eq(seen, period, "settle read while the stream runs (in its chunk loop): the same period")
  s.rxmapping = { 1, 2, 1 }
  local ok, err = pcall(s.record, s, { out = ps.Buffer(4800, 2) })
  T.ok(not ok and tostring(err):find("records 3") ~= nil, "a start refused (a 3-channel map into a 2-channel Buffer)", tostring(err))
  T.eq(s.settle, period, "settle after the failed start: the same period")
  s.rxmapping = nil
  T.ok(pcall(s.record, s, { out = ps.Buffer(4800, 2) }), "the next start records")
end)

T.group("the default name carries the process id", function()
  local s <close> = ps.DuplexStream { device = "loopback" }
  T.ok(device("pastream-" .. pid), "an open stream's ports are a client named pastream-" .. pid)
  T.ok(not device("PortAudio"), "... not PortAudio's default name, shared by every process")
  T.eq(s.settle, period, "on JACK2 the stream sits out one period of the server's at its start ("
       .. tostring(period) .. " frames: jack_bufsize)")
  T.raises(function() s.settle = 5 end, "'settle' is a read-only property of a stream", "settle is read-only")
  s:play(ps.Buffer(4800, 2))
  T.eq(s.settle, period, "... and the same after a run")
  s:close()
  T.ok(not device("pastream-" .. pid), "closed: its ports are gone")
  T.eq(s.settle, nil, "a closed stream's settle is nil, as its other properties")
end)

T.group("PASTREAM_JACK_NAME names it", function()
  local code = string.format([[
    local s = require("pastream").OutputStream { device = "loopback" }
    print(os.execute("%s pastream-take1") == true, os.execute("%s pastream-%d") == true)
    s:close()]], PROBE, PROBE, pid)
  local out, rc = child("PASTREAM_JACK_NAME=pastream-take1", code)
  -- (its first line: a host wrapper may print more, as make gcstress's does)
  T.eq(out:match("^[^\n]*"), "true\tfalse", "a client named pastream-take1, not by the child's pid")
  T.eq(rc, 0, "... exit 0")
end)

T.group("a name JACK cannot take is refused, naming the variable", function()
  local code = [[print(pcall(require("pastream").devices))]]
  local out = child("PASTREAM_JACK_NAME=a:b", code)
  T.ok(out:find("PortAudio failed to start: PASTREAM_JACK_NAME='a:b': a JACK client name has no ':'", 1, true),
    "a ':' in it", out)
  out = child("PASTREAM_JACK_NAME=" .. string.rep("x", 64), code)
  T.ok(out:find("a JACK client name has at most 63 characters", 1, true), "64 characters", out)
  out = child("PASTREAM_JACK_NAME=" .. string.rep("x", 63), code)
  T.ok(out:find("^true"), "63 characters are taken", out)
  local f = io.popen("PASTREAM_JACK_NAME=a:b " .. T.host() .. " scripts/pastream -l 2>&1")
  out = f:read("a")
  local _, _, rc = f:close()
  T.eq(rc, 1, "pastream -l with it: exit 1")
  T.ok(out:find("^pastream: PortAudio failed to start: PASTREAM_JACK_NAME='a:b'"), "... saying why", out)
end)

T.done()
