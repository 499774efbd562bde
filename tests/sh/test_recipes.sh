# The recipes in scripts/: --help, usage errors, and each one run on the rig
# (the loopback device returns what it is given, bit-exact, one round trip
# later: RT frames, one period of the rig, read from the running stream).
. tests/sh/tap.sh
PL=${PASTREAM_LUA:-$(pwd)/pastream-lua}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
RT=$(rig_roundtrip); export RT
recipes="record.lua play.lua playrec.lua tone.lua meter.lua latency.lua loopback-check.lua devices.lua"

# Small checks on sound files, in Lua: pastream-lua check.lua WHAT FILE...
cat >"$tmp/check.lua" <<'LUA'
local ps = require "pastream"
local what, a, b = ...
if what == "frames" then print(ps.file_info(a).frames) end
if what == "equal" then print(ps.load(a):equals(ps.load(b))) end
local function first_sound(x)     -- the first frame that is not silent (0-based), or nil
  for i = 1, #x do if x[i] ~= 0 then return (i - 1) // x:channels() end end
end
-- The rig's two-client race: with one client playing into loopback and
-- another recording it, the clients' order in the JACK server's graph
-- races now and then, and a period of a channel reaches the recorder one
-- cycle early or late, or half of one (the copy tore at a cache line), with
-- no xrun anywhere.  Two plain PortAudio programs see it too (README,
-- "Tests and the test rig").  race_shaped(x, y, at) counts the samples of
-- recording x that differ from source y placed at frame `at`; nil unless
-- each equals the source's sample of the same channel exactly one period
-- (RT frames) earlier or later.  Audio wrong in any other way (a changed,
-- lost, moved or swapped sample) is never this shape.
local function race_shaped(x, y, at)
  local ch, P, n = x:channels(), assert(tonumber(os.getenv("RT"))), 0
  local last = math.min(at + y:frames(), x:frames())
  for xf = at, last - 1, P do
    local hi = math.min(xf + P, last)
    if not x:sub(xf + 1, hi):equals(y:sub(xf - at + 1, hi - at)) then
      for f = xf, hi - 1 do
        local yf = f - at
        for c = 1, ch do
          local v = x[f * ch + c]
          if v ~= y[yf * ch + c] then
            if not ((yf >= P and v == y[(yf - P) * ch + c])
                    or (yf + P < y:frames() and v == y[(yf + P) * ch + c])) then
              return nil
            end
            n = n + 1
          end
        end
      end
    end
  end
  return n
end
if what == "contains" then          -- a holds all of b, bit-exact, after a run of silence
  local x, y = ps.load(a), ps.load(b)
  local fx, fy = first_sound(x), first_sound(y)
  if not fx then print("silence") return end
  local at = fx - fy
  local fits = at + y:frames() <= x:frames()
  local same = fits and x:sub(at + 1, at + y:frames()):equals(y)
  local d = fits and not same and race_shaped(x, y, at)
  if d then print(same, at, string.format("%d sample(s) one period off", d))
  else print(same, at) end
end
if what == "hz" then                -- from the rising zero crossings of channel 1
  local x, rate = ps.load(a)
  local ch, n, first, last, prev = x:channels(), 0, nil, nil, 0
  for f = 1, x:frames() do
    local v = x[(f - 1) * ch + 1]
    if prev < 0 and v >= 0 then n = n + 1; first = first or f; last = f end
    prev = v
  end
  print(n > 1 and math.floor((n - 1) * rate / (last - first) + 0.5) or 0)
end
LUA
lc() { "$PL" "$tmp/check.lua" "$@"; }

for r in $recipes; do
  out=$("$PL" "scripts/$r" --help 2>&1); rc=$?
  check_eq "$r --help exits 0" "$rc" 0
  check "$r --help prints the usage" contains "$out" "usage: $r"
  "$PL" "scripts/$r" --no-such-option >/dev/null 2>"$tmp/e"; rc=$?
  check_eq "$r: an unknown option exits 2" "$rc" 2
  check "$r: an unknown option is named" contains "$(cat "$tmp/e")" "unknown option '--no-such-option'"
  head -1 "scripts/$r" | grep -q "^-- $r: ." && ok "$r starts with '-- $r: description'" \
    || fail "$r starts with '-- $r: description'"
