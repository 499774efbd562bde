# Files through pipes with sox on both ends, and recordings finalized on
# SIGINT/SIGTERM.  Runs on the rig tests/run.sh starts.
. tests/sh/tap.sh
PL=${PASTREAM_LUA:-./pastream-lua}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
RT=$(rig_roundtrip)

cat >"$tmp/playrec.lua" <<'LUA'
-- playrec.lua IN OUT [PAD]: play IN on loopback and record to OUT
local ps = require "pastream"
local s <close> = ps.DuplexStream{ device = "loopback" }
s:playrec(arg[1], { out = arg[2], pad = tonumber(arg[3] or 256) })
io.stderr:write(string.format("frames %d\n", s.frame_count))
LUA

# sox | pastream: AU on stdin, recorded to a WAV file
sox -n -r 48000 -c 2 -t au - synth 1 sine 440 2>/dev/null | $PL "$tmp/playrec.lua" - "$tmp/in.wav" 2>"$tmp/e"
rc=$?
check_eq "sox | pastream - out.wav exits 0" "$rc" "0"
check_eq "every piped frame and the padding were recorded" "$(soxi -s "$tmp/in.wav" 2>/dev/null)" "48256"
peak=$(sox "$tmp/in.wav" -n stat 2>&1 | awk '/Maximum amplitude/ {print $3}')
check "the recorded tone has the piped level (peak $peak)" awk -v p="${peak:-0}" 'BEGIN { exit !(p > 0.99) }'

# pastream | sox: the recording as AU on stdout, measured by sox
$PL "$tmp/playrec.lua" "$tmp/in.wav" - 2>"$tmp/e" | sox -t au - -n stat 2>"$tmp/stat"
rc=$?
check_eq "pastream in.wav - | sox exits 0" "$rc" "0"
check "sox read the piped recording" grep -q "Samples read: *97024" "$tmp/stat"
check "stdout carried only audio (sox read a valid AU stream)" grep -q "Maximum amplitude" "$tmp/stat"

# WAV to a pipe (streamed with "unknown" sizes), read by sox
cat >"$tmp/wavout.lua" <<'LUA'
local ps = require "pastream"
local s <close> = ps.DuplexStream{ device = "loopback" }
s:playrec(arg[1], { out = "-", output_file = { type = "wav" }, pad = 256 })
LUA
$PL "$tmp/wavout.lua" "$tmp/in.wav" 2>"$tmp/e" | sox -t wav - "$tmp/fromwav.wav" 2>/dev/null
check_eq "pastream in.wav - (WAV) | sox -t wav -: every frame" "$(soxi -s "$tmp/fromwav.wav" 2>/dev/null)" "48512"
scripts/pastream -q -D loopback -t ^,wav "$tmp/in.wav" - 2>"$tmp/e" | sox -t wav - -n stats 2>"$tmp/stats"
check "pastream (CLI) in.wav - -t wav | sox -t wav - -n stats" grep -q "Num samples *48.[0-9]k" "$tmp/stats"

# RAW in and out through pipes
sox -n -r 48000 -c 2 -e floating-point -b 32 -t raw - synth 0.5 sine 1000 2>/dev/null >"$tmp/in.raw"
cat >"$tmp/raw.lua" <<'LUA'
local ps = require "pastream"
local s <close> = ps.DuplexStream{ device = "loopback" }
local raw = { type = "raw", subtype = "float", samplerate = 48000, channels = 2 }
s:playrec("-", { out = "-", pad = tonumber(arg[1]), input_file = raw, output_file = raw })
LUA
$PL "$tmp/raw.lua" "$RT" <"$tmp/in.raw" >"$tmp/out.raw"
check_eq "RAW through stdin and stdout keeps every frame" "$(stat -c %s "$tmp/out.raw")" "$(( $(stat -c %s "$tmp/in.raw") + RT * 8 ))"
check "the RAW recording is the input, delayed by the round trip (bit-exact)" \
  cmp -s "$tmp/in.raw" "$tmp/out.raw" -i 0:$((RT * 8)) -n "$(stat -c %s "$tmp/in.raw")"

