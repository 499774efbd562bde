-- pastream.devname: device queries as users write them.
--
-- PortAudio lists devices of several host APIs side by side, and the same
-- name can appear under two of them ("system" on JACK, "jack" and "default"
-- on ALSA, hardware as "HDA Intel PCH: ALC892 Analog (hw:0,0)").  A query
-- is, in this order of precedence:
--
--   1. an index (integer, or a string of digits): PortAudio's, 0-based;
--   2. a device's exact name (case-sensitive, then case-insensitive);
--   3. HOSTAPI:REST, where HOSTAPI names a host API ("alsa", "jack",
--      "oss", "pulse", "asio", "wasapi", "coreaudio", ... or the start of
--      its PortAudio name, case-insensitive): REST is matched by these
--      same rules among that host API's devices only (`alsa:rigjack`,
--      `jack:loopback`, `alsa:hw:0,0`);
--   4. an ALSA hardware name, hw:CARD,DEV or plughw:CARD,DEV (CARD and DEV
--      numbers): the device whose name ends in "(hw:CARD,DEV)"; hw:CARD
--      alone: the one device of that card, if it has one;
--   5. words: every word occurs in the name (case-insensitive); one match.
--
-- kind ("input" or "output", or nil) keeps only devices with such channels.
-- match() returns the device table, or nil and a message that names the
-- query and lists the candidates with their host APIs.  It takes the lists
-- (ps.devices(), ps.hostapis()) as arguments, so it runs on any list: the
-- real ones of each test rig, or a list a test writes.
local M = {}

-- Short names users type for PortAudio's host APIs (lower case).
M.aliases = {
  alsa = "ALSA", jack = "JACK Audio Connection Kit", oss = "OSS",
  pulse = "PulseAudio", pulseaudio = "PulseAudio", pipewire = "PipeWire",
  asio = "ASIO", wasapi = "Windows WASAPI", wdmks = "Windows WDM-KS",
  ds = "Windows DirectSound", directsound = "Windows DirectSound", mme = "MME",
  coreaudio = "Core Audio", core = "Core Audio", sndio = "sndio", audioio = "audio(4)",
}