done

# Finding recipes by name from any directory, and listing them
list=$("$PL" --recipes); rc=$?
check_eq "--recipes exits 0" "$rc" 0
for r in $recipes; do
  desc=$(head -1 "scripts/$r" | sed "s/^-- $r: //")
  printf '%s\n' "$list" | grep -q "^  $r  *$desc\$" && ok "--recipes lists $r with its description" \
    || fail "--recipes lists $r with its description" "$(printf '%s\n' "$list" | grep "$r")"
done
check_eq "--recipes sorts them" "$(printf '%s\n' "$list" | sed -n 's/^  \([^ ]*\) .*/\1/p' | tr '\n' ' ')" \
  "$(ls scripts/*.lua | sed 's|.*/||' | LC_ALL=C sort | tr '\n' ' ')"
out=$(cd "$tmp" && "$PL" record.lua x.wav -d 0.5); rc=$?
check_eq "record.lua found by name from another directory" "$rc" 0
check_eq "... and records 0.5 s exactly" "$(lc frames "$tmp/x.wav")" 24000
(cd "$tmp" && "$PL" no-such-recipe.lua) 2>"$tmp/e"; rc=$?
check_eq "an unknown recipe exits 1" "$rc" 1
check "an unknown recipe is named, with a hint" contains "$(cat "$tmp/e")" "cannot open no-such-recipe.lua: no such file, nor a bundled recipe"
"$PL" scripts/record.lua 2>"$tmp/e"; rc=$?
check_eq "record.lua without OUT exits 2" "$rc" 2
check "... and says what is missing" contains "$(cat "$tmp/e")" "record.lua: missing argument"
"$PL" scripts/record.lua "$tmp/nodev.wav" -d 1 -D no-such-device 2>"$tmp/e"; rc=$?
check_eq "record.lua with an unknown device exits 1" "$rc" 1
check "... with a one-line message" contains "$(cat "$tmp/e")" "record.lua: no input device matches 'no-such-device'"

# record.lua
out=$("$PL" scripts/record.lua "$tmp/r.flac" -d 0.75 -D loopback -c 1 -t flac -e pcm_24); rc=$?
check_eq "record.lua -d 0.75 -c 1 -t flac -e pcm_24 exits 0" "$rc" 0
check "record.lua prints a summary" contains "$out" "recorded 36000 frames (0.75 s)"
check_eq "record.lua: frames exact" "$(lc frames "$tmp/r.flac")" 36000
check_eq "record.lua: format" "$("$PL" -e "local i = require'pastream'.file_info('$tmp/r.flac') print(i.type, i.subtype, i.channels)")" \
  "$(printf 'flac\tpcm_24\t1')"

