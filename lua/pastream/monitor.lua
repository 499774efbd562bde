--- pastream.monitor: a live monitor page in the browser, served over luv.
--
--   local monitor = require "pastream.monitor"
--   local mon = assert(monitor.new{ port = 8000 })  -- host "127.0.0.1" by default
--   mon:update{ channels = 2, peaks = {0.5, 0.4}, elapsed = 1.5, xruns = 0,
--               file = "take1.wav", size = 123456, spectrum = {...} }
--   mon:close()
--
--   monitor.attach(ps, stream, {port, host, file, device, channels, ...})
--     -> mon: feeds it from a running stream (peaks, elapsed, xruns, the
--        file's size) and, when the stream records, a live spectrum from a
--        second input stream on the same device; mon:take_peak(side) gives
--        the terminal status line the peaks the monitor read meanwhile.
--
-- One self-contained page (no external scripts, styles or fonts: it works
-- offline) at / and its Server-Sent Events at /events, pushed `rate` times
-- a second (default 25).  Everything else is a 404, path traversal
-- included (paths are compared as given, never mapped to files); methods
-- other than GET and HEAD get 405: the page is read-only.  It listens only
-- where it is told (loopback by default) and, on loopback, answers only
-- requests whose Host names loopback (no DNS rebinding).  Limits: at most
-- `max_connections` sockets (default 32; more are closed at once), a
-- request must arrive within `header_timeout` seconds (5) and fit in 8 KiB,
-- at most `max_clients` event streams (8), and a client whose unsent data
-- passes `buffer` bytes (65536) is dropped: a slow or stuck browser never
-- holds the audio (which runs in C threads anyway) or the loop.
local M = {}

local uv = require "luv"

local DEFAULTS = { host = "127.0.0.1", port = 8000, rate = 25, max_connections = 32,
                   max_clients = 8, header_timeout = 5, buffer = 65536 }
local MAX_REQUEST = 8192

---------------------------------------------------------------------------
-- JSON for the events (numbers, strings, booleans, lists, tables)
---------------------------------------------------------------------------
local function json(v)
  local t = type(v)
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if math.type(v) == "integer" then return tostring(v) end
    return string.format("%.6g", v)
  elseif t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    local parts = {}
    if #v > 0 or next(v) == nil then
      for i = 1, #v do parts[i] = json(v[i]) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for _, k in ipairs(keys) do parts[#parts + 1] = json(k) .. ":" .. json(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return "null"
end
M.json = json

---------------------------------------------------------------------------
-- The page
---------------------------------------------------------------------------
M.PAGE = [[<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pastream monitor</title>
<style>
body { background:#10131a; color:#dde; font:14px/1.4 monospace; margin:16px; }
h1 { font-size:16px; margin:0 0 8px; color:#fff; }
#info span.v { color:#fff; }
#info div { margin:2px 0; }
.meter { display:flex; align-items:center; margin:6px 0; }
.meter .name { width:5em; }
.bar { position:relative; width:60%; height:18px; background:#05070c; border:1px solid #556; }
.fill { position:absolute; left:0; top:0; bottom:0; width:0;
        background:linear-gradient(90deg,#2a7 0%,#2a7 70%,#dd3 85%,#e52 100%); }
.hold { position:absolute; top:0; bottom:0; width:2px; background:#fff; left:0; }
.clip { margin-left:8px; padding:0 6px; color:#555; border:1px solid #555; }
.clip.on { color:#fff; background:#e00; border-color:#e00; }
.db, .holddb { width:5em; text-align:right; display:inline-block; }
#spec { width:100%; max-width:900px; height:220px; background:#05070c; border:1px solid #556; display:block; }
#state.ended { color:#e85; }
</style></head>
<body>
<h1>pastream monitor</h1>
<div id="info">
<div>file <span class="v" id="file">-</span>, <span class="v" id="size">0</span> bytes</div>
<div>elapsed <span class="v" id="elapsed">0.0</span> s, xruns <span class="v" id="xruns">0</span>,
 <span class="v" id="state">connecting</span>, <span class="v" id="updates">0</span> updates</div>
</div>
<div id="meters"></div>
<div>spectrum: peak at <span class="v" id="peakfreq">-</span> Hz, <span class="v" id="peakdb">-</span> dBFS
 <span id="specnote"></span></div>
<canvas id="spec" width="900" height="220"></canvas>
<script>
"use strict";
var FLOOR = -60, HOLD_MS = 1500, meters = [], updates = 0;
function $(id) { return document.getElementById(id); }
function db(x) { return x > 0 ? 20 * Math.log10(x) : -Infinity; }
function fmt(v) { return v === -Infinity ? "-inf" : v.toFixed(1); }
function pct(d) { return Math.max(0, Math.min(100, (d - FLOOR) / -FLOOR * 100)); }
function makeMeters(n) {
  var box = $("meters");
  box.textContent = "";
  meters = [];
  for (var c = 0; c < n; c++) {
    var row = document.createElement("div");
    row.className = "meter";
    row.innerHTML = '<span class="name">ch ' + (c + 1) + '</span><div class="bar"><div class="fill"></div>' +
      '<div class="hold"></div></div><span class="db" id="db' + (c + 1) + '">-inf</span>&nbsp;dBFS' +
      ' hold <span class="holddb" id="hold' + (c + 1) + '">-inf</span>' +
      '<span class="clip" id="clip' + (c + 1) + '">CLIP</span>';
    box.appendChild(row);
    meters.push({ fill: row.querySelector(".fill"), hold: row.querySelector(".hold"),
                  text: $("db" + (c + 1)), holdText: $("hold" + (c + 1)), clip: $("clip" + (c + 1)),
                  holdDb: -Infinity, holdAt: 0 });
  }
}
function drawSpectrum(s) {
  var cv = $("spec"), g = cv.getContext("2d"), w = cv.width, h = cv.height;
  g.fillStyle = "#05070c"; g.fillRect(0, 0, w, h);
  g.strokeStyle = "#223"; g.font = "11px monospace";
  var lo = Math.log(s.fmin), hi = Math.log(s.fmax), labels = [];
  [50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000].forEach(function (f) {
    if (f < s.fmin || f > s.fmax) return;
    var x = (Math.log(f) - lo) / (hi - lo) * w;
    g.beginPath(); g.moveTo(x, 0); g.lineTo(x, h); g.stroke();
    labels.push([f >= 1000 ? (f / 1000) + "k" : String(f), x + 2, h - 4]);
  });
  for (var d = 0; d >= s.floor; d -= 20) {
    var y = -d / -s.floor * h;
    g.beginPath(); g.moveTo(0, y); g.lineTo(w, y); g.stroke();
    labels.push([d + " dB", 2, y + 12]);
  }
  var n = s.bands.length, bw = w / n;
  for (var i = 0; i < n; i++) {
    var v = Math.max(0, (s.bands[i] - s.floor) / -s.floor);
    g.fillStyle = "hsl(" + (200 - 170 * v) + ",80%," + (35 + 30 * v) + "%)";
    g.fillRect(i * bw, h - v * h, Math.max(1, bw - 1), v * h);
  }
  labels.forEach(function (l) {   /* labels last, on a dark patch over the bars */
    g.fillStyle = "rgba(5,7,12,0.8)";
    g.fillRect(l[1] - 1, l[2] - 10, g.measureText(l[0]).width + 2, 12);
    g.fillStyle = "#aab";
    g.fillText(l[0], l[1], l[2]);
  });
}
function update(m) {
  updates++;
  $("updates").textContent = updates;
  if (m.peaks && m.peaks.length !== meters.length) makeMeters(m.peaks.length);
  var now = Date.now();
  (m.peaks || []).forEach(function (p, c) {
    var mt = meters[c], d = db(p);
    mt.fill.style.width = pct(d) + "%";
    mt.text.textContent = fmt(d);
    if (d >= mt.holdDb || now - mt.holdAt > HOLD_MS) { mt.holdDb = d; mt.holdAt = now; }
    mt.hold.style.left = "calc(" + pct(mt.holdDb) + "% - 2px)";
    mt.holdText.textContent = fmt(mt.holdDb);
    if (m.clip && m.clip[c]) mt.clip.className = "clip on";
  });
  $("elapsed").textContent = (m.elapsed || 0).toFixed(1);
  $("xruns").textContent = m.xruns || 0;
  $("file").textContent = m.file || "-";
  $("size").textContent = m.size || 0;
  $("state").textContent = m.state || "running";
  $("state").className = m.state === "ended" ? "ended" : "";
  $("specnote").textContent = m.spectrum_error ? "(no spectrum: " + m.spectrum_error + ")" : "";
  if (m.spectrum) {
    $("peakfreq").textContent = m.spectrum.peak_freq.toFixed(1);
    $("peakdb").textContent = m.spectrum.peak_db.toFixed(1);
    drawSpectrum(m.spectrum);
  }
}
var es = new EventSource("/events");
es.onmessage = function (e) { update(JSON.parse(e.data)); };
es.onerror = function () { $("state").textContent = "disconnected"; };
</script>
</body></html>
]]

---------------------------------------------------------------------------
-- The server
---------------------------------------------------------------------------
local Monitor = {}
Monitor.__index = Monitor

local REASONS = { [200] = "OK", [400] = "Bad Request", [404] = "Not Found",
                  [405] = "Method Not Allowed", [421] = "Misdirected Request",
                  [431] = "Request Header Fields Too Large", [503] = "Service Unavailable" }

local SECURITY = "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n"
  .. "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
  .. "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'\r\n"
  .. "Referrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n"

local function close_conn(self, c)
  if c.closed then return end
  c.closed = true
  if c.timer then c.timer:stop() c.timer:close() c.timer = nil end
  if self.conns[c] then self.conns[c] = nil; self.nconns = self.nconns - 1 end
  if self.clients[c] then self.clients[c] = nil; self.nclients = self.nclients - 1 end
  if not c.sock:is_closing() then c.sock:close() end
end

-- A whole response, then the connection closes.
local function respond(self, c, code, ctype, body, head_only, extra)
  body = body or (code .. " " .. REASONS[code] .. "\n")
  local h = string.format("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s%sConnection: close\r\n\r\n",
    code, REASONS[code], ctype or "text/plain; charset=utf-8", #body, SECURITY, extra or "")
  c.done = true
  if c.timer then c.timer:stop() end
  c.sock:read_stop()
  c.sock:write(head_only and h or h .. body, function()
    if not c.sock:is_closing() then
      c.sock:shutdown(function() close_conn(self, c) end)
    end
  end)
end

local LOOPBACK_HOSTS = { ["127.0.0.1"] = true, ["localhost"] = true, ["[::1]"] = true }

local function handle_request(self, c, head)
  local line = head:match("^([^\r\n]*)\r?\n")
  local method, target, version = (line or ""):match("^(%u+) (%S+) HTTP/(%d%.%d)$")
  if not method or (version ~= "1.1" and version ~= "1.0") then
    self.stats.bad = self.stats.bad + 1
    return respond(self, c, 400)
  end
  local host = head:match("\n[Hh][Oo][Ss][Tt]:[ \t]*([^\r\n]*)")
  if self.loopback and host then
    local name = host:match("^(%[[^%]]*%])") or host:match("^([^:]*)")
    if not LOOPBACK_HOSTS[name:lower()] then
      self.stats.bad = self.stats.bad + 1
      return respond(self, c, 421)
    end
  end
  local path = target:match("^([^?#]*)")
  if path ~= "/" and path ~= "/index.html" and path ~= "/events" then
    self.stats.not_found = self.stats.not_found + 1
    return respond(self, c, 404)
  end
  if method ~= "GET" and method ~= "HEAD" then
    return respond(self, c, 405, nil, nil, false, "Allow: GET, HEAD\r\n")
  end
  if path ~= "/events" then
    self.stats.pages = self.stats.pages + 1
    return respond(self, c, 200, "text/html; charset=utf-8", M.PAGE, method == "HEAD")
  end
  if self.nclients >= self.o.max_clients then
    self.stats.refused = self.stats.refused + 1
    return respond(self, c, 503, nil, "too many monitor clients\n", method == "HEAD", "Retry-After: 5\r\n")
  end
  -- an event stream: headers now, then an event every tick
  c.done = true
  if c.timer then c.timer:stop() c.timer:close() c.timer = nil end
  self.clients[c] = true
  self.nclients = self.nclients + 1
  -- a fixed, small kernel send buffer (no autotuning to megabytes): a
  -- client that stops reading shows in our queue within seconds
  pcall(c.sock.send_buffer_size, c.sock, 16384)
  self.stats.streams = self.stats.streams + 1
  c.sock:write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" .. SECURITY
    .. "Connection: keep-alive\r\n\r\nretry: 1000\n\n" .. (self.last or ""))
end

local function on_connection(self)
  local sock = uv.new_tcp()
  if not sock then return end
  if not self.server:accept(sock) then sock:close() return end
  local c = { sock = sock, buf = "" }
  if self.nconns >= self.o.max_connections then
    self.stats.refused = self.stats.refused + 1
    sock:close()
    return
  end
  self.conns[c] = true
  self.nconns = self.nconns + 1
  sock:nodelay(true)
  c.timer = uv.new_timer()
  c.timer:start(math.floor(self.o.header_timeout * 1000), 0, function()
    self.stats.timeouts = self.stats.timeouts + 1
    close_conn(self, c)
  end)
  sock:read_start(function(err, data)
    if err or not data then return close_conn(self, c) end
    if c.done then
      -- an event-stream client has nothing more to say: what it sends
      -- anyway is dropped, and a flood closes it
      c.extra = (c.extra or 0) + #data
      if c.extra > MAX_REQUEST then close_conn(self, c) end
      return
    end
    c.buf = c.buf .. data
    if #c.buf > MAX_REQUEST then
      self.stats.bad = self.stats.bad + 1
      return respond(self, c, 431)
    end
    if c.buf:find("\r?\n\r?\n") then return handle_request(self, c, c.buf) end
  end)
end

--- Broadcast the state to every event stream (the tick).
function Monitor:push()
  local msg = "data: " .. json(self.state) .. "\n\n"
  self.last = msg
  for c in pairs(self.clients) do
    if c.sock:get_write_queue_size() > self.o.buffer then
      self.stats.dropped = self.stats.dropped + 1
      close_conn(self, c)
    else
      c.sock:write(msg)
    end
  end
  self.stats.ticks = self.stats.ticks + 1
end

--- Merge fields into the state the next tick sends.
function Monitor:update(fields)
  for k, v in pairs(fields) do self.state[k] = v end
end

function Monitor:close()
  if self.closed then return end
  self.closed = true
  if self.on_close then pcall(self.on_close, self) end
  self.state.state = "ended"
  pcall(self.push, self)                -- the last word: the page shows "ended"
  if self.tick then self.tick:stop() self.tick:close() end
  for c in pairs(self.conns) do close_conn(self, c) end
  for c in pairs(self.clients) do close_conn(self, c) end
  if not self.server:is_closing() then self.server:close() end
end
Monitor.__close = Monitor.close
Monitor.__gc = Monitor.close

--- monitor.new(options) -> mon, or nil and a message (the port is taken...)
function M.new(o)
  o = o or {}
  local opt = {}
  for k, v in pairs(DEFAULTS) do opt[k] = o[k] == nil and v or o[k] end
  local port = math.tointeger(opt.port)
  if not port or port < 0 or port > 65535 then
    error("bad option 'port' (0..65535 expected, got " .. tostring(opt.port) .. ")", 2)
  end
  for _, k in ipairs { "rate", "max_connections", "max_clients", "header_timeout", "buffer" } do
    if type(opt[k]) ~= "number" or opt[k] <= 0 then
      error("bad option '" .. k .. "' (a positive number expected, got " .. tostring(opt[k]) .. ")", 2)
    end
  end
  local self = setmetatable({ o = opt, conns = {}, nconns = 0, clients = {}, nclients = 0,
    state = { state = "running", peaks = {}, clip = {}, elapsed = 0, xruns = 0 },
    stats = { bad = 0, not_found = 0, pages = 0, streams = 0, refused = 0, timeouts = 0,
              dropped = 0, ticks = 0 } }, Monitor)
  self.loopback = opt.host == "127.0.0.1" or opt.host == "::1" or opt.host == "localhost"
  local server = uv.new_tcp()
  local ok, err = server:bind(opt.host, port)
  if not ok then server:close() return nil, string.format("monitor: cannot listen on %s:%d: %s", opt.host, port, err) end
  ok, err = server:listen(128, function(lerr) if not lerr then on_connection(self) end end)
  if not ok then server:close() return nil, string.format("monitor: cannot listen on %s:%d: %s", opt.host, port, err) end
  self.server = server
  local name = server:getsockname()
  self.host, self.port = name.ip, name.port
  self.url = string.format("http://%s:%d/", self.host:find(":", 1, true) and ("[" .. self.host .. "]") or self.host, self.port)
  self.tick = uv.new_timer()
  local ms = math.max(1, math.floor(1000 / opt.rate))
  self.tick:start(ms, ms, function()
    if self.on_tick then pcall(self.on_tick, self) end
    self:push()
  end)
  return self
end

---------------------------------------------------------------------------
-- Feeding it from a stream
---------------------------------------------------------------------------

--- monitor.analyzer(ps, rate, n, nbands) -> function(chunk): the live spectrum:
-- log-spaced bands (dBFS, the strongest bin of each)
-- and the peak frequency, from the latest chunk of a listening stream.
function M.analyzer(ps, rate, n, nbands)
  local dsp = ps.dsp
  local win = dsp.window("hann", n)
  local wsum = 0
  for i = 1, n do wsum = wsum + win[i] end
  local scale = 2 / wsum
  local mono, mag = ps.Buffer(n), ps.Buffer(n // 2 + 1)
  local nbins = n // 2 + 1
  local fmin, fmax = 20, rate / 2
  local lo, hi = {}, {}
  for b = 1, nbands do
    local f1 = fmin * (fmax / fmin) ^ ((b - 1) / nbands)
    local f2 = fmin * (fmax / fmin) ^ (b / nbands)
    lo[b] = math.max(2, math.floor(f1 * n / rate) + 1)
    hi[b] = math.min(nbins, math.max(lo[b], math.floor(f2 * n / rate) + 1))
  end
  local FLOOR = -100
  return function(chunk)
    dsp.mix(chunk, nil, mono)
    mono:apply_window(win)
    dsp.fft_magnitude(mono, 1, mag)
    local best, bestv = 2, -1
    for k = 2, nbins do
      local v = mag[k]
      if v > bestv then best, bestv = k, v end
    end
    local bands = {}
    for b = 1, nbands do
      local m = 0
      for k = lo[b], hi[b] do local v = mag[k]; if v > m then m = v end end
      local d = m > 0 and 20 * math.log(m * scale, 10) or FLOOR
      bands[b] = math.floor(math.max(FLOOR, d) * 10 + 0.5) / 10
    end
    -- the peak, refined by a parabola through the dB values around it
    local function dbk(k) local v = mag[k] * scale; return v > 0 and 20 * math.log(v, 10) or FLOOR end
    local off = 0
    if best > 1 and best < nbins then
      local a, b, c = dbk(best - 1), dbk(best), dbk(best + 1)
      local d = a - 2 * b + c
      if d < 0 then off = 0.5 * (a - c) / d end
    end
    return { bands = bands, fmin = fmin, fmax = fmax, floor = FLOOR,
             peak_freq = (best - 1 + off) * rate / n, peak_db = dbk(best) }
  end
end

local CLIP = 1.0

--- monitor.attach(ps, stream, o) -> mon, or nil and a message.
-- o: port, host (and the other monitor.new options); file (the file being
-- written, its size is shown); device, channels (of the recording, for the
-- spectrum's listening stream; no spectrum without them); fft (2048).
function M.attach(ps, stream, o)
  local mon, err = M.new(o)
  if not mon then return nil, err end
  local rate = stream.samplerate
  local sides = {}
  if stream.rx_peak ~= nil or (o.channels and o.device) then sides[#sides + 1] = "rec" end
  if stream.tx_peak ~= nil then sides[#sides + 1] = "play" end
  -- the peaks the monitor read and the status line has not taken yet
  local pending, clip = { rec = nil, play = nil }, {}
  local meter_side = sides[1]
  function mon:take_peak(side)
    local p = pending[side]
    pending[side] = nil
    return p
  end
  local size_at = 0
  mon:update { file = o.file, samplerate = rate }
  mon.on_tick = function()
    for _, side in ipairs(sides) do
      local p = side == "rec" and stream.rx_peak or stream.tx_peak
      if p then
        local acc = pending[side]
        if not acc then pending[side] = p else
          for c = 1, #p do if p[c] > (acc[c] or 0) then acc[c] = p[c] end end
        end
        if side == meter_side then
          for c = 1, #p do if p[c] >= CLIP then clip[c] = true end end
          mon.state.peaks, mon.state.clip = p, clip
        end
      end
    end
    mon.state.elapsed = stream.frame_count / rate
    mon.state.xruns = stream.xruns
    local now = uv.now()
    if o.file and now - size_at >= 200 then   -- the file's size, 5 times a second
      size_at = now
      local st = uv.fs_stat(o.file)
      mon.state.size = st and st.size or 0
    end
  end
  -- the spectrum: a second input stream on the recording's device (on JACK
  -- it gets the same ports' audio); where the device cannot be opened
  -- twice, the page has no spectrum and says nothing false
  if o.device ~= nil and o.channels then
    local n = o.fft or 2048
    local analyze = M.analyzer(ps, rate, n, o.bands or 96)
    local stop, ls = false, nil
    -- closing the monitor stops the listening stream too, so that its task
    -- ends even when the device has stopped delivering chunks
    mon.on_close = function() stop = true if ls then pcall(ls.stop, ls) end end
    ps.spawn(function()
      local ok, serr = pcall(function()
        ls = ps.InputStream { device = o.device, channels = o.channels, samplerate = rate }
        if stop then return end
        for chunk in ls:chunks { chunksize = n, fill_gaps = true } do
          if stop then break end
          mon.state.spectrum = analyze(chunk)
        end
      end)
      if ls then pcall(ls.close, ls) end
      if not ok and not stop then mon.state.spectrum_error = tostring(serr) end
    end)
  end
  return mon
end

--- monitor.parse_port(v) -> a TCP port 0..65535 (pastream --monitor=PORT;
-- 0: a free one the system picks, the URL printed says which); true -> 8000.
function M.parse_port(v)
  if v == true then return DEFAULTS.port end
  local n = math.tointeger(tonumber(v))
  if not n or n < 0 or n > 65535 then error("a port number 0..65535 expected, got '" .. tostring(v) .. "'", 0) end
  return n
end

--- monitor.for_cli(ps, stream, o, plan, env) -> mon, or nil and a message:
-- pastream --monitor's page (lua/pastream/cli.lua): attached to the run's
-- stream, the spectrum from its input device, the address on stderr.
function M.for_cli(ps, stream, o, p, env)
  local so = p.so
  local function input_side(v) return type(v) == "table" and v[1] or v end
  local out = p.recording and (env.record or o.output) or nil   -- a file name, or a Buffer/function
  local mon, err = M.attach(ps, stream, {
    port = o.monitor,
    file = type(out) == "string" and out or nil,
    device = p.recording and input_side(so.device) or nil,
    channels = p.recording and input_side(so.channels) or nil })
  if not mon then return nil, (err:gsub("^monitor: ", "")) end
  if not o.quiet then env.stderr:write("pastream: monitor on ", mon.url, "\n") end
  return mon
end

return M
