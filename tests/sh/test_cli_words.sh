# Durations and padding in the CLI's words (issue 18, point 4), and help
# when there is no device (point 7).
. tests/sh/tap.sh
cli_setup   # PS, PL and $tmp (tests/sh/tap.sh)

cat >"$tmp/mk.lua" <<'LUA'
local ps = require "pastream"
local b = ps.Buffer(48000, 2)
for i = 1, #b do b[i] = 0.25 end
assert(ps.save(arg[1], b, 48000))
LUA
$PL "$tmp/mk.lua" "$tmp/1s.wav"

# ---- -d longer than the input: silence to -d, as sox does -----------------

$PS -D loopback -d 2 "$tmp/1s.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "-d 2 on a 1 s file: exit 0" "$rc" 0
check "... plays 2 s: the file, then silence" grep -q '^pastream: 96000 frames (2.000 s' "$tmp/e"
check "... no Lua words (pad = -1)" sh -c "! grep -q 'pad = \|BufferEmpty' '$tmp/e'"
$PS -D loopback -d 2 -o 0 "$tmp/1s.wav" "$tmp/rec.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "-d 2 on a 1 s file, recording too: exit 0" "$rc" 0
cat >"$tmp/tail.lua" <<'LUA'
local b = assert(require("pastream").load(arg[1]))
-- the last half second is silence; the first half second is the file
local n = b:frames()
print(n, b:sample(24000, 1), b:sample(n, 1))
LUA
check_eq "... the recording is 2 s: the file, then silence" "$($PL "$tmp/tail.lua" "$tmp/rec.wav")" "$(printf '96000\t0.25\t0.0')"
$PS -D loopback -n 96000 "$tmp/1s.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check "-n 96000 too" grep -q '^pastream: 96000 frames' "$tmp/e"
$PS -D loopback -d 2 -p 0 "$tmp/1s.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "-d 2 -p 0: the input may not be padded: exit 1" "$rc" 1
check "... says so with the CLI's options" \
  grep -q "^pastream: the input ended after 48000 of the 96000 frames asked for with -d/-n (-p pads it with silence)$" "$tmp/e"
check "... in no Lua words" sh -c "! grep -q 'pad = \|BufferEmpty' '$tmp/e'"
out=$($PL -e 'print(require("pastream.cli").cli_words("BufferFull: the receive buffer overflowed after 100 frames (90 recorded; the reader fell behind)"))')
check "BufferFull in CLI words names --buffersize" contains "$out" "the recording could not keep up: its buffer overflowed after 100 frames (90 recorded; a disk or pipe too slow? a larger --buffersize"
out=$($PL -e 'print(require("pastream.cli").cli_words("BufferEmpty: the playback source ran dry after 7 frames (its producer fell behind)"))')
check "a source that ran dry in CLI words" contains "$out" "the input could not keep up: playback ran dry after 7 frames"

# ---- a run with no end says so on its first line -------------------------

script -qfec "timeout -s INT 1 $PS -D loopback null $tmp/forever.wav" /dev/null >"$tmp/tty" 2>&1
first=$(tr '\r' '\n' <"$tmp/tty" | sed -n 1p)
check "recording with no -d: the first line says 'recording until Ctrl-C'" contains "$first" "; recording until Ctrl-C"
check "... and so does the status line" sh -c "tr '\r' '\n' <'$tmp/tty' | grep -q '^00:0[0-9].[0-9] until Ctrl-C rec'"
script -qfec "timeout -s INT 1 $PS -D loopback -p $tmp/1s.wav $tmp/forever2.wav" /dev/null >"$tmp/tty" 2>&1
first=$(tr '\r' '\n' <"$tmp/tty" | sed -n 1p)
check "-p without -d while recording: 'recording until Ctrl-C'" contains "$first" "; recording until Ctrl-C"
script -qfec "$PS -D loopback -d 0.5 null $tmp/half.wav" /dev/null >"$tmp/tty" 2>&1
first=$(tr '\r' '\n' <"$tmp/tty" | sed -n 1p)
check "-d 0.5: no 'until Ctrl-C'" sh -c "! printf '%s' '$first' | grep -q 'until Ctrl-C'"

# ---- no devices: -l says what to check; -D is blamed only when given -----

export JACK_NO_START_SERVER=1
out=$(JACK_DEFAULT_SERVER=no-such-server-$$ $PS -l 2>&1); rc=$?
check_eq "-l with no devices: exit 0" "$rc" 0
check "-l with no devices: says PortAudio found none" contains "$out" "PortAudio found no audio device. Things to check:"
check "... an audio server, and JACK_DEFAULT_SERVER's value" contains "$out" "JACK_DEFAULT_SERVER must name a"
check "... which names this one" contains "$out" "it is 'no-such-server-$$' here"
check "... permissions" contains "$out" "may this user open the sound devices?"
JACK_DEFAULT_SERVER=no-such-server-$$ $PS null "$tmp/x.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "no default device, no -D: exit 2" "$rc" 2
first=$(head -n 1 "$tmp/e")
check "... not blamed on -D, which was not given" sh -c "! printf '%s' '$first' | grep -q -- '-D/--device'"
check "... says there is no default input device, and where to look" \
  contains "$first" "pastream: there is no default input device (PortAudio found no audio device: pastream -l says what to check)"
JACK_DEFAULT_SERVER=no-such-server-$$ $PS -D loopback null "$tmp/x.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check "with -D: blamed on -D, with the hint" \
  grep -q "^pastream: -D/--device: no input device matches 'loopback' (PortAudio found no audio device: pastream -l says what to check)$" "$tmp/e"

echo "# $tap_n checks"