# tone.lua makes a test signal; play.lua plays it while record.lua records it
out=$("$PL" scripts/tone.lua -w noise -d 0.5 -l -6 -D loopback -o "$tmp/noise.wav"); rc=$?
check_eq "tone.lua -w noise -d 0.5 exits 0" "$rc" 0
check_eq "tone.lua --out writes what it played" "$(lc frames "$tmp/noise.wav")" 24000
# The recorder runs until the player has finished and is then stopped with
# SIGINT (which finalizes its file), so no fixed duration races the player.
start_recorder() {   # start_recorder OUT
  : >"$tmp/rec.log"
  "$PL" scripts/record.lua "$1" -D loopback >"$tmp/rec.log" 2>&1 & rpid=$!
  i=0; while [ $i -lt 200 ] && ! grep -q '^recording' "$tmp/rec.log"; do sleep 0.05; i=$((i + 1)); done
  sleep 0.2
}
stop_recorder() { sleep 0.3; kill -INT $rpid; wait $rpid; rrc=$?; }
# A recording by one client of what another played: bit-exact (rig_ok), or
# wrong only in the shape of the rig's two-client race (rig_fault, see
# race_shaped above), which tests/sh/tap.sh's through_rig runs again.
judge_two_clients() {
  case "$got" in
    true*) rig_ok=1 ;;
    *"period off"*) rig_fault=1 ;;
  esac
}
# The check after the runs: bit-exact, or, when even the last run met the
# race, every differing sample in its shape.
as_played() { contains "$got" "true" || contains "$got" "period off"; }
play_record() {
  rm -f "$tmp/played.wav"
  start_recorder "$tmp/played.wav"
  out=$("$PL" scripts/play.lua "$tmp/noise.wav" -D loopback); rc=$?
  stop_recorder
  got=$(lc contains "$tmp/played.wav" "$tmp/noise.wav")
  judge_two_clients
}
through_rig 3 play_record
check_eq "play.lua exits 0" "$rc" 0
check "play.lua prints a summary" contains "$out" "played 24000 frames (0.50 s)"
check_eq "record.lua, run alongside, exits 0" "$rrc" 0
check "play.lua -> loopback -> record.lua: every sample as played (bit-exact but for the rig's two-client race)" as_played
contains "$got" "true" || { echo "#   contains: $got; the recorder said:"; sed 's/^/#   | /' "$tmp/rec.log"; }

# playrec.lua
playrec_align() {
  rm -f "$tmp/back.wav"
  out=$("$PL" scripts/playrec.lua "$tmp/noise.wav" "$tmp/back.wav" -D loopback --align); rc=$?
  got=$(lc equal "$tmp/back.wav" "$tmp/noise.wav")
  [ "$got" = true ] && rig_ok=1
}
through_rig 3 playrec_align
check_eq "playrec.lua --align exits 0" "$rc" 0
check_eq "playrec.lua --align: the recording is what was played" "$got" true
check "playrec.lua --align says the round trip is measured" contains "$out" "(round trip $RT frames, measured; PortAudio reports $RT)"
playrec_late() {
  rm -f "$tmp/back2.wav"
  "$PL" scripts/playrec.lua "$tmp/noise.wav" "$tmp/back2.wav" -D loopback >/dev/null
  got=$(lc contains "$tmp/back2.wav" "$tmp/noise.wav")
  [ "$got" = "true	$RT" ] && rig_ok=1
}
through_rig 3 playrec_late
check_eq "playrec.lua: the tail is recorded (IN + round trip)" "$(lc frames "$tmp/back2.wav")" $((24000 + RT))
check "playrec.lua: the sound comes back $RT frames (the round trip) late, bit-exact" contains "$got" "true	$RT"

# tone.lua: its frequency, in what it writes and in what comes back through loopback
out=$("$PL" scripts/tone.lua -d 1); rc=$?
check_eq "tone.lua -d 1 exits 0" "$rc" 0
check "tone.lua plays 1 s" contains "$out" "played 48000 frames (1.00 s)"
tone_record() {
  rm -f "$tmp/tone-back.wav" "$tmp/tone.wav"
  start_recorder "$tmp/tone-back.wav"
  "$PL" scripts/tone.lua -f 1000 -l -6 -d 1 -D loopback -o "$tmp/tone.wav" >"$tmp/tone.log"; rc=$?
  stop_recorder
  got=$(lc contains "$tmp/tone-back.wav" "$tmp/tone.wav")
  judge_two_clients
}
through_rig 3 tone_record
check_eq "tone.lua -f 1000 exits 0" "$rc" 0
check_eq "tone.lua -f 1000 generates 1000 Hz" "$(lc hz "$tmp/tone.wav")" 1000
# (periods moved by the race shift the zero crossings: 998 Hz was seen)
hz=$(lc hz "$tmp/tone-back.wav")
if contains "$got" "true"; then
  check_eq "tone.lua -f 1000 comes back as 1000 Hz" "$hz" 1000
else
  check "tone.lua -f 1000 comes back as 995..1005 Hz (the race moved periods: $hz)" test "${hz:-0}" -ge 995 -a "${hz:-0}" -le 1005
