# A process hook (issue 18, point 9): --process SCRIPT.lua runs a user
# chunk function on the audio between file and device (or device and
# file).  The shipped example, scripts/hooks/highpass.lua (a biquad
# high-pass), played through the rig equals the same filter applied
# offline, bit for bit.
. tests/sh/tap.sh
PS=scripts/pastream
PL=${PASTREAM_LUA:-./pastream-lua}
HOOK=scripts/hooks/highpass.lua
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

$PL tests/sh/noise.lua 0.4 "$tmp/in.wav"
# offline.lua IN HOOK OUT: the hook applied to IN in its own chunk size
cat >"$tmp/offline.lua" <<'LUA'
local ps = require "pastream"
local a = assert(ps.load(arg[1]))
local fn, size = assert(loadfile(arg[2]))({ samplerate = 48000, channels = a:channels(), side = "play" })
size = size or 1024
local out = ps.Buffer(a:frames(), a:channels())
for first = 1, a:frames(), size do
  local last = math.min(first + size - 1, a:frames())
  local chunk = a:sub(first, last):copy()
  fn(chunk)
  out:copyfrom(chunk, first, 1, last - first + 1)
end
assert(ps.save(arg[3], out, 48000))
LUA
HIGHPASS_HZ=200 $PL "$tmp/offline.lua" "$tmp/in.wav" "$HOOK" "$tmp/want.wav"
check "the offline filter changes the signal (a real high-pass)" \
  sh -c "[ \"\$($PL tests/sh/same.lua '$tmp/in.wav' '$tmp/want.wav')\" != same ]"

hook_run() {
  rm -f "$tmp/out.wav"
  HIGHPASS_HZ=200 $PS -D loopback --align --process "$HOOK" "$tmp/in.wav" "$tmp/out.wav" 2>"$tmp/e"; rc=$?
  got=$($PL tests/sh/same.lua "$tmp/want.wav" "$tmp/out.wav")
  [ "$rc" = 0 ] && [ "$got" = same ] && rig_ok=1
  case $got in differ*) rig_fault=1 ;; esac
}
if through_rig 3 hook_run; then ok "--process highpass.lua through the rig = the same filter offline, bit-exact"
else fail "--process highpass.lua through the rig = the same filter offline, bit-exact" "exit $rc: $got; $(head -n 2 "$tmp/e")"; fi

# the recording side: device -> hook -> file, in the hook's chunks
cat >"$tmp/half.lua" <<'LUA'
local info = ...
assert(info.side == "rec" and info.channels == 2 and info.samplerate == 48000)
return function(chunk)
  for f = 1, chunk:frames() do chunk:sample(f, 1, 0.5) chunk:sample(f, 2, -0.25) end
end, 700
LUA
$PS -D loopback -n 5000 --process "$tmp/half.lua" null "$tmp/rec.wav" 2>"$tmp/e"; rc=$?
check_eq "--process when only recording: exit 0" "$rc" 0
cat >"$tmp/all.lua" <<'LUA'
local b = assert(require("pastream").load(arg[1]))
local ok = true
for f = 1, b:frames() do if b:sample(f, 1) ~= 0.5 or b:sample(f, 2) ~= -0.25 then ok = false break end end
print(b:frames(), ok)
LUA
check_eq "... every frame went through the hook (7 chunks of 700 and the rest)" "$($PL "$tmp/all.lua" "$tmp/rec.wav")" "$(printf '5000\ttrue')"

# a hook recording over an existing file (-y) follows pastream.output's
# policy: the file is replaced only at a good end; a hook that fails in
# the middle of the run leaves the old file as it was
cat >"$tmp/late.lua" <<'LUA'
local n = 0
return function(chunk)
  n = n + 1
  if n == 4 then error("the hook gives up") end
end, 700
LUA
cp "$tmp/in.wav" "$tmp/keep.wav"
$PS -D loopback -n 5000 -y --process "$tmp/late.lua" null "$tmp/keep.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "a hook failing while recording over a file with -y: exit 1" "$rc" 1
check "... with its message" grep -q "the hook gives up" "$tmp/e"
check_eq "... the old file is left as it was" "$($PL tests/sh/same.lua "$tmp/in.wav" "$tmp/keep.wav")" same
check_eq "... and no temporary file is left beside it" "$(ls -a "$tmp" | grep -c partial)" 0
$PS -D loopback -n 5000 -y --process "$tmp/half.lua" null "$tmp/keep.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "a hook recording over a file with -y: exit 0" "$rc" 0
check_eq "... replaces it with the recording" "$($PL "$tmp/all.lua" "$tmp/keep.wav")" "$(printf '5000\ttrue')"

