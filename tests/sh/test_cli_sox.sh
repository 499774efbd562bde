# sox habits (issue 18, point 8): -i/--info like soxi (several files, and a
# pipe), -v/--volume (scaled in the C disk path, clipping counted), the -V
# levels, and the `pastream rec` / `pastream play` shorthands.
. tests/sh/tap.sh
cli_setup   # PS, PL and $tmp (tests/sh/tap.sh)

cat >"$tmp/mk.lua" <<'LUA'
local ps = require "pastream"
local b = ps.Buffer(24000, 2)
for f = 1, 24000 do b:sample(f, 1, 0.25); b:sample(f, 2, -0.5) end
assert(ps.save(arg[1], b, 48000))
LUA
$PL "$tmp/mk.lua" "$tmp/a.wav"
$PL "$tmp/mk.lua" "$tmp/b.flac"

# ---- -i/--info ------------------------------------------------------------

out=$($PS -i "$tmp/a.wav" "$tmp/b.flac" 2>"$tmp/e"); rc=$?
check_eq "-i two files: exit 0" "$rc" 0
check "-i: the file" contains "$out" "File        : $tmp/a.wav"
check "-i: type and encoding" contains "$out" "Type        : flac (pcm_24)"
check "-i: rate" contains "$out" "Sample rate : 48000 Hz"
check "-i: channels" contains "$out" "Channels    : 2"
check "-i: frames" contains "$out" "Frames      : 24000"
check "-i: duration" contains "$out" "Duration    : 00:00.5 (0.500 s)"
check "-i: size" contains "$out" "Size        : $($PL -e "io.write(require('pastream.cli').size_text($(wc -c <"$tmp/a.wav")))") ($(wc -c <"$tmp/a.wav" | tr -d ' ') bytes)"
check_eq "-i: both files, a blank line between" "$(printf '%s\n' "$out" | grep -c '^File')" 2
out=$(cat "$tmp/a.wav" | $PS --info - 2>&1); rc=$?
check_eq "--info - (a pipe): exit 0" "$rc" 0
check "--info -: standard input" contains "$out" "File        : - (standard input)"
check "--info -: its channels" contains "$out" "Channels    : 2"
$PS -i "$tmp/a.wav" "$tmp/none.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "-i with a missing file: exit 1" "$rc" 1
check "... the good one is still shown" grep -q "^File        : $tmp/a.wav" "$tmp/o"
check "... the missing one named" grep -q "^pastream: .*none.wav" "$tmp/e"
$PS -i >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "-i with no file: exit 2" "$rc" 2

# ---- rec and play ------------------------------------------------------------

$PS rec -D loopback -d 0.1 "$tmp/r.wav" 2>"$tmp/e"; rc=$?
check_eq "pastream rec FILE: exit 0" "$rc" 0
check "pastream rec FILE: records into FILE" grep -q "^pastream: wrote $tmp/r.wav: .* 4800 frames" "$tmp/e"
$PS play -D loopback "$tmp/a.wav" 2>"$tmp/e"; rc=$?
check_eq "pastream play FILE: exit 0" "$rc" 0
check "pastream play FILE: plays it" grep -q '^pastream: 24000 frames' "$tmp/e"
check "... and records nothing" sh -c "! grep -q wrote '$tmp/e'"
$PS play "$tmp/a.wav" "$tmp/b.flac" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "pastream play with two files: exit 2" "$rc" 2
check "... says it takes one" grep -q "^pastream: pastream play takes one file (got 2)$" "$tmp/e"
check "the help documents rec and play" contains "$($PS -h)" "pastream rec FILE"

# ---- -V levels -----------------------------------------------------------------

