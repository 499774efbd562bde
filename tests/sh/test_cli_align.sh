# Aligned play-and-record (issue 18, point 3): --align measures the round
# trip (lua/pastream/roundtrip.lua, stream:measure_roundtrip()), drops it
# from the front of the recording and pads it at the end, so that the
# recording lines up with the playback to the frame: bit-exact on the rig,
# whatever its period.
. tests/sh/tap.sh
cli_setup   # PS, PL and $tmp (tests/sh/tap.sh)

$PL tests/sh/noise.lua 0.9 "$tmp/in.wav" "$tmp/in.au"

# ---- the measurement itself ------------------------------------------------

cat >"$tmp/measure.lua" <<'LUA'
local ps = require "pastream"
require "pastream.roundtrip"
local s <close> = ps.DuplexStream{ device = arg[1], channels = 2, blocksize = tonumber(arg[2]) or 0 }
local t0 = require("luv").hrtime()
local n, err = s:measure_roundtrip()
io.stderr:write(string.format("# measured in %.0f ms\n", (require("luv").hrtime() - t0) / 1e6))
print(tostring(n), s:roundtrip_frames(), tostring(s:measured_roundtrip()), err)
LUA
out=$($PL "$tmp/measure.lua" loopback 0)
rt=$(echo "$out" | cut -f1)
check_eq "measure_roundtrip on the rig's loopback: what PortAudio reports on JACK" "$rt" "$(echo "$out" | cut -f2)"
check_eq "... and remembered on the stream" "$(echo "$out" | cut -f3)" "$rt"
out=$($PL "$tmp/measure.lua" loopback 512)
check_eq "measure_roundtrip with blocksize 512 (one more buffer): what PortAudio reports" \
  "$(echo "$out" | cut -f1)" "$(echo "$out" | cut -f2)"
out=$($PL "$tmp/measure.lua" system 0)
check_eq "measure_roundtrip where nothing comes back: nil" "$(echo "$out" | cut -f1)" "nil"
check "... and says why" contains "$out" "no sound came back within"
check "... nothing remembered" test "$(echo "$out" | cut -f3)" = nil
out=$($PL -e 'local ps = require "pastream" require "pastream.roundtrip"
  local s <close> = ps.InputStream{ device = "loopback" }
  print(pcall(s.measure_roundtrip, s))' 2>&1)
check "measure_roundtrip on an InputStream: a clear error" contains "$out" "the round trip needs a DuplexStream"

# ---- --align -----------------------------------------------------------------

align_file() {
  rm -f "$tmp/out.wav"
  $PS -D loopback --align "$tmp/in.wav" "$tmp/out.wav" 2>"$tmp/e"; rc=$?
  got=$($PL tests/sh/same.lua "$tmp/in.wav" "$tmp/out.wav")
  [ "$rc" = 0 ] && [ "$got" = same ] && rig_ok=1
  case $got in differ*) rig_fault=1 ;; esac
}
if through_rig 3 align_file; then ok "--align in.wav out.wav: the recording is the input, bit-exact, to the frame"
else fail "--align in.wav out.wav: the recording is the input, bit-exact, to the frame" "exit $rc: $got; $(cat "$tmp/e")"; fi
check "... the summary counts the round trip played at the end" grep -q "^pastream: $((48000 + rt)) frames" "$tmp/e"

align_dur() {
  rm -f "$tmp/out.wav"
  $PS -D loopback --align -d 0.5 "$tmp/in.wav" "$tmp/out.wav" 2>"$tmp/e"; rc=$?
  got=$($PL tests/sh/same.lua "$tmp/in.wav" "$tmp/out.wav" 24000)
  [ "$rc" = 0 ] && [ "$got" = same ] && rig_ok=1
  case $got in differ*) rig_fault=1 ;; esac
}
if through_rig 3 align_dur; then ok "--align -d 0.5: the first half second, bit-exact"
else fail "--align -d 0.5: the first half second, bit-exact" "exit $rc: $got"; fi

align_pipe() {
  rm -f "$tmp/out.wav"
  $PS -D loopback --align - "$tmp/out.wav" <"$tmp/in.au" 2>"$tmp/e"; rc=$?
  got=$($PL tests/sh/same.lua "$tmp/in.au" "$tmp/out.wav")
  [ "$rc" = 0 ] && [ "$got" = same ] && rig_ok=1
  case $got in differ*) rig_fault=1 ;; esac
}
if through_rig 3 align_pipe; then ok "--align from standard input (length unknown): bit-exact"
else fail "--align from standard input (length unknown): bit-exact" "exit $rc: $got"; fi

script -qfec "$PS -D loopback --align -y $tmp/in.wav $tmp/out.wav" /dev/null >"$tmp/tty" 2>&1
first=$(tr '\r' '\n' <"$tmp/tty" | sed -n 1p)
check "--align in a terminal: the header shows the measured round trip" \
  contains "$first" "; round trip $rt frames (measured)"

$PS -D loopback --align null "$tmp/x.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "--align with nothing to play: exit 2" "$rc" 2
check "... says it needs an input and an output" grep -q "^pastream: --align lines the recording up with the playback: give an input and an output$" "$tmp/e"
$PS -D system --align "$tmp/in.wav" "$tmp/x.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "--align where nothing comes back: exit 1" "$rc" 1
check "... says so plainly" grep -q "^pastream: --align: no sound came back within .*: is the output connected to the input?$" "$tmp/e"
check "... and writes no file" test ! -e "$tmp/x.wav"

echo "# $tap_n checks"
