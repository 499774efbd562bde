-- loopback-check.lua: play pseudorandom audio and verify the recording bit-for-bit
local ps = require "pastream"
local recipe = require "pastream.recipe"
require "pastream.roundtrip"

local opt = recipe.parse(arg, {
  usage = "loopback-check.lua [-D DEVICE] [-d SECONDS] [-c CH] [-s SEED]",
  about = "Play seeded pseudorandom float32 audio through a duplex stream whose output is\n"
       .. "connected to its input, find the delay, and check every frame that comes back.\n"
       .. "Exits 1 if any frame was lost or changed (a bit-exact path is needed: a loopback\n"
       .. "device, or a digital loop).",
  { "D", "device", "DEVICE", "device: index or name (default: the system's)", "device" },
  { "d", "duration", "SECONDS", "how much audio to check (default 2)", "seconds", 2 },
  { "c", "channels", "CH", "channels (default 2)", "integer", 2 },
  { "s", "seed", "SEED", "the pseudorandom seed (default 1)", "integer", 1 },
})

recipe.main(arg, function()
  local s <close> = ps.DuplexStream{ device = opt.device, channels = opt.channels }
  local rate, ch = math.floor(s.samplerate), opt.channels
  local n = ps.frames(opt.duration, rate)
  math.randomseed(opt.seed)
  local samples = {}
  for i = 1, n * ch do samples[i] = math.random() - 0.5 end
  local tx = ps.Buffer(samples, ch)                       -- float32
  -- the recording runs past the end by the round trip as measured (a short
  -- burst, s:measure_roundtrip), not as PortAudio reports it: a period or
  -- more short on ALSA and netjack2, 2^33 frames on PipeWire's JACK library
  local rt, why = s:measure_roundtrip()
  if not rt then
    print("loopback-check: the round trip could not be measured (is the output connected to the input?): " .. why)
    recipe.exit(1)
  end
  local margin = math.max(rate // 2, 4 * rt)
  local rec = s:playrec(tx, { frames = n + margin, pad = -1 })

  local t, r = tx:totable(), rec:totable()
  local function key(tbl, f) return string.pack("<" .. string.rep("f", ch), table.unpack(tbl, (f - 1) * ch + 1, f * ch)) end
  local function same(f, g)                               -- tx frame f == rec frame g
    for c = 1, ch do if t[(f - 1) * ch + c] ~= r[(g - 1) * ch + c] then return false end end
    return true
  end
  local where = {}                                        -- a played frame's value -> its number
  for f = n, 1, -1 do where[key(t, f)] = f end

  -- Walk the recording: each frame should be the next played one.
  local nrec = rec:frames()
  local expect, delay, lost, changed, jumps = 1, nil, 0, 0, 0
  for g = 1, nrec do
    if expect > n then break end
    if same(expect, g) then
      delay = delay or g - expect
      expect = expect + 1
    else
      local f = where[key(r, g)]
      if f and f > expect then                            -- frames went missing
        delay = delay or g - f
        lost, jumps, expect = lost + (f - expect), jumps + 1, f + 1
      elseif delay then                                   -- not what was played
        changed, expect = changed + 1, expect + 1
      end
    end
  end
  if not delay then
    print(string.format("loopback-check: none of the %d frames played came back (is the output connected to the input?)", n))
    recipe.exit(1)
  end
  lost = lost + (n - expect + 1)                          -- never arrived
  print(string.format("loopback-check: %d frames of %d channels played at %d Hz, delay %d frames (%.2f ms)",
    n, ch, rate, delay, delay * 1000 / rate))
  print(string.format("loopback-check: %d bit-exact, %d lost (%d gaps), %d changed; xruns %d: %s",
    n - lost - changed, lost, jumps, changed, s.xruns, (lost + changed == 0) and "PASS" or "FAIL"))
  if lost + changed > 0 then recipe.exit(1) end
end)
