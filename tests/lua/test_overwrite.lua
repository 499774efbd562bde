-- Safety of data: a recording never replaces an existing file unless
-- asked (overwrite = true), and then only once the stream has started, so
-- a failed start keeps the old file; a failed start without overwrite
-- leaves no file behind.  "-", character devices and FIFOs are written in
-- place.  (The CLI and the recipes, and SIGINT: tests/sh/test_overwrite.sh.)
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local uv = require "luv"

local dir, P = T.tmpdir()

local read = T.read

local function listing() return T.listing(dir) end

local function tone(n, seed)
  local b = ps.Buffer(n, 2)
  for i = 1, #b do b[i] = (((i + seed) * 7919) % 65536 - 32768) / 65536 end
  return b
end

local old = tone(4800, 1)
local new = tone(9600, 2)
local function reset_old()
  assert(ps.save(P("take.wav"), old, 48000))
  return read(P("take.wav"))
end

local s <close> = ps.DuplexStream{ device = "loopback" }
local delay = s:roundtrip_frames()
local function record_new(o)
  local opts = { frames = new:frames() + delay, offset = delay, pad = -1 }
  for k, v in pairs(o) do opts[k] = v end
  return s:playrec(new, opts)
end

T.group("an existing file is refused and kept", function()
  local before = reset_old()
  local ok, err = pcall(record_new, { out = P("take.wav") })
  T.ok(not ok and tostring(err):find(P("take.wav") .. " exists; pass overwrite = true to replace it", 1, true),
    "playrec says the file exists and how to replace it", err)
  T.ok(read(P("take.wav")) == before, "the file is byte for byte as it was")
  T.eq(listing(), "take.wav", "nothing else is left in the directory")
  ok, err = pcall(s.record, s, { frames = 100, out = P("take.wav") })
  T.ok(not ok and tostring(err):find("exists; pass overwrite = true", 1, true), "record refuses too", err)
  T.ok(read(P("take.wav")) == before, "... and keeps it")
end)

T.group("overwrite = true replaces it with the new recording", function()
  reset_old()
  record_new({ out = P("take.wav"), overwrite = true })
  local got = assert(ps.load(P("take.wav")))
  T.ok(got:equals(new), "the file holds the new recording, bit-exact")
  T.eq(listing(), "take.wav", "no temporary file is left")
  local r <close> = ps.InputStream{ device = "loopback" }
  r:record{ frames = 10, out = P("fresh.wav") }
  T.eq(assert(ps.file_info(P("take.wav"))).type, assert(ps.file_info(P("fresh.wav"))).type,
    "the type comes from the final name's extension, as for a new file")
  os.remove(P("fresh.wav"))
end)

T.group("overwrite, and the start fails: the old file survives", function()
  local before = reset_old()
  local bad <close> = ps.DuplexStream{ device = "loopback", txmapping = { 1, 7 } }
  local ok, err = pcall(bad.playrec, bad, new, { out = P("take.wav"), overwrite = true })
  T.ok(not ok and tostring(err):find("txmapping names a channel", 1, true), "the start fails, saying why", err)
  T.ok(read(P("take.wav")) == before, "the old file is untouched")
  T.eq(listing(), "take.wav", "the temporary file is removed")
  T.eq(ps.stream_count(), 2, "only the two streams made here are open")
end)

T.group("a failed start without overwrite leaves no file", function()
  local bad <close> = ps.DuplexStream{ device = "loopback", txmapping = { 1, 7 } }
  local before = listing()
  local ok = pcall(bad.playrec, bad, new, { out = P("fresh.flac") })
  T.ok(not ok, "the start fails")
  T.eq(listing(), before, "no fresh.flac is left behind")
  local bad2 <close> = ps.InputStream{ device = "loopback" }
  ok = pcall(bad2.record, bad2, { frames = 10, out = P("fresh.wav"), output_file = { subtype = "vorbis" } })
  T.ok(not ok, "a format the file type cannot hold fails")
  T.eq(listing(), before, "... and leaves no file either")
end)

