-- The chunk loops users write (issue 17): record to a file while iterating
-- chunks (out = "file", or stream:to_file), with a slow loop body, an error
-- or a break; overlap frames that in-place processing cannot spoil.
package.path = "tests/?.lua;" .. package.path
local T = require "tap"
local ps = require "pastream"
local uv = require "luv"

local dir, path = T.tmpdir()

-- Seeded float32 noise, stereo: every sample distinct.
local function noise(n, seed)
  local b, x = ps.Buffer(n, 2), seed
  for i = 1, #b do
    x = (x * 1103515245 + 12345) % 2147483648
    b[i] = x / 2147483648 - 0.5
  end
  return b
end

local d <close> = ps.DuplexStream{ device = "loopback" }
local delay = d:roundtrip_frames()
local N = 48000

-- The file holds the played noise delayed by the round trip, bit-exact.
local function check_file(name, file, src, total)
  local got = ps.load(file)
  T.ok(got, name .. ": the file can be read")
  if not got then return end
  T.eq(got:frames(), total, name .. ": the file holds every frame of the run")
  local want = ps.Buffer(total, 2)
  want:fill(0)
  local k = math.min(src:frames(), total - delay)
  if k > 0 then want:copyfrom(src, delay + 1, 1, k) end
  T.ok(got:equals(want), name .. ": and they are the played ones, bit-exact")
end

T.group("chunks{out = FILE} with a slow loop body", function()
  local src = noise(N, 1)
  local n = 0
  for chunk in d:chunks{ chunksize = 4800, frames = N + delay, playback = src, pad = -1, out = path("slow.wav") } do
    n = n + 1
    ps.sleep(0.12)                 -- slower than the audio: 4800 frames are 0.1 s
  end
  check_file("a loop that sleeps in its body", path("slow.wav"), src, N + delay)
  T.ok(n >= 10, "the loop saw every chunk (" .. n .. ")")
end)

T.group("stream:to_file applies to chunk runs", function()
  local src = noise(N // 2, 2)
  d:to_file(path("tofile.wav"))
  for _ in d:chunks{ chunksize = 1024, frames = N // 2 + delay, playback = src, pad = -1 } do end
  d:to_file(nil)
  check_file("to_file, then chunks", path("tofile.wav"), src, N // 2 + delay)
end)

T.group("an error at chunk 10 leaves a complete file up to the stop", function()
  local src = noise(N, 3)
  local n = 0
  local ok, err = pcall(function()
    for _ in d:chunks{ chunksize = 1024, frames = N + delay, playback = src, pad = -1, out = path("err.wav") } do
      n = n + 1
      if n == 10 then error("the body broke") end
    end
  end)
  T.ok(not ok and tostring(err):find("the body broke", 1, true), "the body's error comes through", err)
  local got = ps.load(path("err.wav"))
  T.ok(got and got:frames() >= 10 * 1024, "the file has at least the 10 chunks the loop saw ("
       .. (got and got:frames() or "none") .. ")")
  if got then
    local want = ps.Buffer(got:frames(), 2)
    want:fill(0)
    local k = math.min(src:frames(), got:frames() - delay)
    if k > 0 then want:copyfrom(src, delay + 1, 1, k) end
    T.ok(got:equals(want), "every frame in it is the played one, bit-exact, up to the stop")
  end
  T.ok(d.stopped, "the stream is stopped")
end)

T.group("break finishes the file", function()
  local src = noise(N, 4)
  for chunk in ps.chunks{ device = "loopback", chunksize = 1024, frames = N, playback = src,
                          out = path("brk.wav") } do
    break
  end
  local got = ps.load(path("brk.wav"))
  T.ok(got and got:frames() > 0, "the file is there with what was recorded (" .. (got and got:frames() or "none") .. ")")
  T.eq(ps.stream_count(), 1, "ps.chunks closed its own stream")
end)

T.group("an existing out file is refused without overwrite", function()
  assert(ps.save(path("exists.wav"), noise(10, 5), 48000))
  local before = T.read(path("exists.wav"))
  T.raises(function() for _ in d:chunks{ frames = 1024, out = path("exists.wav") } do end end,
    "exists", "chunks{out = existing} is refused")
  T.ok(T.read(path("exists.wav")) == before, "and the file is untouched")
end)

-- 2. The overlap of chunk k+1 is the received audio, whatever the body did.
T.group("overlap that in-place processing cannot spoil", function()
  local n, chunksize, overlap = 16384, 1024, 512
  local src = ps.Buffer(n, 2)
  for i = 1, #src do src[i] = i end             -- a ramp: every sample distinct
  local got = ps.Buffer(n + delay, 2)
  local pos, k, bad = 0, 0, nil
  for chunk in d:chunks{ chunksize = chunksize, overlap = overlap, frames = n + delay, playback = src, pad = -1 } do
    k = k + 1
    -- the chunk's frames are the received ones: check the overlap
    local start = (k - 1) * (chunksize - overlap)      -- first frame of this chunk, 0-based
    for f = 1, chunk:frames() do
      local t = start + f - 1 - delay                  -- the played frame it carries
      local want = (t >= 0 and t < n) and src:sample(t + 1, 1) or 0
      if chunk:sample(f, 1) ~= want and not bad then
        bad = string.format("chunk %d frame %d: %s, want %s", k, f, chunk:sample(f, 1), want)
      end
    end
    chunk:fill(0)                                      -- the body overwrites every sample
  end
  T.ok(k > 10, "the loop ran (" .. k .. " chunks)")
  T.ok(not bad, "every chunk, overlap included, is the received audio", bad)
end)

T.group("offline: the overlap is the file's audio too", function()
  local n = 8192
  local src = ps.Buffer(n, 1)
  for i = 1, n do src[i] = i end
  assert(ps.save(path("ramp.wav"), src, 48000))
  local k, bad = 0, nil
  for chunk in ps.chunks{ input = path("ramp.wav"), chunksize = 1024, overlap = 256 } do
    k = k + 1
    local start = (k - 1) * 768
    for f = 1, chunk:frames() do
      if chunk:sample(f, 1) ~= start + f and not bad then
        bad = string.format("chunk %d frame %d: %s, want %d", k, f, chunk:sample(f, 1), start + f)
      end
    end
    chunk:fill(0)
  end
  T.ok(not bad, "every offline chunk, overlap included, is the file's audio", bad)
end)

for _, f in ipairs { "slow.wav", "tofile.wav", "err.wav", "brk.wav", "exists.wav", "ramp.wav" } do os.remove(path(f)) end
T.eq(T.listing(dir), "", "no file is left behind")
uv.fs_rmdir(dir)
T.done()
