# The bundled command line, as processes on the test rig (tests/run.sh has
# set JACK_DEFAULT_SERVER): help, device list, version, usage errors and
# their exit statuses, runs through the loopback device with files and
# pipes, signals, the status line in a pseudo-terminal, and xruns.  Some
# runs give cli.main a Buffer or a Lua function in place of a file (its env
# argument), to check maps and frame counts on the exact samples.
. tests/sh/tap.sh
PS=scripts/pastream
PL=${PASTREAM_LUA:-./pastream-lua}
top=$(pwd)
tmp=$(mktemp -d)
xrig=
cleanup() {
  [ -n "$xrig" ] && scripts/jackrig.sh stop --name "$xrig" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---- help, version, devices -------------------------------------------------

out=$($PS -h 2>"$tmp/e"); rc=$?
check_eq "-h exits 0" "$rc" 0
check "-h starts with the usage" contains "$out" "usage: pastream [options] input|NULL [output|NULL]"
check_eq "-h writes nothing on stderr" "$(cat "$tmp/e")" ""
for opt in --help --list --quiet --version --buffersize --duration --offset --frames --pad \
           --loop --fatal-xruns --blocksize --channels --device --format --rate --map \
           --file-type --encoding --endian @FILE; do
  check "-h mentions $opt" contains "$out" "$opt"
done
check_eq "--help says the same as -h" "$($PS --help)" "$out"
check_eq "-h is cli.help()" "$out" "$($PL -e 'io.write(require("pastream.cli").help())')"

out=$($PS --version); rc=$?
check_eq "--version exits 0" "$rc" 0
check "--version names pastream and its version" contains "$out" "pastream $($PL -e 'io.write(require("pastream").version)')"
check "--version names PortAudio" contains "$out" "PortAudio"

out=$($PS -l 2>"$tmp/e"); rc=$?
check_eq "-l exits 0" "$rc" 0
# The rig's devices, as PortAudio numbers them (an ALSA "jack" plugin
# device, where libasound2-plugins is installed, comes first).
lp=$($PL -e 'print(require("pastream").device("loopback").index)')
din=$($PL -e 'local ps = require "pastream" print(ps.device(nil, "input").index, ps.device(nil, "input").name)')
check "-l lists loopback" sh -c "printf '%s\n' \"\$1\" | grep -Eq '^ +$lp +loopback +2 +2 +48000$'" - "$out"
check "-l groups the devices by host API: JACK's heading, then its devices" \
  sh -c "printf '%s\n' \"\$1\" | sed -n '/^JACK Audio Connection Kit (-D jack:NAME)$/,/^[A-Z]/p' | grep -Eq '^ +$lp +loopback '" - "$out"
check "-l marks the default input and output (${din#*	})" sh -c "printf '%s\n' \"\$1\" | grep -Eq '^\* +${din%%	*} +${din#*	} '" - "$out"
check "-l explains the marks" contains "$out" "> default input, < default output, * both"
check_eq "-l writes nothing on stderr" "$(cat "$tmp/e")" ""
check_eq "--list is -l" "$($PS --list)" "$out"

# The launcher finds pastream-lua beside itself, one directory up, or on PATH.
out=$(cd "$tmp" && env -u PASTREAM_LUA "$top/$PS" --version); rc=$?
check_eq "the launcher works from another directory" "$rc" 0
ln -s "$top/$PS" "$tmp/pastream-link"
out=$(env -u PASTREAM_LUA "$tmp/pastream-link" --version 2>&1); rc=$?
check_eq "the launcher follows a symbolic link to it" "$rc" 0
mkdir "$tmp/bin"
cp $PS "$tmp/bin/pastream"
out=$(env -u PASTREAM_LUA PATH="$top:$PATH" "$tmp/bin/pastream" --version 2>&1); rc=$?
check_eq "the launcher finds pastream-lua on PATH" "$rc" 0
check "... and runs the CLI" contains "$out" "pastream "

# ---- usage errors: one line naming the option, the usage, exit 2 ------------

# usage_err NAME WANT ARGS...: exit 2, WANT in the first line, the usage after
usage_err() {
  name=$1; want=$2; shift 2
  $PS "$@" >"$tmp/o" 2>"$tmp/e"; rc=$?
  check_eq "$name: exit 2" "$rc" 2
  first=$(head -n 1 "$tmp/e")
  check "$name: says '$want'" contains "$first" "pastream: $want"
  check_eq "$name: then the usage" "$(sed -n 2p "$tmp/e")" "usage: pastream [options] input|NULL [output|NULL]"
  check_eq "$name: nothing on stdout" "$(cat "$tmp/o")" ""
  if grep -q "traceback" "$tmp/e"; then fail "$name: no traceback"; else ok "$name: no traceback"; fi
}
usage_err "unknown option" "unknown option '--bogus'" --bogus x
usage_err "unknown short option" "unknown option '-z'" -z x
usage_err "no files" "missing input" 
usage_err "both null" "nothing to do" null null
usage_err "a bad rate" "-r/--rate: '48q' is not a sample rate" -r48q null out.wav
usage_err "a bad time" "-d/--duration: '1:75': minutes and seconds must be below 60" -d 1:75 null out.wav
usage_err "a bad frame count" "-n/--frames: 'lots' is not a frame count" -n=lots null out.wav
usage_err "a bad buffersize" "--buffersize: 1000 is not a power of two (512 or 1024 would do)" --buffersize 1000 null out.wav
usage_err "a bad channel count" "-c/--channels: '0' is not a channel count" -c0 null out.wav
usage_err "a bad format" "-f/--format: 'float64' is not a sample format" -f float64 null out.wav
usage_err "a bad map" "-m/--map: 'x' is not a channel map entry" -m x null out.wav
usage_err "a bad endian" "--endian: 'middle' is not a byte order" --endian middle null out.wav
usage_err "a missing value" "-D/--device needs a value" null out.wav -D
usage_err "a missing input file" "input file '$tmp/missing.wav': No such file or directory" "$tmp/missing.wav"
: >"$tmp/x.raw"
usage_err "RAW without rate, channels, encoding" "input file '$tmp/x.raw' is RAW: give its -r/--rate, -c/--channels, -e/--encoding" "$tmp/x.raw"
usage_err "RAW without encoding" "input file '$tmp/x.raw' is RAW: give its -e/--encoding" -c1 -r48k "$tmp/x.raw"
alldev=$($PL -e 'local t = {} for _, d in ipairs(require("pastream").devices()) do if d.max_input_channels > 0 then t[#t + 1] = string.format("%d %q (%s)", d.index, d.name, d.hostapi_name):gsub("\"", "'"'"'") end end io.write(table.concat(t, ", "))')
usage_err "no such device" "-D/--device: no input device matches 'nosuch' (there are: $alldev)" -D nosuch null out.wav
usage_err "no such device index" "-D/--device: no device 9" -D 9 null out.wav
usage_err "a blank device name" "-D/--device: an empty device name" -D ' ' null out.wav
usage_err "a typo: the near device" "-D/--device: no input device matches 'loopbak' (near: $lp 'loopback' (JACK Audio Connection Kit); " -D loopbak null out.wav
usage_err "a host API PortAudio lacks" "-D/--device: 'asio:loopback': PortAudio has no host API 'asio' here" -D asio:loopback null out.wav
usage_err "too many channels" "-c/--channels: device 'loopback' has 2 input channels, 5 asked for" -D loopback -c5 null out.wav
usage_err "a map out of range" "-m/--map: device 'loopback' has 2 input channels, 3 asked for" -D loopback -m 3 null out.wav
usage_err "a map beyond -c" "-m/--map: device input 2 is out of range (-c/--channels is 1)" -D loopback -c1 -m 2 null out.wav
usage_err "a rate the device refuses" "-r/--rate: input device 'loopback' refuses 2 channels of float32 at 44100 Hz: Invalid sample rate" -D loopback -r44.1k null out.wav
usage_err "-d and -n" "-d/--duration and -n/--frames both set the length" -d 1 -n 1k null out.wav
usage_err "an offset longer than the duration" "-o/--offset (48000 frames) is longer than the duration (4800 frames)" -D loopback -d 0.1 -o 1 null out.wav
printf -- '-D nosuch\n' >"$tmp/args"
usage_err "options from an @argfile" "-D/--device: no input device matches 'nosuch'" "@$tmp/args" null out.wav
usage_err "a missing @argfile" "@$tmp/none: cannot read it" "@$tmp/none" null out.wav

# ---- runs through the loopback device ---------------------------------------

# driver.lua MODE ARGS...: cli.main(ARGS) with a pseudorandom stereo Buffer
# as the input (play, duplex), a Buffer (duplex) or a sink function
# (record) as the output; prints what came back.
cat >"$tmp/driver.lua" <<'LUA'
local ps = require "pastream"
local cli = require "pastream.cli"
local mode = arg[1]
local args = table.pack(table.unpack(arg, 2))
local n = tonumber(os.getenv("FRAMES") or "48000")
local env = {}
local src, rec
if mode == "play" or mode == "duplex" then
  src = ps.Buffer(n, tonumber(os.getenv("CHANNELS") or "2"))
  local x = 12345
  for i = 1, #src do
    x = (x * 1103515245 + 12345) % 2147483648
    src[i] = x / 2147483648 * 1.8 - 0.9
  end
  env.playback = src
end
local got, channels = 0, nil
if mode == "duplex" then
  rec = ps.Buffer(n, 2)
  env.record = rec
elseif mode == "record" then
  env.record = function(buf)
    if got == 0 then io.stdout:write("recording\n") io.stdout:flush() end
    got = got + buf:frames()
    channels = buf:channels()
  end
end
local code = cli.main(args, env)
if rec then
  local swapped = true
  for f = 1, n do
    if rec:sample(f, 1) ~= src:sample(f, 2) or rec:sample(f, 2) ~= src:sample(f, 1) then
      swapped = false
      break
    end
  end
  print(rec:equals(src) and "exact" or swapped and "swapped" or "differs")
end
if mode == "record" then print(string.format("frames %d channels %s", got, tostring(channels))) end
if code ~= 0 then error({ exit = code }, 0) end
LUA
D="$PL $tmp/driver.lua"

summary_re='^pastream: [0-9]+ frames \([0-9.]+ s at 48000 Hz\); xruns ([0-9]+ \(input underflow [0-9]+, input overflow [0-9]+, output underflow [0-9]+, output overflow [0-9]+\)|0); lost frames 0$'

# The round trip (one period; RT frames): -o RTs drops it, -p pads the end.
RT=$(rig_roundtrip)
N1=$((48000 + RT))
N1S=$(awk "BEGIN { printf \"%.3f\", $N1 / 48000 }")
out=$($D duplex in out -D loopback -n $N1 -o ${RT}s -p 2>"$tmp/e"); rc=$?
check_eq "duplex: exit 0" "$rc" 0
check_eq "duplex: the recording is the playback, bit-exact" "$out" "exact"
check_eq "duplex: the summary on stderr (not a terminal): counts, peaks, round trip" "$(wc -l <"$tmp/e" | tr -d ' ')" 3
check "duplex: the summary's format" grep -Eq "$summary_re" "$tmp/e"
check "duplex: the summary counts the frames" grep -q "^pastream: $N1 frames ($N1S s at 48000 Hz)" "$tmp/e"

out=$($D duplex in out -D jack:loopback -n $N1 -o ${RT}s -p 2>"$tmp/e"); rc=$?
check_eq "-D jack:loopback (a host API prefix): the recording is the playback, bit-exact" "$rc $out" "0 exact"
out=$($D duplex in out -D loopback -n $N1 -o ${RT}s -p -m 2,1 2>"$tmp/e"); rc=$?
check_eq "-m 2,1 on the playback swaps the channels" "$out" "swapped"
out=$($D duplex in out -D loopback -n $N1 -o ${RT}s -p -m null -m 2,1 2>"$tmp/e"); rc=$?
check_eq "a second -m maps the recording" "$out" "swapped"
out=$($D duplex in out -D loopback -n $N1 -o ${RT}s -p -m 2,1 -m 2,1 2>"$tmp/e"); rc=$?
check_eq "both maps swap: back to the original" "$out" "exact"

out=$($D duplex in out -D loopback -n $N1 -o ${RT}s -p -q 2>"$tmp/e"); rc=$?
check_eq "-q: still exact" "$out" "exact"
check_eq "-q: nothing on stderr" "$(cat "$tmp/e")" ""

# -p TIME comes after the -d/-n part of the input, as pastream's pad comes
# after its frames: the round trip as pad and offset lines it up.
out=$($D duplex in out -D loopback -n 48000 -o ${RT}s -p ${RT}s 2>"$tmp/e"); rc=$?
check_eq "-n 48000 -p RTs -o RTs: exit 0" "$rc" 0
check_eq "... the recording is the 48000 frames played, bit-exact" "$out" "exact"
check "... the run lasts both: 48000 + RT frames" grep -q "^pastream: $N1 frames" "$tmp/e"

out=$($D record null out -D loopback -d 0.5 2>"$tmp/e"); rc=$?
check_eq "record -d 0.5: exit 0" "$rc" 0
check "record -d 0.5: 24000 frames, 2 channels" contains "$out" "frames 24000 channels 2"
check "record -d 0.5: the summary" grep -q '^pastream: 24000 frames (0.500 s at 48000 Hz)' "$tmp/e"
out=$($D record null out -D loopback -n 4800 -o 480s 2>"$tmp/e")
check "-o drops frames from the recording" contains "$out" "frames 4320 channels 2"
out=$($D record null out -D loopback -n 4800 -m 2 2>"$tmp/e")
check "-m 2 when recording: one channel" contains "$out" "frames 4800 channels 1"
out=$($D record null out -D loopback -n 4800 -m 1:3 2>"$tmp/e")
check "-m 1:3 when recording: three channels" contains "$out" "frames 4800 channels 3"
out=$($D record null out -D loopback -n=4800s -c1 2>"$tmp/e")
check "-c1 when recording" contains "$out" "frames 4800 channels 1"

# A 3-channel input on a 2-channel device: -m chooses what plays where.
CHANNELS=3 FRAMES=4800 $D play in -D loopback 2>"$tmp/e"; rc=$?
check_eq "a 3-channel input on 2 outputs: exit 2" "$rc" 2
check "... says to choose with -m" grep -q "^pastream: the input has 3 channels but device 'loopback' plays 2: choose with -m/--map$" "$tmp/e"
CHANNELS=3 FRAMES=4800 $D play in -D loopback -m 3,1 2>"$tmp/e"; rc=$?
check_eq "... -m 3,1 plays input channels 3 and 1" "$rc" 0
CHANNELS=3 FRAMES=4800 $D play in -D loopback -m 4 2>"$tmp/e"; rc=$?
check_eq "... -m 4: exit 2" "$rc" 2
check "... -m 4 is out of range" grep -q "^pastream: -m/--map: input channel 4 is out of range (the input has 3)$" "$tmp/e"
CHANNELS=3 FRAMES=4800 $D play in -D loopback -m 1:3 2>"$tmp/e"; rc=$?
check "... -m 1:3 needs a third output" grep -q "^pastream: -m/--map: device 'loopback' has 2 output channels, 3 asked for$" "$tmp/e"

FRAMES=4800 $D play in -D loopback -p -d 0.2 2>"$tmp/e"; rc=$?
check_eq "play, pad out to -d: exit 0" "$rc" 0
check "play, pad out to -d: 9600 frames" grep -q '^pastream: 9600 frames' "$tmp/e"
FRAMES=4800 $D play in -D loopback -n 2400 -p 1200s 2>"$tmp/e"; rc=$?
check_eq "play -n 2400 -p 1200s: exit 0" "$rc" 0
check "... 2400 frames of the input, then 1200 of silence: 3600 frames" grep -q '^pastream: 3600 frames' "$tmp/e"
FRAMES=4800 $D play in -D loopback --loop -n 12000 2>"$tmp/e"; rc=$?
check "--loop -n 12000: 12000 frames" grep -q '^pastream: 12000 frames' "$tmp/e"
FRAMES=4800 $D play in -D loopback -d 0.2 2>"$tmp/e"; rc=$?
check_eq "play past the end without -p: padded with silence to -d, as sox does: exit 0" "$rc" 0
check "... 9600 frames" grep -q '^pastream: 9600 frames' "$tmp/e"
FRAMES=4800 $D play in -D loopback -d 0.2 -p 0 2>"$tmp/e"; rc=$?
check_eq "play past the end with -p 0: a runtime error, exit 1" "$rc" 1
check "... said in the CLI's words" grep -q '^pastream: the input ended after 4800 of the 9600 frames asked for with -d/-n (-p pads it with silence)$' "$tmp/e"
check "... and the summary" grep -q '^pastream: 4800 frames' "$tmp/e"

# ---- files ------------------------------------------------------------------

# The input: the driver's pseudorandom stereo float32, as WAV and as AU.
# info.lua F: frames, channels, subtype
cat >"$tmp/info.lua" <<'LUA'
local i = assert(require("pastream").file_info(arg[1]))
print(i.frames, i.channels, i.subtype)
LUA
$PL tests/sh/noise.lua 0.9 "$tmp/in.wav" "$tmp/in.au"

$PS -D loopback -o ${RT}s -p -n $N1 "$tmp/in.wav" "$tmp/out.wav" 2>"$tmp/e"; rc=$?
check_eq "file to file through loopback: exit 0" "$rc" 0
check_eq "file to file: the recording is the input, bit-exact" "$($PL tests/sh/same.lua "$tmp/in.wav" "$tmp/out.wav")" "same"
check "file to file: the summary" grep -q "^pastream: $N1 frames ($N1S s at 48000 Hz); xruns" "$tmp/e"

cat "$tmp/in.au" | $PS -D loopback -o ${RT}s -p -n $N1 - - 2>"$tmp/e" | cat >"$tmp/out.au"; rc=$?
check "stdin to stdout: exit 0" test -s "$tmp/out.au"
check_eq "stdin to stdout through pipes: sample by sample the same" "$($PL tests/sh/same.lua "$tmp/in.au" "$tmp/out.au")" "same"
check "stdin to stdout: the summary is on stderr" grep -q "^pastream: $N1 frames" "$tmp/e"

if command -v sox >/dev/null; then
  sox -n -t au - synth 3 sine 440 2>/dev/null | $PS -D loopback - "$tmp/sox.wav" -d 1 2>"$tmp/e"; rc=$?
  check_eq "sox | pastream - out.wav -d 1: exit 0" "$rc" 0
  check_eq "sox | pastream - out.wav -d 1: one second recorded" "$($PL "$tmp/info.lua" "$tmp/sox.wav" | cut -f1,2)" "$(printf '48000\t2')"
  sox -n -r 48000 -c 1 -b 32 -e floating-point "$tmp/mono.wav" synth 0.5 sine 440 vol 0.5 2>/dev/null
  $PS -D loopback -o ${RT}s -p -n $((24000 + RT)) "$tmp/mono.wav" "$tmp/mono2.wav" 2>"$tmp/e"; rc=$?
  check_eq "a mono file: exit 0" "$rc" 0
  cat >"$tmp/mono.lua" <<'LUA'
local ps = require "pastream"
local a, b = ps.load(arg[1]), ps.load(arg[2])
local same = a:frames() == b:frames() and b:channels() == 2
for f = 1, same and a:frames() or 0 do
  if b:sample(f, 1) ~= a:sample(f, 1) or b:sample(f, 2) ~= a:sample(f, 1) then same = false break end
end
io.write(tostring(same))
LUA
  check_eq "a mono file plays on both outputs" "$($PL "$tmp/mono.lua" "$tmp/mono.wav" "$tmp/mono2.wav")" "true"
  sox -n -r 44100 -c 2 -b 16 "$tmp/cd.wav" synth 1 sine 1000 2>/dev/null
  $PS -q -D loopback "$tmp/cd.wav" "$tmp/cd48.wav" 2>"$tmp/e"; rc=$?
  check_eq "a 44.1 kHz file plays on the 48 kHz rig (resampled): exit 0" "$rc" 0
  check "the recording of it is at 48 kHz, about a second long" \
    awk -v n="$(soxi -s "$tmp/cd48.wav" 2>/dev/null)" -v r="$(soxi -r "$tmp/cd48.wav" 2>/dev/null)" \
      'BEGIN { exit !(r == 48000 && n >= 47990 && n <= 48300) }'
  sox -n -r 48000 -c 1 -b 16 -e signed -t raw "$tmp/x16.raw" synth 0.5 sine 440 2>/dev/null
  $PS -D loopback -c1 -r48k -e=pcm_16 "$tmp/x16.raw" 2>"$tmp/e"; rc=$?
  check_eq "a RAW file with -c1 -r48k -e=pcm_16: exit 0" "$rc" 0
  check "a RAW file: all its frames played" grep -q '^pastream: 24000 frames' "$tmp/e"
else
  fail "sox is installed (the pipe and RAW tests need it)"
fi

$PS -D loopback -r48k -d 0:00.5 null "$tmp/rec.wav" 2>"$tmp/e"; rc=$?
check_eq "record -d 0:00.5 to a file: exit 0" "$rc" 0
[ "$rc" = 0 ] || sed 's/^/#   | /' "$tmp/e"
check_eq "record -d 0:00.5: 24000 frames of float in the file" "$($PL "$tmp/info.lua" "$tmp/rec.wav")" "$(printf '24000\t2\tfloat')"
$PS -D loopback -r48k -n=12k -e pcm_16 -c1 null "$tmp/rec16.wav" 2>"$tmp/e"
check_eq "record -n=12k -e pcm_16 -c1: 12000 mono pcm_16 frames" "$($PL "$tmp/info.lua" "$tmp/rec16.wav")" "$(printf '12000\t1\tpcm_16')"
$PS -D loopback -t au,wav -d 0.1 "$tmp/in.wav" "$tmp/rec.x" 2>"$tmp/e"; rc=$?
check_eq "-t with a pair: the second is the recording's type" "$rc" 0
check_eq "... a WAV file whatever its name" "$(head -c 4 "$tmp/rec.x")" "RIFF"
$PS -D loopback --loop -n 120000 "$tmp/in.wav" 2>"$tmp/e"; rc=$?
check "--loop plays a 48000-frame file for 120000 frames" grep -q '^pastream: 120000 frames' "$tmp/e"

$PS -D loopback null "$tmp/sig.wav" 2>"$tmp/e" &
pid=$!
wait_until 20 bigger "$tmp/sig.wav" 0     # recording: its file holds data
kill -INT $pid
wait $pid; rc=$?
check_eq "SIGINT while recording a file: exit 130" "$rc" 130
n=$(sed -n 's/^pastream: interrupted (SIGINT) after \([0-9]*\) frames.*/\1/p' "$tmp/e")
check "SIGINT: the file is finalized with every frame captured ($n)" test "$($PL "$tmp/info.lua" "$tmp/sig.wav" | cut -f1)" = "$n"

usage_err "an unknown file type" "-t/--file-type: unknown file type 'foo'" -D loopback -t foo "$tmp/in.wav"
usage_err "an unknown encoding" "-e/--encoding: unknown encoding 'pcm_99'" -D loopback -e pcm_99 null "$tmp/o.wav"
echo "not a sound" >"$tmp/bad.wav"
usage_err "a file that is not audio" "$tmp/bad.wav: " -D loopback "$tmp/bad.wav"
usage_err "a recording nobody can create" "output file '$tmp/none/o.wav': directory '$tmp/none' does not exist" -D loopback -d 0.1 null "$tmp/none/o.wav"
script -qec "$PS -D loopback -d 0.1 null -" /dev/null >"$tmp/tty" 2>&1; rc=$?
check_eq "recording to - on a terminal: exit 2" "$rc" 2
check "... refused" grep -q "refusing to write audio to a terminal" "$tmp/tty"

# ---- signals ---------------------------------------------------------------

for sig in INT TERM; do
  $D record null out -D loopback >"$tmp/o" 2>"$tmp/e" &
  pid=$!
  i=0; while [ $i -lt 100 ] && ! grep -q recording "$tmp/o"; do sleep 0.1; i=$((i + 1)); done
  sleep 0.3
  kill -$sig $pid
  wait $pid; rc=$?
  want=130; [ $sig = TERM ] && want=143
  check_eq "SIG$sig: exit $want" "$rc" "$want"
  [ "$rc" = "$want" ] || sed 's/^/#   | /' "$tmp/e" "$tmp/o"
  check "SIG$sig: the summary says so" grep -Eq "^pastream: interrupted \(SIG$sig\) after [0-9]+ frames" "$tmp/e"
  n=$(sed -n 's/^frames \([0-9]*\) .*/\1/p' "$tmp/o")
  check "SIG$sig: every frame the engine captured reached the sink" grep -q "after $n frames" "$tmp/e"
done

# ---- the status line in a terminal -------------------------------------------

script -qfec "$PL $tmp/driver.lua record null out -D loopback -d 1.5" /dev/null >"$tmp/tty" 2>&1; rc=$?
check_eq "in a terminal: exit 0" "$rc" 0
tty=$(tr '\r' '\n' <"$tmp/tty")
check "in a terminal: a header names the device and the output" contains "$tty" "pastream: 'loopback' (2 ch float32) -> out at 48000 Hz"
check "in a terminal: the status shows elapsed / total, each channel's meter" sh -c "printf '%s\n' \"\$1\" | grep -Eq '^[0-9]{2}:[0-9]{2}\.[0-9]/00:01\.5 \[[#-]{10}\] +[0-9]+% rec (-inf|-?[0-9.]+)/(-inf|-?[0-9.]+)dB xruns [0-9]+ cpu +[0-9]+%'" - "$tty"
check "in a terminal: the status line is refreshed" test "$(printf '%s\n' "$tty" | grep -c '/00:01.5')" -ge 3
check "in a terminal: then the summary" contains "$tty" "pastream: 72000 frames (1.500 s at 48000 Hz)"
script -qfec "$PL $tmp/driver.lua record null out -D loopback -d 0.5 -q" /dev/null >"$tmp/tty" 2>&1
check_eq "in a terminal with -q: nothing but the driver's output" "$(tr -d '\r' <"$tmp/tty")" "$(printf 'recording\nframes 24000 channels 2')"

# ---- xruns: a rig of our own, stopped for a moment ---------------------------

xrig=pastream-cli-xrun-$$
if scripts/jackrig.sh start --name "$xrig" --probe build/pa_probe >"$tmp/rig" 2>&1; then
  jpid=$(scripts/jackrig.sh status --name "$xrig" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
  # xrun_run ARGS...: record on the private rig, pause its server for 0.3 s
  xrun_run() {
    JACK_DEFAULT_SERVER=$xrig $D record null out -D loopback "$@" >"$tmp/o" 2>"$tmp/e" &
    pid=$!
    i=0; while [ $i -lt 100 ] && ! grep -q recording "$tmp/o"; do sleep 0.1; i=$((i + 1)); done
    sleep 0.3
    kill -STOP "$jpid"; sleep 0.3; kill -CONT "$jpid"
    wait $pid
  }
  xrun_run -d 2; rc=$?
  check_eq "xruns without --fatal-xruns: exit 0" "$rc" 0
  check "xruns are counted by kind in the summary" grep -Eq '^pastream: 96000 frames .*; xruns [1-9][0-9]* \(input underflow [0-9]+, input overflow [0-9]+, output underflow [0-9]+, output overflow [0-9]+\)' "$tmp/e"
  xrun_run --fatal-xruns; rc=$?
  check_eq "--fatal-xruns: the first xrun stops, exit 1" "$rc" 1
  check "--fatal-xruns: says so" grep -Eq '^pastream: XRun: .* after [0-9]+ frames \(--fatal-xruns\)$' "$tmp/e"
  check "--fatal-xruns: then the summary" grep -Eq '^pastream: [0-9]+ frames .*xruns [1-9]' "$tmp/e"
  scripts/jackrig.sh stop --name "$xrig" >/dev/null 2>&1
  xrig=
else
  fail "a private rig for the xrun tests started" "$(cat "$tmp/rig")"
fi

echo "# $tap_n checks"