fi
check "... every sample as played (bit-exact but for the rig's two-client race)" as_played
contains "$got" "true" || { echo "#   contains: $got; the recorder and player said:"; sed 's/^/#   | /' "$tmp/rec.log" "$tmp/tone.log"; }
check_eq "tone.lua -l -6: the peak" "$("$PL" -e "print(string.format('%.2f', 20 * math.log(require'pastream'.load('$tmp/tone.wav'):peak(), 10)))")" "-6.00"
"$PL" scripts/tone.lua -w square -f 500 -d 0.5 -o "$tmp/sq.wav" >/dev/null
check_eq "tone.lua -w square -f 500" "$(lc hz "$tmp/sq.wav")" 500
"$PL" scripts/tone.lua -w sweep -d 0.5 -o "$tmp/sw.wav" >/dev/null; rc=$?
check_eq "tone.lua -w sweep exits 0" "$rc" 0
"$PL" scripts/tone.lua -l 3 2>/dev/null; rc=$?
check_eq "tone.lua -l 3 (above 0 dBFS) exits 2" "$rc" 2

# latency.lua reports the delay the loopback tests measure, to the frame
out=$("$PL" scripts/latency.lua -D loopback -n 2); rc=$?
check_eq "latency.lua exits 0" "$rc" 0
ms() { awk "BEGIN { printf \"%.2f\", $1 * 1000 / 48000 }"; }
line="latency: measured $RT frames ($(ms $RT) ms); PortAudio reports $RT frames ($(ms $RT) ms)"
check_eq "latency.lua on loopback: $RT frames (one period), as PortAudio reports" "$out" \
  "$(printf '%s\n%s' "$line" "$line")"
out=$("$PL" scripts/latency.lua -D loopback -b 512); rc=$?
RT512=$((RT + 512))
check "latency.lua -b 512 measures what PortAudio reports ($RT512 frames)" contains "$out" \
  "latency: measured $RT512 frames ($(ms $RT512) ms); PortAudio reports $RT512 frames ($(ms $RT512) ms)"
out=$("$PL" scripts/latency.lua -D system); rc=$?
check_eq "latency.lua with nothing connected exits 1" "$rc" 1
check "... and says so" contains "$out" "no clear echo"

# loopback-check.lua
out=$("$PL" scripts/loopback-check.lua -D loopback -d 2); rc=$?
check_eq "loopback-check.lua passes on loopback" "$rc" 0
check "loopback-check.lua: 0 lost, 0 changed" contains "$out" "96000 bit-exact, 0 lost (0 gaps), 0 changed"
check "loopback-check.lua: the delay" contains "$out" "delay $RT frames"
out=$("$PL" scripts/loopback-check.lua -D system -d 0.5); rc=$?
check_eq "loopback-check.lua with nothing connected exits 1" "$rc" 1
check "... saying why" contains "$out" "loopback-check: the round trip could not be measured (is the output connected to the input?)"

# meter.lua, not on a terminal: one line per second
"$PL" scripts/tone.lua -D loopback -d 1.5 -l -6 >/dev/null & tpid=$!
"$PL" scripts/meter.lua -D loopback -d 1 >"$tmp/m.out" 2>"$tmp/m.err"; rc=$?
wait $tpid
check_eq "meter.lua -d 1 exits 0" "$rc" 0
check_eq "meter.lua: one header and one line for 1 s, on stderr" "$(wc -l <"$tmp/m.err")" 2
check "meter.lua: says dBFS" contains "$(head -1 "$tmp/m.err")" "dBFS"
check "meter.lua: a -6 dBFS peak on each channel" grep -Eq '^ *-6\.0 \[#+-*\|-*\] +-[0-9.]+ +-6\.0 \[' "$tmp/m.err"

# devices.lua
out=$("$PL" scripts/devices.lua); rc=$?
check_eq "devices.lua exits 0" "$rc" 0
check "devices.lua lists loopback" contains "$out" "loopback"
check "devices.lua lists the host APIs" contains "$out" "JACK Audio Connection Kit"
