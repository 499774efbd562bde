-- tests/bench/report.lua: turn the raw figures tests/bench/run.sh collected
-- into ONE table of figures, ratios and goals (issue 7).
--   lua5.4 tests/bench/report.lua RAW.tsv [RESULTS.md [RESULTS.tsv]]
-- Prints the table (markdown), writes it to RESULTS.md, and writes every
-- figure and ratio to RESULTS.tsv: item, measurement, value, unit, goal, met.
-- Medians are taken here over the rounds (the C programs report their own
-- medians).  A goal that is not met says "NO"; nothing here ever fails.
local rawpath, mdpath, tsvpath = arg[1], arg[2], arg[3]
assert(rawpath, "usage: report.lua RAW.tsv [RESULTS.md [RESULTS.tsv]]")

local recs = {}
for line in io.lines(rawpath) do
  if line ~= "" then
    local f = {}
    for x in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = x end
    recs[#recs + 1] = f
  end
end

local function select(kind)
  local out = {}
  for _, f in ipairs(recs) do if f[1] == kind then out[#out + 1] = f end end
  return out
end

local meta = {}
for _, f in ipairs(select("meta")) do meta[f[2]] = f[3] end

local function median(t)
  local v = {}
  for _, x in ipairs(t) do if x == x and x ~= nil then v[#v + 1] = x end end
  if #v == 0 then return nil end
  table.sort(v)
  local m = #v // 2
  return #v % 2 == 1 and v[m + 1] or (v[m] + v[m + 1]) / 2
end

-- number formatting with about three significant digits
local function num(x)
  if x == nil then return "?" end
  local a = math.abs(x)
  if a == 0 then return "0" end
  if a >= 100 then return string.format("%.0f", x) end
  if a >= 10 then return string.format("%.1f", x) end
  if a >= 1 then return string.format("%.2f", x) end
  if a >= 0.1 then return string.format("%.3f", x) end
  return string.format("%.2g", x)
end
local function ratio(x) return x and (num(x) .. "x") or "?" end

local rows, tsv = {}, {}
local function row(item, what, figure, rat, goal, met)
  rows[#rows + 1] = { item, what, figure, rat or "", goal or "", met or "" }
end
local function fig(item, what, value, unit)
  tsv[#tsv + 1] = { item, what, value and string.format("%.6g", value) or "NA", unit, "", "" }
end
local function check(item, what, value, unit, goal, ok)
  local met = ok == nil and "n/a" or (ok and "yes" or "NO")
  tsv[#tsv + 1] = { item, what, value and string.format("%.6g", value) or "NA", unit, goal, met }
  return met
end

local function errors_for(section)
  local msgs = {}
  for _, f in ipairs(select("error")) do
    if f[2] == section then msgs[#msgs + 1] = f[3] end
  end
  return #msgs > 0 and table.concat(msgs, "; ") or nil
end

local function kib(b)
  b = tonumber(b)
  if b >= 1 << 20 then return (b >> 20) .. " MiB" end
  if b >= 1024 then return (b >> 10) .. " KiB" end
  return b .. " B"
end

---------------------------------------------------------------------------
-- 1. ring buffers
---------------------------------------------------------------------------
do
  local ring = {}
  for _, f in ipairs(select("ring")) do
    local key = f[2] .. "/" .. f[3]
    ring[key] = ring[key] or { rb = tonumber(f[2]), cb = tonumber(f[3]) }
    ring[key][f[4]] = tonumber(f[5])
  end
  local keys = {}
  for k, v in pairs(ring) do keys[#keys + 1] = v end
  table.sort(keys, function(a, b) return a.rb < b.rb or (a.rb == b.rb and a.cb < b.cb) end)
  if #keys == 0 then row("1", "ring buffer throughput", "FAILED: " .. (errors_for("ring") or "no figures"), "", "", "") end
  for _, v in ipairs(keys) do
    local what = string.format("ring %s, chunks %s, 2 threads", kib(v.rb), kib(v.cb))
    local rj = v.ours and v.jack and v.ours / v.jack
    local rm = v.ours and v.memcpy and v.ours / v.memcpy
    local id = string.format("ring %d/%d", v.rb, v.cb)
    fig("1", id .. " ours", v.ours, "GB/s")
    fig("1", id .. " jack_ringbuffer", v.jack, "GB/s")
    fig("1", id .. " memcpy", v.memcpy, "GB/s")
    local m1 = check("1", id .. " ours/jack", rj, "ratio", ">= 1.5", rj and rj >= 1.5)
    local goal, met, rtext = ">= 1.5x jack", m1, ratio(rj) .. " jack"
    if v.cb == 8192 then
      local m2 = check("1", id .. " ours/memcpy", rm, "ratio", ">= 0.40", rm and rm >= 0.40)
      goal = goal .. "; >= 40% memcpy"
      met = (m1 == "yes" and m2 == "yes") and "yes" or "NO"
      rtext = rtext .. "; " .. (rm and string.format("%.1f%%", rm * 100) or "?") .. " memcpy"
    end
    row("1", what, string.format("ours %s GB/s, jack %s, memcpy %s", num(v.ours), num(v.jack), num(v.memcpy)),
      rtext, goal, met)
  end
end

---------------------------------------------------------------------------
-- 2. callback cost
---------------------------------------------------------------------------
do
  local cb = {}
  for _, f in ipairs(select("callback")) do
    local b = tonumber(f[2])
    cb[b] = cb[b] or {}
    cb[b][f[3]] = tonumber(f[4])
  end
  local any = false
  for _, b in ipairs{ 256, 1024 } do
    local v = cb[b]
    if v then
      any = true
      for _, kind in ipairs{ "identity", "mapped" } do
        local r = v[kind] and v.memcpy and v[kind] / v.memcpy
        local lim = kind == "identity" and 1.5 or 3
        fig("2", string.format("callback %d %s", b, kind), v[kind], "ns/frame")
        local met = check("2", string.format("callback %d %s/memcpy", b, kind), r, "ratio",
          "<= " .. lim, r and r <= lim)
        row("2", string.format("callback, stereo f32 duplex rings, block %d, %s", b,
            kind == "identity" and "no mapping" or "both maps swapped"),
          string.format("%s ns/frame (memcpy %s)", num(v[kind]), num(v.memcpy)),
          ratio(r) .. " memcpy", "<= " .. lim .. "x memcpy", met)
      end
      fig("2", string.format("callback %d memcpy", b), v.memcpy, "ns/frame")
    end
  end
  if not any then row("2", "callback cost", "FAILED: " .. (errors_for("callback") or "no figures"), "", "", "") end
end

---------------------------------------------------------------------------
-- 3. recording cost
---------------------------------------------------------------------------
do
  local per = {}                       -- tool -> { cpu_per_min = {}, priv = {}, ok = bool }
  local rate
  for _, f in ipairs(select("rec")) do
    local tool = f[2]
    local cpu, priv, got, frames = tonumber(f[4]), tonumber(f[6]), tonumber(f[8]), tonumber(f[9])
    rate = tonumber(f[10])
    local steady = tonumber(f[12])
    per[tool] = per[tool] or { cpu = {}, steady = {}, priv = {}, ok = true, runs = 0 }
    local p = per[tool]
    p.runs = p.runs + 1
    if got ~= frames or f[11] ~= "0" then p.ok = false; p.why = string.format("%s of %s frames, exit %s", got, frames, f[11]) end
    -- CPU seconds per minute of 48 kHz stereo audio (2.88 M frames): the
    -- whole run (start-up and finalization included), and the steady rate
    -- while recording (CPU s per wall s, and the rig moves `rate` frames per
    -- wall second)
    if cpu and got and got > 0 then p.cpu[#p.cpu + 1] = cpu / (got / (48000 * 60)) end
    if steady and steady > 0 and rate then p.steady[#p.steady + 1] = steady * (48000 * 60) / rate end
    if priv and priv >= 0 then p.priv[#p.priv + 1] = priv / 1024 end
  end
  local na = {}
  for _, f in ipairs(select("na")) do if f[2] == "rec" then na[f[3]] = f[4] end end
  if not next(per) then
    row("3", "recording cost", "not measured: " .. (errors_for("rig") or "no rig"), "", "", "")
  else
    local function c(t) return per[t] and median(per[t].cpu) end
    local function sc(t) return per[t] and median(per[t].steady) end
    local function m(t) return per[t] and median(per[t].priv) end
    local function show(t, v, unit)
      if na[t] then return t .. " " .. na[t] end
      if not per[t] then return t .. " ?" end
      return t .. " " .. num(v) .. unit .. (per[t].ok and "" or " (BAD RUN: " .. (per[t].why or "?") .. ")")
    end
    for _, t in ipairs{ "pastream", "jack_capture", "jack_rec" } do
      fig("3", "record " .. t .. " cpu per 48k-stereo minute, whole run", c(t), "s")
      fig("3", "record " .. t .. " cpu per 48k-stereo minute, steady", sc(t), "s")
      fig("3", "record " .. t .. " private memory", m(t), "MB")
    end
    local rtag = rate and string.format(", recorded at %d Hz", rate) or ""
    local rs = sc("pastream") and sc("jack_capture") and sc("pastream") / sc("jack_capture")
    local met = check("3", "record steady cpu pastream/jack_capture", rs, "ratio", "<= 1", rs and rs <= 1)
    row("3", "recording to WAV, CPU s per audio minute (48 kHz stereo = 2.88 M frames" .. rtag ..
        "), steady: while recording, start-up and finalization left out",
      show("pastream", sc("pastream"), " s") .. ", " .. show("jack_capture", sc("jack_capture"), " s") ..
      ", " .. show("jack_rec", sc("jack_rec"), " s"),
      ratio(rs) .. " jack_capture", "<= 1x jack_capture", met)
    local rc = c("pastream") and c("jack_capture") and c("pastream") / c("jack_capture")
    met = check("3", "record whole-run cpu pastream/jack_capture", rc, "ratio", "<= 1", rc and rc <= 1)
    row("3", "recording to WAV, CPU s per audio minute, whole run (start-up and finalization included)",
      show("pastream", c("pastream"), " s") .. ", " .. show("jack_capture", c("jack_capture"), " s") ..
      ", " .. show("jack_rec", c("jack_rec"), " s"),
      ratio(rc) .. " jack_capture", "<= 1x jack_capture", met)
    local dm = m("pastream") and m("jack_capture") and m("pastream") - m("jack_capture")
    met = check("3", "record private memory pastream - jack_capture", dm, "MB", "<= +2", dm and dm <= 2)
    row("3", "recording: private resident memory near the end (Private_Clean+Private_Dirty)",
      show("pastream", m("pastream"), " MB") .. ", " .. show("jack_capture", m("jack_capture"), " MB") ..
      ", " .. show("jack_rec", m("jack_rec"), " MB"),
      dm and string.format("%+.1f MB vs jack_capture", dm) or "?", "<= jack_capture + 2 MB", met)
  end
end

---------------------------------------------------------------------------
-- 4. offline analysis
---------------------------------------------------------------------------
do
  local w, bad = { pastream = {}, sox = {}, cat = {} }, {}
  for _, f in ipairs(select("ana")) do
    local t = f[2]
    if w[t] then w[t][#w[t] + 1] = tonumber(f[4]) end
    if f[7] ~= "1" then bad[t] = true end
  end
  local p, s, c = median(w.pastream), median(w.sox), median(w.cat)
  if not p and not s then
    row("4", "offline analysis", "FAILED: " .. (errors_for("ana") or "no figures"), "", "", "")
  else
    local file = meta.analysis_file or "?"
    fig("4", "analysis pastream wall", p, "s")
    fig("4", "analysis sox stats wall", s, "s")
    fig("4", "analysis cat wall", c, "s")
    local speed = p and s and s / p
    local vs_cat = p and c and p / c
    local m1 = check("4", "analysis sox/pastream (speed-up)", speed, "ratio", ">= 2", speed and speed >= 2)
    local m2 = check("4", "analysis pastream/cat", vs_cat, "ratio", "<= 2", vs_cat and vs_cat <= 2)
    local flag = ""
    for t in pairs(bad) do flag = flag .. " (" .. t .. " printed no result!)" end
    row("4", "peak+RMS per channel of a WAV (" .. file .. "): offline chunks of 65536 frames, buf:stats per chunk",
      string.format("pastream %s s, sox stats %s s, cat %s s%s", num(p), num(s), num(c), flag),
      string.format("%s faster than sox; %s cat", ratio(speed), ratio(vs_cat)),
      ">= 2x faster than sox; <= 2x cat", (m1 == "yes" and m2 == "yes") and "yes" or "NO")
  end
end

---------------------------------------------------------------------------
-- 5. per-chunk overhead, Buffer operations
---------------------------------------------------------------------------
do
  local byround = {}
  for _, f in ipairs(select("chunks")) do
    local r = f[2]
    byround[r] = byround[r] or {}
    local mode, cs = f[3], tonumber(f[4])
    local key = mode == "record" and "record" or ("c" .. cs)
    byround[r][key] = { n = tonumber(f[5]), lua = tonumber(f[7]), proc = tonumber(f[8]) }
    byround[r].frames = tonumber(f[6])
  end
  local any = next(byround) ~= nil
  for _, cs in ipairs{ 16, 256 } do
    local lua_us, proc_us = {}, {}
    for _, r in pairs(byround) do
      local b, c = r.record, r["c" .. cs]
      if b and c and c.n > 0 then
        lua_us[#lua_us + 1] = (c.lua - b.lua) / c.n * 1e6
        proc_us[#proc_us + 1] = (c.proc - b.proc) / c.n * 1e6
      end
    end
    local lu, pu = median(lua_us), median(proc_us)
    if lu then
      fig("5", string.format("chunks %d per-chunk lua thread", cs), lu, "us")
      fig("5", string.format("chunks %d per-chunk process", cs), pu, "us")
      local met = check("5", string.format("chunks %d per-chunk overhead", cs), lu, "us", "< 2", lu < 2)
      row("5", string.format("`for chunk in s:chunks{chunksize=%d}` empty body, CPU per chunk beyond a plain recording", cs),
        string.format("%s us of the Lua thread's CPU", num(lu)), "",
        "< 2 us per chunk", met)
    end
  end
  -- The two chunk sizes run over the same frames on the same rig, so they
  -- wake the Lua thread equally often (once per period): their difference
  -- is the cost of the chunks alone, and what is left of the larger size's
  -- figure is the cost of the wake-ups (eventfd, poll, coroutine resume).
  local period = tonumber((meta.rig or ""):match("period (%d+)"))
  local per_chunk, per_wake = {}, {}
  for _, r in pairs(byround) do
    local b, c1, c2 = r.record, r.c16, r.c256
    if b and c1 and c2 and c1.n > c2.n then
      local a = (c1.lua - c2.lua) / (c1.n - c2.n)
      per_chunk[#per_chunk + 1] = a * 1e6
      if period and r.frames then
        per_wake[#per_wake + 1] = (c2.lua - b.lua - a * c2.n) / (r.frames / period) * 1e6
      end
    end
  end
  local pc, pw = median(per_chunk), median(per_wake)
  local floors = {}
  for _, f in ipairs(select("wake")) do floors[#floors + 1] = tonumber(f[4]) end
  local floor = median(floors)
  if pc then
    fig("5", "chunks marginal per-chunk lua thread", pc, "us")
    if pw then fig("5", "chunks per wake-up lua thread", pw, "us") end
    if floor then fig("5", "wake-up of a C thread (epoll_wait on an eventfd)", floor, "us") end
    -- A split of the two rows above, not a goal of its own.
    local met = check("5", "chunks marginal per-chunk", pc, "us", "", nil)
    row("5", "the same runs split: Lua CPU per chunk (chunksize 16 vs 256: same wake-ups) and per wake-up of the Lua thread (one per period), against the wake-up of a bare C thread in epoll_wait on an eventfd written once per period (`bench_wake`)",
      string.format("%s us per chunk; %s us per wake-up (C thread: %s us)", num(pc), num(pw), num(floor)),
      (pw and floor) and ratio(pw / floor) .. " the C wake-up" or "",
      "none set (a split of the rows above)", met)
  end
  if not any then
    row("5", "per-chunk overhead", "not measured: " .. (errors_for("chunks") or errors_for("rig") or "no rig"), "", "", "")
  end
  local ops = {}
  for _, f in ipairs(select("bufop")) do
    ops[f[2]] = ops[f[2]] or { c = {}, lua = {} }
    local t = ops[f[2]][f[3]]
    if t then t[#t + 1] = tonumber(f[4]) end
  end
  for _, op in ipairs{ "gain", "peak", "rms", "add" } do
    local o = ops[op]
    if o then
      local l, c = median(o.lua), median(o.c)
      fig("5", "buf:" .. op .. " lua", l, "ns/sample")
      fig("5", "buf:" .. op .. " plain C", c, "ns/sample")
      local r = l and c and l / c
      check("5", "buf:" .. op .. " lua/C", r, "ratio", "none set", nil)
      row("5", string.format("buf:%s() from Lua vs a plain C loop (48000 x 2 float32)", op),
        string.format("%s ns/sample (C %s)", num(l), num(c)), ratio(r) .. " C", "none set", "n/a")
    end
  end
end

---------------------------------------------------------------------------
-- 6. start-up
---------------------------------------------------------------------------
do
  local t = {}
  for _, f in ipairs(select("start")) do
    t[f[2]] = t[f[2]] or {}
    table.insert(t[f[2]], tonumber(f[4]))
  end
  local p, l, cli = median(t.pastream_lua or {}), median(t.lua or {}), median(t.pastream_l or {})
  if p and l then
    fig("6", "startup pastream-lua -e ''", p * 1e3, "ms")
    fig("6", "startup lua5.4 -e ''", l * 1e3, "ms")
    local r = p / l
    local met = check("6", "startup pastream-lua/lua5.4", r, "ratio", "<= 2", r <= 2)
    row("6", "start-up: `pastream-lua -e ''` vs `lua5.4 -e ''` (wall, " .. (meta.startup_tool or "?") .. ")",
      string.format("%s ms vs %s ms", num(p * 1e3), num(l * 1e3)), ratio(r) .. " lua5.4", "<= 2x lua5.4", met)
  else
    row("6", "start-up", "FAILED: " .. (errors_for("start") or "no figures"), "", "", "")
  end
  local na
  for _, f in ipairs(select("na")) do if f[2] == "start" then na = f[4] end end
  if cli then
    fig("6", "startup pastream -l", cli * 1e3, "ms")
    row("6", "start-up: `scripts/pastream -l` (lists the rig's devices)", num(cli * 1e3) .. " ms", "", "none set", "n/a")
  elseif na then
    row("6", "start-up: `pastream -l`", "skipped: " .. na, "", "none set", "n/a")
  end
  -- the CLI without a shell between (bin/pastream, the host under that name)
  local h, sh, cl, probe = median(t.cli_h or {}), median(t.cli_sh_h or {}),
    median(t.cli_l or {}), median(t.pa_probe or {})
  if h then
    fig("6", "startup pastream -h", h * 1e3, "ms")
    local met = check("6", "startup pastream -h", h * 1e3, "ms", "< 10", h * 1e3 < 10)
    row("6", "start-up: `pastream -h` (the host as pastream, no shell)" ..
      (sh and string.format(" vs `scripts/pastream -h` (the /bin/sh launcher) %s ms", num(sh * 1e3)) or ""),
      num(h * 1e3) .. " ms", "", "< 10 ms", met)
  end
  if cl and probe then
    fig("6", "startup pastream -l (no shell)", cl * 1e3, "ms")
    fig("6", "startup pa_probe", probe * 1e3, "ms")
    local r = cl / probe
    local met = check("6", "startup pastream -l/pa_probe", r, "ratio", "<= 1.1", r <= 1.1)
    row("6", "start-up: `pastream -l` vs a bare C PortAudio listing (build/pa_probe)",
      string.format("%s ms vs %s ms", num(cl * 1e3), num(probe * 1e3)), ratio(r) .. " pa_probe", "<= 1.1x", met)
  end
end

---------------------------------------------------------------------------
-- 7. latency, 8. GC immunity
---------------------------------------------------------------------------
do
  local meas, rep, per, rate = {}, {}, nil, nil
  for _, f in ipairs(select("latency")) do
    meas[#meas + 1] = tonumber(f[2]); rep[#rep + 1] = tonumber(f[3])
    rate = tonumber(f[4]); per = tonumber(f[6])
  end
  local m = median(meas)
  if m then
    fig("7", "latency measured", m, "frames")
    fig("7", "latency reported", median(rep), "frames")
    local met = check("7", "latency measured - limit", m - per, "frames", "= 0", m == per)
    local all_same = true
    for _, x in ipairs(meas) do if x ~= meas[1] then all_same = false end end
    row("7", string.format("round trip on loopback, default settings (%d Hz rig)", rate),
      string.format("%d frames measured%s, %d reported", m, all_same and "" or " (median; runs differ)", median(rep)),
      string.format("limit %d (one period)", per), "= the limit", met)
  else
    row("7", "round-trip latency", "not measured: " .. (errors_for("latency") or errors_for("rig") or "no rig"), "", "", "")
  end
  local any = false
  local control = {}
  for _, f in ipairs(select("gcctl")) do
    control[f[2]] = { lost = tonumber(f[3]) - tonumber(f[4]), xruns = tonumber(f[5]) }
  end
  for _, f in ipairs(select("gc")) do
    any = true
    local frames, got, xr, rate_mb = tonumber(f[3]), tonumber(f[4]), tonumber(f[5]), tonumber(f[6])
    local lost = frames - got
    fig("8", "gc " .. f[2] .. " frames lost", lost, "frames")
    fig("8", "gc " .. f[2] .. " xruns", xr, "count")
    fig("8", "gc " .. f[2] .. " garbage", rate_mb, "MB/s")
    local met = check("8", "gc " .. f[2] .. " lost+xruns", lost + xr, "count", "= 0 at >= 100 MB/s",
      lost == 0 and xr == 0 and rate_mb >= 100)
    row("8", string.format("%s while a task allocates garbage",
        f[2] == "chunks" and "chunk iteration" or "file recording"),
      string.format("%d frames lost, %d xruns, at %s MB/s of garbage%s%s", lost, xr, num(rate_mb),
        f[7] ~= "-" and (" (" .. f[7] .. ")") or "",
        control[f[2]] and string.format("; without the garbage task: %d lost, %d xruns",
          control[f[2]].lost, control[f[2]].xruns) or ""),
      "", "0 lost, 0 xruns, >= 100 MB/s", met)
  end
  if not any then
    row("8", "garbage-collector immunity", "not measured: " .. (errors_for("gc") or errors_for("rig") or "no rig"), "", "", "")
  end
end

---------------------------------------------------------------------------
-- 9. pictures against sox (issue 20; tests/bench/pictures.sh)
---------------------------------------------------------------------------
do
  for _, kind in ipairs { "spec", "wave" } do
    local w, c, bad = { ours = {}, sox = {} }, { ours = {}, sox = {} }, {}
    for _, f in ipairs(select("pict")) do
      if f[2] == kind and w[f[3]] then
        w[f[3]][#w[f[3]] + 1] = tonumber(f[5])
        c[f[3]][#c[f[3]] + 1] = tonumber(f[6])
        if f[7] ~= "1" then bad[f[3]] = true end
      end
    end
    local o, s = median(w.ours), median(w.sox)
    local flag = ""
    for t in pairs(bad) do flag = flag .. " (" .. t .. " wrote no result!)" end
    if not o or not s then
      row("9", kind == "spec" and "spectrogram" or "waveform",
        "not measured: " .. (errors_for("pict") or "no figures"), "", "", "")
    elseif kind == "spec" then
      local r = o / s
      local met = check("9", "spectrogram ours/sox wall", r, "ratio", "<= 1", r <= 1)
      fig("9", "spectrogram ours wall", o, "s"); fig("9", "spectrogram sox wall", s, "s")
      row("9", "spectrogram PNG of " .. (meta.pict_file or "?") .. ", 800 columns x 257 rows a channel:"
        .. " `spectrum.lua FILE -o` vs `sox FILE -n spectrogram`",
        string.format("ours %s s (CPU %s), sox %s s (CPU %s)%s", num(o), num(median(c.ours)), num(s),
          num(median(c.sox)), flag),
        ratio(r) .. " sox's time", "<= 1x sox", met)
    else
      local speed = s / o
      local met = check("9", "waveform sox stats/ours (speed-up)", speed, "ratio", ">= 2", speed >= 2)
      fig("9", "waveform ours wall", o, "s"); fig("9", "waveform sox stats wall", s, "s")
      row("9", "waveform PNG of the analysis file (" .. (meta.pict_long or "?") .. "):"
        .. " `waveform.lua FILE -o` vs `sox FILE -n stats`",
        string.format("ours %s s (CPU %s), sox stats %s s (CPU %s)%s", num(o), num(median(c.ours)), num(s),
          num(median(c.sox)), flag),
        ratio(speed) .. " faster than sox", ">= 2x faster than sox", met)
    end
  end
end

---------------------------------------------------------------------------
-- output
---------------------------------------------------------------------------
local out = {}
local function say(s) out[#out + 1] = s end
say("# pastream-lua benchmarks (`make bench`)")
say("")
say(string.format("%s, commit %s, %s; load %s at the start, %s at the end; %s; %s s%s.",
  meta.date or "?", meta.commit or "?", meta.cpu or "?", meta.load or "?", meta.load_end or "?",
  meta.rig or "?", meta.seconds or "?", meta.quick == "1" and ", QUICK run (BENCH_QUICK=1)" or ""))
say("Medians of several runs; contenders alternated within every round. Goals from issue 7; a goal not met says NO.")
say("")
say("| # | measurement | figures | ratio | goal | met |")
say("|---|---|---|---|---|---|")
local met_n, miss = 0, {}
for _, r in ipairs(rows) do
  say("| " .. table.concat(r, " | ") .. " |")
  if r[6] == "yes" then met_n = met_n + 1 elseif r[6] == "NO" then miss[#miss + 1] = r[1] .. ": " .. r[2] end
end
say("")
say(string.format("Goals met: %d, not met: %d.", met_n, #miss))
for _, m in ipairs(miss) do say("- not met: " .. m) end
say("")
say("How: 1 tests/bench/bench_ring.c (producer and consumer threads pinned to two CPUs, copying calls," ..
  " 2 MiB source/destination); 2 bench_callback.c (ps_engine_callback called directly, rings of 65536" ..
  " frames); 3 record.lua / jack_capture -b FLOAT / jack_rec -b 32 on the rig's system:capture ports," ..
  " measured by runstat.c (wait4 rusage; per-thread schedstat for the steady rate; smaps_rollup);" ..
  " 4 analysis.lua vs sox stats vs cat, file in the page cache; 5 chunks.lua (Lua thread CPU from" ..
  " /proc/thread-self/schedstat, minus a recording to a file; bench_wake.c for a bare C thread's" ..
  " wake-up), bufops.lua vs bench_bufops.c;" ..
  " 6 hyperfine; 7 latency.lua (impulse through loopback); 8 gc.lua (each case also run without the" ..
  " garbage task); 9 tests/bench/pictures.sh (runstat.c, file in the page cache). Raw figures: results.tsv.")
local text = table.concat(out, "\n") .. "\n"
io.write(text)
if mdpath then
  local f = assert(io.open(mdpath, "w")); f:write(text); f:close()
end
if tsvpath then
  local f = assert(io.open(tsvpath, "w"))
  f:write("item\tmeasurement\tvalue\tunit\tgoal\tmet\n")
  for _, t in ipairs(tsv) do f:write(table.concat(t, "\t"), "\n") end
  f:close()
end
