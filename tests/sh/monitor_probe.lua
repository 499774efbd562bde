-- tests/sh/monitor_probe.lua: network clients for tests/sh/test_monitor.sh,
-- written with luv.  Prints "key value" lines the shell test checks.
--   monitor_probe.lua http PORT         raw requests: good, malformed, traversal, methods, Host
--   monitor_probe.lua idle PORT N       N idle connections; one more is refused; all are closed
--   monitor_probe.lua rate PORT SECONDS the event stream: events per second of audio
--   monitor_probe.lua stuck PORT SECONDS a client that does not read for SECONDS
-- Every wait has a hang guard (the `guard` timers): a guard that fires is a
-- failure reported as such, never a pass.
local uv = require "luv"
local mode, port = arg[1], tonumber(arg[2])
local HOST = "127.0.0.1"

local function out(k, v) io.stdout:write(k, " ", tostring(v), "\n") io.stdout:flush() end

-- Send `data`, read to EOF: cb(response text, closed_by_server).
local function exchange(data, cb, guard_ms)
  local sock = uv.new_tcp()
  local got, done = {}, false
  local guard = uv.new_timer()
  local function finish(eof)
    if done then return end
    done = true
    guard:stop() guard:close()
    if not sock:is_closing() then sock:close() end
    cb(table.concat(got), eof)
  end
  guard:start(guard_ms or 10000, 0, function() finish(false) end)
  sock:connect(HOST, port, function(err)
    if err then got[1] = "connect: " .. err return finish(true) end
    sock:read_start(function(rerr, chunk)
      if rerr or not chunk then return finish(true) end
      got[#got + 1] = chunk
    end)
    if data and #data > 0 then sock:write(data) end
  end)
end

local function status(resp)
  if resp:match("^connect: ECONNREFUSED") then return "refused" end
  return resp:match("^HTTP/1%.1 (%d%d%d)") or (resp == "" and "closed" or "junk")
end

-- Run the steps one after another (each calls next()).
local function sequence(steps)
  local i = 0
  local function nxt()
    i = i + 1
    if steps[i] then steps[i](nxt) end
  end
  nxt()
end

if mode == "http" then
  local req = function(target, extra, method)
    return (method or "GET") .. " " .. target .. " HTTP/1.1\r\nHost: 127.0.0.1:" .. port .. "\r\n" .. (extra or "") .. "\r\n"
  end
  local steps = {}
  local function expect(name, data)
    steps[#steps + 1] = function(nxt)
      exchange(data, function(resp) out(name, status(resp)); nxt() end)
    end
  end
  steps[#steps + 1] = function(nxt)
    exchange(req("/"), function(resp)
      out("page", status(resp))
      local body = resp:match("\r\n\r\n(.*)$") or ""
      out("page_html", body:find("<!DOCTYPE html>", 1, true) and "yes" or "no")
      -- self-contained: no address of anything outside the page itself
      local ext = 0
      for _ in body:gmatch("://") do ext = ext + 1 end
      for _ in body:gmatch("[Ss][Rr][Cc]%s*=") do ext = ext + 1 end
      for _ in body:gmatch("@import") do ext = ext + 1 end
      out("page_external", ext)
      out("page_length_ok", tonumber(resp:match("Content%-Length: (%d+)")) == #body and "yes" or "no")
      out("page_nosniff", resp:find("X-Content-Type-Options: nosniff", 1, true) and "yes" or "no")
      nxt()
    end)
  end
  steps[#steps + 1] = function(nxt)
    exchange(req("/", nil, "HEAD"), function(resp)
      out("head", status(resp))
      out("head_body", #(resp:match("\r\n\r\n(.*)$") or "x"))
      nxt()
    end)
  end
  expect("index", req("/index.html"))
  for i, t in ipairs { "/../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
                       "//etc/passwd", "/index.html/../../etc/passwd", "/events/../../../etc/passwd",
                       "/scripts/monitor.lua", "/lua/pastream/monitor.lua", "/favicon.ico",
                       "/.%00./etc/passwd", "*", "http://evil.example/" } do
    expect("traversal" .. i, req(t))
  end
  expect("post", req("/", "Content-Length: 0\r\n", "POST"))
  expect("delete", req("/events", nil, "DELETE"))
  expect("put", req("/index.html", "Content-Length: 0\r\n", "PUT"))
  expect("badhost", "GET / HTTP/1.1\r\nHost: evil.example:" .. port .. "\r\n\r\n")
  expect("garbage", "garbage\r\n\r\n")
  expect("http09", "GET /\r\n\r\n")
  expect("badversion", "GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n")
  expect("empty", "\r\n\r\n")
  expect("binary", "\0\1\2\255\254 / HTTP/1.1\r\n\r\n")
  expect("lowercase", "get / http/1.1\r\n\r\n")
  expect("huge", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Junk: " .. string.rep("a", 9000) .. "\r\n\r\n")
  sequence(steps)
  uv.run()
  return
end

if mode == "idle" then
  local n = tonumber(arg[3])
  local socks, closed, bytes, connected = {}, 0, 0, 0
  local guard = uv.new_timer()
  local function finish(ok)
    guard:stop() guard:close()
    out("idle_closed", closed)
    out("idle_bytes", bytes)
    out("idle_guard", ok and "no" or "fired")
    for _, s in ipairs(socks) do if not s:is_closing() then s:close() end end
    -- the slots are free again: a real request gets the page
    exchange("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", function(resp) out("after_idle", status(resp)) end)
  end
  guard:start(30000, 0, function() finish(false) end)
  for i = 1, n do
    local s = uv.new_tcp()
    socks[i] = s
    s:connect(HOST, port, function(err)
      if err then closed = closed + 1 return end
      connected = connected + 1
      s:read_start(function(rerr, chunk)
        if chunk then bytes = bytes + #chunk return end
        closed = closed + 1
        s:close()
        if closed == n then finish(true) end
      end)
      if connected == n then
        -- every idle socket is connected (the cap's worth are held by the
        -- server, the rest closed as soon as accepted): one more request
        -- while they hold their slots
        local t = uv.new_timer()
        t:start(300, 0, function()
          t:close()
          exchange("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", function(resp) out("while_idle", status(resp)) end)
        end)
      end
    end)
  end
  uv.run()
  return
end

if mode == "rate" then
  local seconds = tonumber(arg[3])
  local sock = uv.new_tcp()
  local buf, events, first, last, peaks, gaps = "", 0, nil, nil, nil, {}
  local peaks_at   -- the audio time of the event whose peaks are reported
  local silent = 0 -- events inside the tone (1 s to 23 s) whose peaks read 0
  local t = uv.new_timer()
  local function finish()
    t:stop() t:close()
    if not sock:is_closing() then sock:close() end
    out("events", events)
    out("span", string.format("%.3f", (last or 0) - (first or 0)))
    out("rate", first and last > first and string.format("%.1f", (events - 1) / (last - first)) or 0)
    out("peaks", peaks or "none")
    out("peaks_at", peaks_at and string.format("%.3f", peaks_at) or "none")
    out("silent", silent)
    -- the median step of audio time between events: robust to a stall of
    -- the loop, which only stretches a few steps
    table.sort(gaps)
    out("median_ms", #gaps > 0 and string.format("%.1f", gaps[(#gaps + 1) // 2] * 1000) or "none")
    -- the same over the steps that moved: with a period longer than the
    -- monitor's 50 ms, audio time moves once a period and some events repeat
    local moved = {}
    for _, g in ipairs(gaps) do if g > 0 then moved[#moved + 1] = g end end
    out("median_moved_ms", #moved > 0 and string.format("%.1f", moved[(#moved + 1) // 2] * 1000) or "none")
  end
  t:start(math.floor(seconds * 1000), 0, finish)
  sock:connect(HOST, port, function(err)
    if err then out("connect", err) return finish() end
    sock:write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    sock:read_start(function(rerr, chunk)
      if rerr or not chunk then return end
      buf = buf .. chunk
      for data in buf:gmatch("data: ([^\n]*)\n\n") do
        local e = tonumber(data:match('"elapsed":([%d%.e%-]+)'))
        if e then
          events = events + 1
          first = first or e
          if last then gaps[#gaps + 1] = e - last end
          last = e
          peaks, peaks_at = data:match('"peaks":(%[[^%]]*%])'), e
          if e > 1 and e < 23 and peaks and not peaks:find("[1-9]") then silent = silent + 1 end
        end
      end
      buf = buf:match(".*\n\n(.*)$") or buf
    end)
  end)
  uv.run()
  return
end

if mode == "stuck" then
  local seconds = tonumber(arg[3])
  local sock = uv.new_tcp("inet")
  pcall(sock.recv_buffer_size, sock, 4096)   -- a small window: the server's queue grows sooner
  local bytes, eof = 0, false
  sock:connect(HOST, port, function(err)
    if err then out("stuck_connect", err) return end
    sock:write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    local t = uv.new_timer()
    t:start(math.floor(seconds * 1000), 0, function()   -- now read what is there, to EOF
      t:close()
      local guard = uv.new_timer()
      guard:start(10000, 0, function()
        guard:close()
        out("stuck_bytes", bytes)
        out("stuck_dropped", "no")
        sock:close()
      end)
      sock:read_start(function(rerr, chunk)
        if chunk then bytes = bytes + #chunk return end
        guard:stop() guard:close()
        out("stuck_bytes", bytes)
        out("stuck_dropped", "yes")
        sock:close()
      end)
    end)
  end)
  uv.run()
  return
end

error("usage: monitor_probe.lua http|idle|rate|stuck PORT ...")
