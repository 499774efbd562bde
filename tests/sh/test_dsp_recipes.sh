# spectrum.lua and filter.lua on files generated here with sox (no device).
. tests/sh/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
P=${PASTREAM_LUA:-./pastream-lua}
sox -n -r 48000 -c 1 "$tmp/t1k.wav" synth 1 sine 1000
sox -n -r 48000 -c 2 "$tmp/t5k.wav" synth 1 sine 5000

# spectrum: the peak of a 1 kHz tone, within one bin (48000/1024 = 47 Hz)
out=$($P scripts/spectrum.lua "$tmp/t1k.wav" --chunksize 1024 --pgm "$tmp/s.pgm" 2>&1); rc=$?
check_eq "spectrum.lua exits 0" "$rc" 0
peak=$(printf '%s\n' "$out" | sed -n 's/^peak: \([0-9.]*\) Hz.*/\1/p')
if [ -n "$peak" ] && awk -v p="$peak" 'BEGIN { exit !(p > 953 && p < 1047) }'; then ok "spectrum.lua peak $peak Hz is 1000 +- 47"
else fail "spectrum.lua peak at 1000 Hz" "got '$peak' from: $(printf '%s' "$out" | tail -2)"; fi
check "spectrum.lua prints bars" contains "$out" "dB |####"
check_eq "PGM header" "$(head -c 2 "$tmp/s.pgm")" "P5"
check "PGM size line: 1024-point FFT has 513 rows" contains "$(sed -n 2p "$tmp/s.pgm")" " 513"

# filter: a lowpass at 200 Hz takes a 5 kHz tone down by more than 20 dB (both channels)
out=$($P scripts/filter.lua "$tmp/t5k.wav" "$tmp/f.wav" --type lowpass --freq 200 2>&1); rc=$?
check_eq "filter.lua exits 0" "$rc" 0
cat >"$tmp/att.lua" <<'LUA'
local ps = require "pastream"
local a, b = assert(ps.load(arg[1])), assert(ps.load(arg[2]))
local worst = -math.huge
for c = 1, a:channels() do worst = math.max(worst, ps.dsp.to_db(b:rms(c) / a:rms(c))) end
print(string.format("%.1f", worst))
LUA
att=$($P "$tmp/att.lua" "$tmp/t5k.wav" "$tmp/f.wav" 2>&1)
if awk -v a="$att" 'BEGIN { exit !(a + 0 < -20) }'; then ok "lowpass 200 Hz: 5 kHz changed by $att dB (< -20)"
else fail "lowpass 200 Hz attenuates 5 kHz by > 20 dB" "got '$att'"; fi
check_eq "output keeps the channels" "$(soxi -c "$tmp/f.wav" 2>/dev/null)" 2
check_eq "output keeps the length" "$(soxi -s "$tmp/f.wav" 2>/dev/null)" "$(soxi -s "$tmp/t5k.wav" 2>/dev/null)"
# a highpass at 200 Hz lets 5 kHz through
$P scripts/filter.lua "$tmp/t5k.wav" "$tmp/h.wav" -t highpass -f 200 >/dev/null 2>&1
r=$(sox "$tmp/h.wav" -n stats 2>&1 | awk '/RMS lev dB/ { print $4 }')
if awk -v a="$r" 'BEGIN { exit !(a + 0 > -3.2 && a + 0 < -2.8) }'; then ok "highpass 200 Hz passes 5 kHz ($r dB RMS)"
else fail "highpass 200 Hz passes 5 kHz" "RMS '$r'"; fi

# --help, and bad arguments: non-zero with a clear message
for s in spectrum filter; do
  h=$($P scripts/$s.lua --help 2>&1); rc=$?
  check_eq "$s.lua --help exits 0" "$rc" 0
  check "$s.lua --help shows usage" contains "$h" "usage: $s.lua"
done
bad() {   # bad NAME PATTERN ARGS...: exits non-zero, stderr contains PATTERN
  name=$1; pat=$2; shift 2
  err=$($P "$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" -ne 0 ] && contains "$err" "$pat"; then ok "$name"
  else fail "$name" "rc $rc, stderr: $err"; fi
}
bad "spectrum: no file" "give either FILE or --device" scripts/spectrum.lua
bad "spectrum: odd chunksize" "even integer" scripts/spectrum.lua "$tmp/t1k.wav" -n 1001
bad "spectrum: missing file" "nope.wav" scripts/spectrum.lua "$tmp/nope.wav"
bad "spectrum: unknown option" "unknown option '--bogus'" scripts/spectrum.lua "$tmp/t1k.wav" --bogus
bad "filter: no type" "--type is required" scripts/filter.lua "$tmp/t1k.wav" "$tmp/x.wav" -f 100
bad "filter: bad type" "bad TYPE" scripts/filter.lua "$tmp/t1k.wav" "$tmp/x.wav" -t notch -f 100
bad "filter: freq above Nyquist" "below half the sample rate" scripts/filter.lua "$tmp/t1k.wav" "$tmp/x.wav" -t lowpass -f 30000
bad "filter: missing OUT" "give IN and OUT" scripts/filter.lua "$tmp/t1k.wav" -t lowpass -f 100
bad "filter: missing input file" "nope.wav" scripts/filter.lua "$tmp/nope.wav" "$tmp/x.wav" -t lowpass -f 100
# Live, on the rig: a tone played into the loopback device by one process is
# analysed by spectrum.lua listening on the same device.
# (The tone runs until the analysis is done; SIGINT then stops it.)
"$P" tone.lua -D loopback -f 1000 -d 60 >/dev/null 2>&1 &
tone_pid=$!
wait_until 30 jack_client "pastream-$tone_pid"    # its stream is open
sleep 0.2                                         # and started
live=$("$P" spectrum.lua -D loopback -d 1 2>&1); rc=$?
kill -INT $tone_pid; wait $tone_pid
check_eq "live spectrum.lua on the rig exits 0" "$rc" "0"
check "live spectrum.lua draws its bars in the terminal" contains "$live" "dB |#"
hz=$(printf '%s\n' "$live" | sed -n 's/.*peak: \([0-9.]*\) Hz.*/\1/p' | tail -1)
check "live spectrum.lua finds the 1000 Hz tone another process plays ($hz Hz)" \
  awk -v f="${hz:-0}" 'BEGIN { exit !(f > 976 && f < 1024) }'

out=$("$P" filter.lua -D loopback --type lowpass --freq 200 -d 1 2>&1); rc=$?
check_eq "live filter.lua on the rig exits 0" "$rc" "0"
check "live filter.lua filtered every frame of a second" contains "$out" "filtered 48000 frames live (lowpass 200 Hz) at 48000 Hz, latency "
# s:process states its latency: round trip + chunk (512) + margin, in frames and ms
check "... and states its latency and late frames" sh -c "printf '%s' \"\$1\" | grep -Eq 'latency [0-9]+ frames \([0-9.]+ ms\), [0-9]+ late'" sh "$out"

echo "# $tap_n checks"