--- prefix(hostapi_name) -> the shortest alias of a host API (what -D
-- takes before the colon: "alsa", "jack"), or nil when it has none.
function M.prefix(name)
  local best
  for k, v in pairs(M.aliases) do
    if v == name and (not best or #k < #best or (#k == #best and k < best)) then best = k end
  end
  return best
end

local function has_kind(d, kind)
  if kind == "input" then return (d.max_input_channels or 0) > 0 end
  if kind == "output" then return (d.max_output_channels or 0) > 0 end
  return true
end

local function hostapi_of(d, hostapis)
  if d.hostapi_name then return d.hostapi_name end
  for _, h in ipairs(hostapis) do
    if h.index == d.hostapi then return h.name end
  end
  return "?"
end

local function describe(list, hostapis)
  local names = {}
  for _, d in ipairs(list) do
    names[#names + 1] = string.format("%d '%s' (%s)", d.index, d.name, hostapi_of(d, hostapis))
  end
  return table.concat(names, ", ")
end

-- The host API a prefix names: its PortAudio name, or nil.
function M.hostapi(hostapis, prefix)
  local p = prefix:lower()
  local alias = M.aliases[p]
  for _, h in ipairs(hostapis) do
    local n = h.name:lower()
    if (alias and h.name == alias) or n == p then return h.name end
  end
  -- the start of a PortAudio name ("jack audio", "windows was"), one only
  if #p >= 3 then
    local found
    for _, h in ipairs(hostapis) do
      if h.name:lower():sub(1, #p) == p then
        if found then return nil end
        found = h.name
      end
    end
    return found
  end
  return nil
end

-- Is `prefix` meant as a host API, whether or not PortAudio has it here?
local function known_prefix(hostapis, prefix)
  return M.aliases[prefix:lower()] ~= nil or M.hostapi(hostapis, prefix) ~= nil
end

-- Levenshtein distance between a and b (short strings: names, words).
local function distance(a, b)
  if a == b then return 0 end
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur, ca = { [0] = i }, a:byte(i)
    for j = 1, #b do
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca == b:byte(j) and 0 or 1))
    end
    prev = cur
  end
  return prev[#b]
end

-- Is a word of the query close to a word of a name?  Within a third of
-- its length (a typo or two: "loopbak", "sytem"), or one holds the other
-- and shares three letters ("alc" of "alc892", "hdmi" of "hdmi0").
local function close(qw, nw)
  if #qw >= 3 and #nw >= 3 and (nw:find(qw, 1, true) or qw:find(nw, 1, true)) then return true end
  return #qw >= 3 and distance(qw, nw) <= math.max(1, #qw // 3)
end

-- The devices of pool whose name is near the query: some word of the
-- query is close to some word of the name (words split at anything that
-- is not a letter or a digit, so "hw:0,0" has the words hw, 0, 0).
local function near(pool, query)
  local qws = {}
  for w in query:lower():gmatch("[%w_]+") do if #w >= 3 then qws[#qws + 1] = w end end
  local out = {}
  for _, d in ipairs(pool) do
    local hit = false
    for nw in d.name:lower():gmatch("[%w_]+") do
      for _, qw in ipairs(qws) do
        if close(qw, nw) then hit = true break end
      end
      if hit then break end
    end
    if hit then out[#out + 1] = d end
  end
  return out
end
M.distance = distance

-- One match among `list`, or nil and a message: when nothing matches, the
-- near matches (a typo, a word of the name) if there are any, else all.
local function one(found, query, what, pool, hostapis)
  if #found == 1 then return found[1] end
  if #found == 0 then
    local n = near(pool, query)
    if #n > 0 and #n < #pool then
      return nil, string.format("no %s matches '%s' (near: %s; %d in all)", what, query,
        describe(n, hostapis), #pool)
    end
    return nil, string.format("no %s matches '%s' (%s: %s)", what, query,
      #pool > 0 and "there are" or "there are none", describe(pool, hostapis))
  end
  return nil, string.format("'%s' matches several %ss: %s", query, what, describe(found, hostapis))
end

local function match_in(pool, hostapis, query, what)
  for _, d in ipairs(pool) do
    if d.name == query then return d end
  end
  local q = query:lower()
  local found = {}
  for _, d in ipairs(pool) do
    if d.name:lower() == q then found[#found + 1] = d end
  end
  if #found > 0 then return one(found, query, what, pool, hostapis) end
  -- hw:CARD,DEV, plughw:CARD,DEV, hw:CARD
  local hw = q:match("^hw:(.*)$") or q:match("^plughw:(.*)$")
  local card, dev
  if hw then
    card, dev = hw:match("^(%d+),(%d+)$")
    if not card then card = hw:match("^(%d+)$") end
    if not card then
      return nil, string.format("'%s': ALSA names are matched as hw:CARD,DEV or hw:CARD with numbers", query)
    end
  end
  if card then
    for _, d in ipairs(pool) do
      local c, v = d.name:match("%(hw:(%d+),(%d+)%)$")
      if c == card and (dev == nil or v == dev) then found[#found + 1] = d end
    end
    return one(found, query, what, pool, hostapis)
  end
  for _, d in ipairs(pool) do
    local name, all = d.name:lower(), true
    for word in q:gmatch("%S+") do
      if not name:find(word, 1, true) then all = false break end
    end
    if all then found[#found + 1] = d end
  end
  return one(found, query, what, pool, hostapis)
end

--- match(devices, hostapis, query, kind) -> device | nil, message
function M.match(devices, hostapis, query, kind)
  if kind ~= nil and kind ~= "input" and kind ~= "output" then
    error("bad argument #4 to 'match' (\"input\" or \"output\" expected, got " .. tostring(kind) .. ")", 2)
  end
  if type(devices) ~= "table" then error("bad argument #1 to 'match' (table expected, got " .. type(devices) .. ")", 2) end
  if type(hostapis) ~= "table" then error("bad argument #2 to 'match' (table expected, got " .. type(hostapis) .. ")", 2) end
  local what = kind and (kind .. " device") or "device"
  if math.type(query) == "integer" or (type(query) == "string" and query:match("^%d+$")) then
    local i = math.tointeger(tonumber(query))
    for _, d in ipairs(devices) do
      if d.index == i then
        if not has_kind(d, kind) then
          return nil, string.format("device %d ('%s') has no %s channels", i, d.name, kind)
        end
        return d
      end
    end
    return nil, string.format("no device %s (there are %d: 0..%d)", query, #devices, #devices - 1)
  end
  if type(query) ~= "string" then
    error("bad argument #3 to 'match' (index or name expected, got " .. type(query) .. ")", 2)
  end
  if query:match("^%s*$") then return nil, "an empty device name" end
  local pool = {}
  for _, d in ipairs(devices) do
    if has_kind(d, kind) then pool[#pool + 1] = d end
  end
  -- an exact name wins over any reading of a colon in it
  for _, d in ipairs(pool) do
    if d.name == query then return d end
  end
  local prefix, rest = query:match("^([%w%s%-%(%)]-):(.*)$")
  if prefix and prefix ~= "" and known_prefix(hostapis, prefix)
     and not (prefix:lower() == "hw" or prefix:lower() == "plughw") then
    local api = M.hostapi(hostapis, prefix)
    if not api then
      local names = {}
      for _, h in ipairs(hostapis) do names[#names + 1] = h.name end
      return nil, string.format("'%s': PortAudio has no host API '%s' here (it has: %s)",
        query, prefix, table.concat(names, ", "))
    end
    local sub = {}
    for _, d in ipairs(pool) do
      if hostapi_of(d, hostapis) == api then sub[#sub + 1] = d end
    end
    if rest == "" then
      return nil, string.format("'%s': no device name after the host API", query)
    end
    return match_in(sub, hostapis, rest, what .. " of " .. api)
  end
  return match_in(pool, hostapis, query, what)
end

--- group(devices, hostapis) -> { {name = host API name, index = i, devices = {...}}, ... }
-- in PortAudio's host API order, for listings grouped by host API.
function M.group(devices, hostapis)
  local out, by = {}, {}
  for _, h in ipairs(hostapis) do
    local g = { name = h.name, index = h.index, devices = {} }
    out[#out + 1] = g
    by[h.name] = g
  end
  for _, d in ipairs(devices) do
    local api = hostapi_of(d, hostapis)
    local g = by[api]
    if not g then
      g = { name = api, devices = {} }
      out[#out + 1] = g
      by[api] = g
    end
    g.devices[#g.devices + 1] = d
  end
  return out
end

return M
