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

echo "# $tap_n checks"