# A recording stopped by a signal is a finished file: its header's frame
# count matches the data (written at close, not only by periodic updates).
cat >"$tmp/rec.lua" <<'LUA'
local ps = require "pastream"
local s = ps.InputStream{ device = "loopback" }
print("recording") io.stdout:flush()
s:record{ out = arg[1] }
LUA
cat >"$tmp/wavcheck.lua" <<'LUA'
-- prints the frames the WAV header says and the frames the data holds
local f = assert(io.open(arg[1], "rb")) local d = f:read("a") f:close()
local pos = d:find("data", 13, true)
local size = string.unpack("<I4", d, pos + 4)
print(size // 8, (#d - pos - 7) // 8)
LUA
for sig in INT TERM; do
  $PL "$tmp/rec.lua" "$tmp/sig$sig.wav" >"$tmp/o" 2>"$tmp/e" &
  pid=$!
  # once the file holds more than 40000 frames of stereo float32 (any
  # header): the check below is about what the signal leaves, not how fast
  # the machine recorded
  wait_until 30 bigger "$tmp/sig$sig.wav" $((40000 * 8 + 4096))
  kill -$sig $pid
  wait $pid
  rc=$?
  check_eq "SIG$sig mid-recording exits $((128 + $( [ $sig = INT ] && echo 2 || echo 15 )))" "$rc" "$((128 + $( [ $sig = INT ] && echo 2 || echo 15 )))"
  set -- $($PL "$tmp/wavcheck.lua" "$tmp/sig$sig.wav")
  check "SIG$sig: the recording holds about a second ($2 frames)" test "${2:-0}" -gt 40000
  check_eq "SIG$sig: the header's frame count equals the data's" "${1:-x}" "${2:-y}"
done

# A recording that hits the file size limit stops with a clear error and
# leaves a valid file holding every frame it says it wrote.
(ulimit -f 400; exec $PL "$tmp/rec.lua" "$tmp/full.wav") >"$tmp/o" 2>"$tmp/e"
rc=$?
check_eq "a full file ends the recording with exit 1" "$rc" "1"
[ "$rc" = 1 ] || sed 's/^/#   | /' "$tmp/e"
err=$(cat "$tmp/e")
check "the error says what happened" contains "$err" "recording file: write error after"
check "the error names the cause" contains "$err" "File too large"
said=$(printf '%s' "$err" | sed -n 's/.*write error after \([0-9]*\) frames.*/\1/p' | head -1)
check_eq "the file is readable and holds the frames the error names" "$(soxi -s "$tmp/full.wav" 2>/dev/null)" "${said:-none}"

# Overflow policy: with fill_gaps, frames the disk could not take in time
# (here: a pipe whose reader stalls) become silence in the file, counted,
# and every other frame stays at its place in time.
cat >"$tmp/gap.lua" <<'LUA'
local ps = require "pastream"
local N = 96000
local ramp = ps.Buffer(N, 1)
for f = 1, N do ramp[f] = f / (1 << 20) end        -- each frame names its time
local s <close> = ps.DuplexStream{ device = "loopback", channels = { 1, 1 }, buffersize = 4096 }
s:playrec(ramp, { frames = N, pad = -1, out = "-", fill_gaps = true, blocking = false })
io.open(arg[1], "w"):close()                      -- running: the reader may begin its stall
s:wait()
io.stderr:write(string.format("lost %d delay %d\n", s.rx_lost, s:roundtrip_frames()))
LUA
cat >"$tmp/gapcheck.lua" <<'LUA'
local ps = require "pastream"
local rec = assert(ps.load(arg[1]))
local delay, silent, wrong = tonumber(arg[2]), 0, 0
for f = 1, rec:frames() do
  local v = rec[f]
  if v == 0 then silent = silent + 1
  elseif v ~= (f - delay) / (1 << 20) then wrong = wrong + 1 end
end
print(rec:frames(), silent, wrong)
LUA
# (the reader stalls for 1.5 s from the moment the run has started, however
# long the writer took to get there)
$PL "$tmp/gap.lua" "$tmp/gap.started" 2>"$tmp/e" |
  (wait_until 30 test -e "$tmp/gap.started"; sleep 1.5; cat >"$tmp/gap.au")
set -- $(sed -n 's/^lost \([0-9]*\) delay \([0-9]*\)$/\1 \2/p' "$tmp/e")
lost=${1:-0}; delay=${2:-0}
check "the stalled pipe lost frames, and they were counted ($lost)" test "$lost" -gt 10000
set -- $($PL "$tmp/gapcheck.lua" "$tmp/gap.au" "$delay")
check_eq "the file keeps its length: lost frames became silence" "${1:-x}" "96000"
check_eq "every other frame is at its place in time" "${3:-x}" "0"
check "the silence covers the lost frames ($2 silent, $lost lost + $delay delay)" test "${2:-0}" -eq $((lost + delay))

echo "# $tap_n checks"