$PS -V0 -D nosuch null "$tmp/x.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "-V0 with an error: exit 2" "$rc" 2
check_eq "-V0: silent, even for errors" "$(cat "$tmp/e")" ""
$PS -V1 -D nosuch null "$tmp/x.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check "-V1: errors" grep -q "^pastream: -D/--device: no" "$tmp/e"
$PS -V1 -D loopback -d 0.1 null "$tmp/x.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "-V1: no summary" "$(cat "$tmp/e")" ""
$PS -V2 -D loopback -d 0.1 -y null "$tmp/x.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check "-V2 (the default): the summary" grep -q "^pastream: 4800 frames" "$tmp/e"
check "-V2: no details" sh -c "! grep -q '^pastream: device:' '$tmp/e'"
$PS -V3 -D loopback -d 0.1 -y "$tmp/a.wav" "$tmp/x.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check "-V3: the header line, even without a terminal" grep -q "^pastream: $tmp/a.wav -> 'loopback'" "$tmp/e"
check "-V3: the device's negotiated details" grep -q "^pastream: device: DuplexStream; latency .* (PortAudio's figure); blocksize 0 (the host's choice); ring buffer 65536 frames$" "$tmp/e"
check "-V3: the input file's format" grep -q "^pastream: input: wav float, 2 ch, 48000 Hz, 24000 frames$" "$tmp/e"
check "-V3: the output's" grep -q "^pastream: output: wav" "$tmp/e"
$PS -V7 null "$tmp/x.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "-V7: exit 2" "$rc" 2

# ---- -v/--volume: in the C disk path, clipping counted ----------------------

cat >"$tmp/loud.lua" <<'LUA'
local ps = require "pastream"
local b = ps.Buffer(24000, 2)
for f = 1, 24000 do b:sample(f, 1, f % 100 == 0 and 0.75 or 0.25); b:sample(f, 2, -0.125) end
assert(ps.save(arg[1], b, 48000))
LUA
$PL "$tmp/loud.lua" "$tmp/loud.wav"
cat >"$tmp/scaled.lua" <<'LUA'
-- scaled.lua IN OUT GAIN: "exact" when OUT is IN scaled by GAIN and clipped to [-1, 1]
local ps = require "pastream"
local a, b, g = assert(ps.load(arg[1])), assert(ps.load(arg[2])), tonumber(arg[3])
if a:frames() ~= b:frames() then print("frames " .. b:frames()) return end
for f = 1, a:frames() do
  for c = 1, 2 do
    local want = math.max(-1, math.min(1, a:sample(f, c) * g))
    if b:sample(f, c) ~= want then print(string.format("frame %d ch %d: %g, want %g", f, c, b:sample(f, c), want)) return end
  end
end
print("exact")
LUA
vol_run() {
  rm -f "$tmp/v.wav"
  $PS -D loopback --align -v "$1" "$tmp/loud.wav" "$tmp/v.wav" 2>"$tmp/e"; rc=$?
  got=$($PL "$tmp/scaled.lua" "$tmp/loud.wav" "$tmp/v.wav" "$2")
  [ "$rc" = 0 ] && [ "$got" = exact ] && rig_ok=1
  case $got in frame*) rig_fault=1 ;; esac
}
vol_half() { vol_run 0.5 0.5; }
if through_rig 3 vol_half; then ok "-v 0.5: the recording is the input at half, bit-exact"
else fail "-v 0.5: the recording is the input at half, bit-exact" "exit $rc: $got"; fi
check "-v 0.5: the summary says nothing clipped" grep -q "volume 0.5 (-6.0 dB): nothing clipped" "$tmp/e"
vol_four() { vol_run 4 4; }
if through_rig 3 vol_four; then ok "-v 4: scaled and clipped at full scale, bit-exact"
else fail "-v 4: scaled and clipped at full scale, bit-exact" "exit $rc: $got"; fi
check "-v 4: the summary counts the clipped samples (240 peaks of 0.75)" grep -q "volume 4 (+12.0 dB): CLIPPED 240 samples" "$tmp/e"
out=$($PL -e 'local c = require("pastream.cli") print(c.volume("2"), string.format("%.4f", c.volume("-6dB")), pcall(c.volume, "-2"))')
check "-v takes a factor or decibels, not a negative factor" contains "$out" "2	0.5012	false"
$PS -D loopback -v 0.5 null "$tmp/x.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "-v with nothing to play: exit 2" "$rc" 2

echo "# $tap_n checks"