T.group("a recording that runs renames at the start", function()
  reset_old()
  local ino_old = uv.fs_stat(P("take.wav")).ino
  local r <close> = ps.InputStream{ device = "loopback" }
  r:record{ frames = 48000, out = P("take.wav"), overwrite = true, blocking = false }
  local st = uv.fs_stat(P("take.wav"))
  T.ok(st.ino ~= ino_old, "while it runs, the final name is already the new file")
  T.eq(listing(), "take.wav", "no temporary name is left while it runs")
  r:stop()
  r:wait()
  T.ok(assert(ps.file_info(P("take.wav"))).frames > 0, "stopped early, the final name holds the frames recorded")
end)

T.group("to_file: the stream's own file is rewritten by its next runs", function()
  os.remove(P("runs.wav"))
  local r <close> = ps.InputStream{ device = "loopback" }
  r:to_file(P("runs.wav"))
  r:record{ frames = 480 }
  local ok, err = pcall(r.record, r, { frames = 960 })
  T.ok(ok, "a second run records again", err)
  T.eq(assert(ps.file_info(P("runs.wav"))).frames, 960, "... into the same file")
  r:to_file(nil)
  os.remove(P("runs.wav"))
end)

T.group("offline chunks: refused, then replaced when asked", function()
  local before = reset_old()
  assert(ps.save(P("src.wav"), new, 48000))
  local ok, err = pcall(function()
    for _ in ps.chunks{ input = P("src.wav"), out = P("take.wav") } do end
  end)
  T.ok(not ok and tostring(err):find("exists; pass overwrite = true", 1, true), "refused", err)
  T.ok(read(P("take.wav")) == before, "kept")
  for c in ps.chunks{ input = P("src.wav"), out = P("take.wav"), overwrite = true, chunksize = 1000 } do
    c:gain(0.5)
  end
  local got = assert(ps.load(P("take.wav")))
  T.ok(got:equals(new:copy():gain(0.5)), "replaced by the processed file")
  T.eq(listing(), "src.wav take.wav", "no temporary file is left")
  os.remove(P("src.wav"))
end)

T.group("ps.save and ps.open(path, 'w') are explicit writes: they replace", function()
  reset_old()
  assert(ps.save(P("take.wav"), new, 48000))
  T.eq(assert(ps.file_info(P("take.wav"))).frames, 9600, "ps.save replaced the file")
  local f = assert(ps.open(P("take.wav"), "w", { samplerate = 48000, channels = 2 }))
  f:write(old)
  f:close()
  T.eq(assert(ps.file_info(P("take.wav"))).frames, 4800, "ps.open 'w' replaced it")
end)

T.group("character devices and FIFOs are not existing files", function()
  local r <close> = ps.InputStream{ device = "loopback" }
  local ok, err = pcall(r.record, r, { frames = 480, out = "/dev/null" })
  T.ok(ok, "/dev/null is written without overwrite", err)
  assert(os.execute("mkfifo " .. P("fifo.au")))
  -- a reader on the other end, so that opening the FIFO does not block
  assert(os.execute(string.format("(cat %s > %s) & ", P("fifo.au"), P("from-fifo.au"))))
  ok, err = pcall(r.record, r, { frames = 480, out = P("fifo.au") })
  T.ok(ok, "a FIFO is written without overwrite", err)
  local got
  for _ = 1, 100 do
    got = ps.file_info(P("from-fifo.au"))
    if got and got.frames == 480 then break end
    ps.sleep(0.05)
  end
  T.eq(got and got.frames, 480, "what went through the FIFO is the whole recording")
  T.eq(uv.fs_stat(P("fifo.au")).type, "fifo", "the FIFO is still a FIFO")
end)

T.rmtree(dir)
T.done()
