-- tests/sh/monitor_browser.lua: headless Chromium opens the monitor page and
-- reads its DOM once it has taken `want` live updates, then saves a
-- screenshot.  Chromium is driven over the DevTools protocol on a pipe
-- (--remote-debugging-pipe: JSON messages ending in NUL on fds 3 and 4),
-- so the test waits for what it needs instead of guessing a time.
--   monitor_browser.lua URL SCREENSHOT.png [WANT]
-- Prints "key value" lines: updates, db1, db2, hold1, hold2, peakfreq,
-- state, file, size, elapsed, xruns, clip1 (the CLIP mark's class),
-- screenshot (bytes written), and "error ..." on a failure.
local uv = require "luv"
local url, shot, want = arg[1], arg[2], tonumber(arg[3] or "10")

local function out(k, v) io.stdout:write(k, " ", tostring(v), "\n") io.stdout:flush() end

local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local dec = {}
for i = 1, 64 do dec[b64:byte(i)] = i - 1 end
local function unbase64(s)
  local o, acc, bits = {}, 0, 0
  for i = 1, #s do
    local v = dec[s:byte(i)]
    if v then
      acc, bits = (acc << 6) | v, bits + 6
      if bits >= 8 then
        bits = bits - 8
        o[#o + 1] = string.char((acc >> bits) & 0xff)
      end
    end
  end
  return table.concat(o)
end

local tmpdir = os.getenv("TMPDIR") or "/tmp"
local profile = uv.fs_mkdtemp(tmpdir .. "/pastream-chrome-XXXXXX")
local to_chrome, from_chrome = uv.new_pipe(false), uv.new_pipe(false)
local exit_code, killer = 0, nil
local proc, pid
proc, pid = uv.spawn("nice", {
  args = { "-n", "19", "chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--hide-scrollbars", "--disable-extensions", "--disable-background-networking",
           "--window-size=1000,640", "--user-data-dir=" .. profile, "--remote-debugging-pipe",
           "about:blank" },
  stdio = { nil, nil, nil, to_chrome, from_chrome },
}, function()
  -- chromium is gone: now its profile can go too
  if killer then killer:stop() killer:close() end
  proc:close()
  os.execute("rm -rf '" .. profile .. "'")
  if exit_code ~= 0 then os.exit(exit_code) end
end)
if not proc then out("error", "cannot start chromium: " .. tostring(pid)) os.exit(1) end

local id, waiting, session = 0, {}, nil
local function send(method, params, cb)
  id = id + 1
  waiting[id] = cb
  local msg = string.format('{"id":%d,"method":"%s","params":%s%s}', id, method, params or "{}",
                            session and (',"sessionId":"' .. session .. '"') or "")
  to_chrome:write(msg .. "\0")
end
local buf = ""
from_chrome:read_start(function(err, data)
  if err or not data then return end
  buf = buf .. data
  while true do
    local z = buf:find("\0", 1, true)
    if not z then break end
    local msg = buf:sub(1, z - 1)
    buf = buf:sub(z + 1)
    local mid = tonumber(msg:match('^{"id":(%d+)'))
    if mid and waiting[mid] then
      local cb = waiting[mid]
      waiting[mid] = nil
      cb(msg)
    end
  end
end)

local guard = uv.new_timer()
local function finish(code)
  guard:stop() guard:close()
  exit_code = code
  session = nil
  send("Browser.close", nil, function() end)
  from_chrome:read_stop()
  killer = uv.new_timer()           -- a browser that does not close is killed
  killer:start(5000, 0, function() pcall(proc.kill, proc, "sigkill") end)
end
guard:start(40000, 0, function() out("error", "the hang guard fired (40 s)") finish(1) end)

local EXPR = [[(function () {
  function t(i) { var e = document.getElementById(i); return e ? e.textContent : ""; }
  function c(i) { var e = document.getElementById(i); return e ? e.className : ""; }
  return ["updates=" + t("updates"), "db1=" + t("db1"), "db2=" + t("db2"), "hold1=" + t("hold1"),
          "hold2=" + t("hold2"), "peakfreq=" + t("peakfreq"), "state=" + t("state"),
          "file=" + t("file"), "size=" + t("size"), "elapsed=" + t("elapsed"), "xruns=" + t("xruns"),
          "clip1=" + c("clip1").replace(/ /g, "_")].join(";");
})()]]

local function poll()
  send("Runtime.evaluate", string.format('{"expression":%q,"returnByValue":true}', EXPR):gsub("\\\n", "\\n"),
    function(msg)
      local v = msg:match('"value":"([^"]*)"') or ""
      local f = {}
      for k, x in v:gmatch("(%w+)=([^;]*)") do f[k] = x end
      if (tonumber(f.updates) or 0) >= want then
        for _, k in ipairs { "updates", "db1", "db2", "hold1", "hold2", "peakfreq", "state", "file", "size",
                             "elapsed", "xruns", "clip1" } do out(k, f[k]) end
        send("Page.captureScreenshot", '{"format":"png"}', function(smsg)
          local data = smsg:match('"data":"([^"]*)"')
          if data then
            local png = unbase64(data)
            local fh = assert(io.open(shot, "wb"))
            fh:write(png)
            fh:close()
            out("screenshot", #png)
          else
            out("error", "no screenshot: " .. smsg:sub(1, 200))
          end
          finish(0)
        end)
        return
      end
      local t = uv.new_timer()
      t:start(250, 0, function() t:close() poll() end)
    end)
end

send("Target.createTarget", string.format('{"url":"%s"}', url), function(msg)
  local target = msg:match('"targetId":"([^"]+)"')
  if not target then out("error", "createTarget: " .. msg:sub(1, 200)) return finish(1) end
  send("Target.attachToTarget", string.format('{"targetId":"%s","flatten":true}', target), function(amsg)
    session = amsg:match('"sessionId":"([^"]+)"')
    if not session then out("error", "attach: " .. amsg:sub(1, 200)) return finish(1) end
    send("Emulation.setDeviceMetricsOverride", '{"width":1000,"height":640,"deviceScaleFactor":1,"mobile":false}',
      function() poll() end)
  end)
end)
uv.run()