# bad hooks: a usage error before anything plays
echo 'return 42' >"$tmp/bad.lua"
$PS -D loopback --process "$tmp/bad.lua" "$tmp/in.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "a hook that returns no function: exit 2" "$rc" 2
check "... says what it must return" grep -q "^pastream: --process: .*bad.lua returned number; it must return a function(chunk)$" "$tmp/e"
$PS -D loopback --process "$tmp/none.lua" "$tmp/in.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "a missing hook: exit 2" "$rc" 2
check "... named" grep -q "^pastream: --process: .*none.lua" "$tmp/e"
echo 'error("no filter today")' >"$tmp/boom.lua"
$PS -D loopback --process "$tmp/boom.lua" "$tmp/in.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "a hook that fails while loading: exit 2" "$rc" 2
check "... with its message" grep -q "no filter today" "$tmp/e"
check "the help documents --process and the example" contains "$($PS -h)" "scripts/hooks/highpass.lua"

# live (issue 17, point 10): null null with --process runs device -> hook ->
# device through s:process.  The hook is its own signal generator: it
# plays a known signal on channel 1 and half of what it receives on
# channel 1 on channel 2, and keeps what it receives.  Channel 2 must
# come back as half of channel 1 delayed by exactly the through latency
# the summary states, every sample.
cat >"$tmp/live.lua" <<'LUA'
local info = ...
assert(info.side == "live" and info.channels == 2, "side " .. tostring(info.side))
local ps = require "pastream"
local n = tonumber(os.getenv("LIVE_FRAMES"))
local rec, at, saved = ps.Buffer(n, 2), 0, false
return function(chunk)
  for j = 1, chunk:frames() do
    local f = at + j
    local x = chunk:sample(j, 1)
    if f <= n then rec:sample(f, 1, x) rec:sample(f, 2, chunk:sample(j, 2)) end
    chunk:sample(j, 2, 0.5 * x)
    chunk:sample(j, 1, ((f * 7919) % 65521 + 1) / 131072)     -- never 0, exact in float32
  end
  at = at + chunk:frames()
  if at >= n and not saved then saved = true assert(ps.save(os.getenv("LIVE_OUT"), rec, info.samplerate)) end
end, 256
LUA
cat >"$tmp/livecheck.lua" <<'LUA'
local ps = require "pastream"
local b, L = assert(ps.load(arg[1])), assert(math.tointeger(tonumber(arg[2])))
local bad, heard = 0, 0
for t = L + 1, b:frames() do
  if b:sample(t, 1) ~= 0 then heard = heard + 1 end
  if b:sample(t, 2) ~= 0.5 * b:sample(t - L, 1) then bad = bad + 1 end
end
print(heard > 0 and bad == 0 and "same" or string.format("%d frames differ, %d heard", bad, heard))
LUA
live_run() {
  rm -f "$tmp/live.wav"
  LIVE_FRAMES=24000 LIVE_OUT="$tmp/live.wav" $PS -D loopback -n 24000 --process "$tmp/live.lua" null null 2>"$tmp/e"; rc=$?
  lat=$(sed -n 's/.*through latency \([0-9]*\) frames.*/\1/p' "$tmp/e")
  late=$(sed -n 's/.*through latency .*, \([0-9]*\) late.*/\1/p' "$tmp/e")
  got=$($PL "$tmp/livecheck.lua" "$tmp/live.wav" "${lat:-0}" 2>&1)
  [ "$rc" = 0 ] && [ "$got" = same ] && rig_ok=1
  # frames the machine's stalls made late play as silence (counted): run it again
  [ "${late:-0}" -gt 0 ] && rig_fault=1
}
if through_rig 3 live_run; then ok "live --process null null: channel 2 = half of channel 1, exactly the stated latency later"
else fail "live --process null null: channel 2 = half of channel 1, exactly the stated latency later" "exit $rc: $got; $(tail -n 3 "$tmp/e")"; fi
check "... the summary states the latency as round trip + chunk (256) + margin" grep -Eq "through latency [0-9]+ frames \([0-9.]+ ms: round trip [0-9]+ \+ chunk 256 \+ margin [0-9]+\), [0-9]+ late" "$tmp/e"
$PS -D loopback -n 1000 null null 2>"$tmp/e"; rc=$?
check_eq "null null without --process: still nothing to do (exit 2)" "$rc" 2

echo "# $tap_n checks"
