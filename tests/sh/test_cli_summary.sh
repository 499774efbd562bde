# A summary worth reading (issue 18, point 6): each channel's peak in dBFS
# and clip count (which outlive the status line's CLIP mark), the file
# written (type, encoding, size), the run's round trip; counts that are all
# zero are one word; the live meter shows every channel; -q prints
# nothing; a non-terminal stderr gets the summary only.
. tests/sh/tap.sh
cli_setup   # PS, PL and $tmp (tests/sh/tap.sh)

# loud.wav: channel 1 at half scale with a full-scale sample every 100
# frames (240 in all), channel 2 silent
cat >"$tmp/loud.lua" <<'LUA'
local ps = require "pastream"
local b = ps.Buffer(24000, 2)
for f = 1, 24000 do b:sample(f, 1, f % 100 == 0 and 1.0 or 0.5); b:sample(f, 2, 0) end
assert(ps.save(arg[1], b, 48000))
LUA
$PL "$tmp/loud.lua" "$tmp/loud.wav"

$PS -D loopback --align "$tmp/loud.wav" "$tmp/out.wav" 2>"$tmp/e"; rc=$?
check_eq "play and record: exit 0" "$rc" 0
check_eq "not a terminal: the summary only, three lines" "$(wc -l <"$tmp/e" | tr -d ' ')" 3
# --align plays the round trip (RT frames, one period of the rig) of silence after the file
N=$((24000 + $(rig_roundtrip)))
NS=$(awk "BEGIN { printf \"%.3f\", $N / 48000 }" | sed 's/\./\\./')
check "counts that are all zero are one word" grep -Eq "^pastream: $N frames \\($NS s at 48000 Hz\\); xruns (0|[0-9]+ \\(.*\\)); lost frames 0\$" "$tmp/e"
check "each channel's peak in dBFS, and its clips (played and recorded)" \
  grep -q '^pastream: peak play 0.0/-inf dBFS, CLIPPED 240/0 samples; rec 0.0/-inf dBFS, CLIPPED 240/0 samples$' "$tmp/e"
size=$(wc -c <"$tmp/out.wav" | tr -d ' ')
want_size=$($PL -e "io.write(require('pastream.cli').size_text($size))")
check "the file written: type, encoding, channels, rate, frames, size" \
  grep -q "^pastream: wrote $tmp/out.wav: wav[a-z]* float, 2 ch, 48000 Hz, 24000 frames, $want_size; round trip [0-9]* frames (measured)$" "$tmp/e"
out=$($PL -e 'print(require("pastream.cli").size_text(999), require("pastream.cli").size_text(384100), require("pastream.cli").size_text(12300000))')
check_eq "sizes in B, kB, MB" "$out" "$(printf '999 B\t384.1 kB\t12.3 MB')"

$PS -D loopback -n 4800 null "$tmp/quiet.flac" 2>"$tmp/e"
check "recording only: the peaks of what was recorded" grep -q '^pastream: peak rec -inf/-inf dBFS, clipped 0$' "$tmp/e"
check "... the file: flac pcm_24" grep -q "^pastream: wrote $tmp/quiet.flac: flac pcm_24, 2 ch, 48000 Hz, 4800 frames, " "$tmp/e"
check "... no round trip without playback" sh -c "! grep -q 'round trip' '$tmp/e'"
$PS -D loopback -d 0.2 "$tmp/loud.wav" 2>"$tmp/e"
check "a duplex-less run: no round trip" sh -c "! grep -q 'round trip' '$tmp/e'"
$PS -D loopback -y "$tmp/loud.wav" "$tmp/out.wav" 2>"$tmp/e"
check "play and record without --align: PortAudio's round trip, said as such" \
  grep -q '; round trip [0-9]* frames (as PortAudio reports it)$' "$tmp/e"

$PS -q -D loopback -y "$tmp/loud.wav" "$tmp/out.wav" 2>"$tmp/e"; rc=$?
check_eq "-q: exit 0" "$rc" 0
check_eq "-q: nothing at all on stderr" "$(cat "$tmp/e")" ""

# in a terminal: the status line goes, the summary keeps the clips
script -qfec "$PS -D loopback -y $tmp/loud.wav $tmp/out.wav" /dev/null >"$tmp/tty" 2>&1
tty=$(tr '\r' '\n' <"$tmp/tty")
check "in a terminal: the live meter shows each channel (the silent one too)" \
  sh -c "printf '%s\n' \"\$1\" | grep -Eq 'play 0\.0/-infdB CLIP rec (-inf|0\.0)/-infdB'" - "$tty"
check "in a terminal: the clips are in the summary after the status line is gone" \
  contains "$tty" "pastream: peak play 0.0/-inf dBFS, CLIPPED 240/0 samples"

# the counters themselves: stream.tx_clips / rx_clips
cat >"$tmp/clips.lua" <<'LUA'
local ps = require "pastream"
local s <close> = ps.DuplexStream{ device = "loopback", channels = 2 }
local b = ps.Buffer(4800, 2)
for f = 1, 4800 do b:sample(f, 1, f <= 10 and -1.0 or 0.25); b:sample(f, 2, f == 7 and 2.0 or 0) end
s:playrec(b, { frames = 4800 + s:roundtrip_frames(), pad = -1, meter = true })
print(table.concat(s.tx_clips, " "), table.concat(s.rx_clips, " "))
LUA
check_eq "stream.tx_clips / rx_clips count the samples at full scale, per channel" \
  "$($PL "$tmp/clips.lua")" "$(printf '10 1\t10 1')"

echo "# $tap_n checks"
