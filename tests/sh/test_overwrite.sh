# Safety of data on the command line and in the recipes: an existing output
# is refused (exit 2, untouched), -y replaces it only once the audio has
# started, and SIGINT during an overwriting recording leaves the final name
# holding the new recording.  Runs on the rig tests/run.sh starts.
. tests/sh/tap.sh
PL=${PASTREAM_LUA:-./pastream-lua}
PS=scripts/pastream
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# frames a file's header says, and the frames its data holds
cat >"$tmp/frames.lua" <<'LUA'
local i = require "pastream".file_info(arg[1])
print(i and i.frames or "unreadable")
LUA
frames() { "$PL" "$tmp/frames.lua" "$1"; }
old() { "$PL" -e "assert(require'pastream'.save('$1', require'pastream'.Buffer(4800, 2), 48000))"; }
listing() { ls -A "$tmp/d" | tr '\n' ' '; }
mkdir "$tmp/d"

old "$tmp/d/take.wav"
sum=$(cksum <"$tmp/d/take.wav")
$PS -q -D loopback -d 0.2 null "$tmp/d/take.wav" 2>"$tmp/e"; rc=$?
check_eq "CLI: an existing output exits 2" "$rc" 2
check "... saying so, with the option" contains "$(head -1 "$tmp/e")" "pastream: output file '$tmp/d/take.wav' exists (use -y/--overwrite to replace it)"
check_eq "... and the file is untouched" "$(cksum <"$tmp/d/take.wav")" "$sum"

$PS -q -D loopback -y -d 0.2 null "$tmp/d/take.wav" 2>"$tmp/e"; rc=$?
check_eq "CLI -y: exits 0" "$rc" 0
check_eq "CLI -y: the file is the new recording" "$(frames "$tmp/d/take.wav")" 9600
check_eq "CLI -y: no temporary file is left" "$(listing)" "take.wav "

old "$tmp/d/take.wav"
sum=$(cksum <"$tmp/d/take.wav")
$PS -q -D loopback --overwrite -r 44.1k -d 0.2 null "$tmp/d/take.wav" 2>"$tmp/e"; rc=$?
check_eq "CLI --overwrite, a rate the device refuses: exit 2" "$rc" 2
check_eq "... the old file survives" "$(cksum <"$tmp/d/take.wav")" "$sum"
check_eq "... and nothing else is left" "$(listing)" "take.wav "
$PS -q -D loopback -r 44.1k -d 0.2 null "$tmp/d/new.wav" 2>"$tmp/e"; rc=$?
check_eq "CLI: a failed start without -y: exit 2" "$rc" 2
check_eq "... leaves no new file" "$(listing)" "take.wav "

# SIGINT while an overwriting recording runs: once it has started the final
# name is the new file; the signal finalizes it there.
for who in cli recipe; do
  old "$tmp/d/take.wav"
  ino=$(stat -c %i "$tmp/d/take.wav")
  if [ $who = cli ]; then
    $PS -q -D loopback -y null "$tmp/d/take.wav" 2>"$tmp/e" & pid=$!
  else
    $PL scripts/record.lua "$tmp/d/take.wav" -D loopback -y >"$tmp/o" 2>"$tmp/e" & pid=$!
  fi
  # started = the final name has become the new file
  i=0; while [ $i -lt 200 ] && [ "$(stat -c %i "$tmp/d/take.wav" 2>/dev/null)" = "$ino" ]; do sleep 0.05; i=$((i + 1)); done
  # ... and holds more than 4800 frames (at most 8 bytes a frame, any header)
  wait_until 30 bigger "$tmp/d/take.wav" $((4800 * 8 + 4096))
  kill -INT $pid
  wait $pid; rc=$?
  want=0; [ $who = cli ] && want=130
  check_eq "$who: SIGINT during an overwriting recording exits $want" "$rc" "$want"
  n=$(frames "$tmp/d/take.wav")
  check "$who: the final name holds the new recording ($n frames, not the old 4800)" test "$n" != 4800 -a "$n" -gt 4800
  check_eq "$who: no temporary file is left" "$(listing)" "take.wav "
done

# Recipes: refused without -y, replaced with it
old "$tmp/d/take.wav"
sum=$(cksum <"$tmp/d/take.wav")
$PL scripts/record.lua "$tmp/d/take.wav" -d 0.1 -D loopback >/dev/null 2>"$tmp/e"; rc=$?
check_eq "record.lua: an existing OUT exits 2" "$rc" 2
check "... saying so" contains "$(cat "$tmp/e")" "record.lua: $tmp/d/take.wav exists (use -y/--overwrite to replace it)"
check_eq "... untouched" "$(cksum <"$tmp/d/take.wav")" "$sum"
$PL scripts/record.lua "$tmp/d/take.wav" -d 0.25 -D loopback -y >/dev/null 2>"$tmp/e"; rc=$?
check_eq "record.lua -y: exits 0" "$rc" 0
check_eq "record.lua -y: the new recording" "$(frames "$tmp/d/take.wav")" 12000
$PL scripts/tone.lua -d 0.1 -D loopback -o "$tmp/d/take.wav" >/dev/null 2>"$tmp/e"; rc=$?
check_eq "tone.lua -o an existing file: exits 2" "$rc" 2
$PL scripts/tone.lua -d 0.1 -D loopback -o "$tmp/d/take.wav" -y >/dev/null 2>"$tmp/e"; rc=$?
check_eq "tone.lua -o -y: exits 0" "$rc" 0
check_eq "tone.lua -o -y: the file is what it played" "$(frames "$tmp/d/take.wav")" 4800
old "$tmp/d/src.wav"
$PL scripts/filter.lua "$tmp/d/src.wav" "$tmp/d/take.wav" -t lowpass -f 1000 >/dev/null 2>"$tmp/e"; rc=$?
check_eq "filter.lua over an existing OUT: exits 2" "$rc" 2
$PL scripts/filter.lua "$tmp/d/src.wav" "$tmp/d/take.wav" -t lowpass -f 1000 -y >/dev/null 2>"$tmp/e"; rc=$?
check_eq "filter.lua -y: exits 0" "$rc" 0
$PL scripts/playrec.lua "$tmp/d/src.wav" "$tmp/d/take.wav" -D loopback >/dev/null 2>"$tmp/e"; rc=$?
check_eq "playrec.lua over an existing OUT: exits 2" "$rc" 2
$PL scripts/playrec.lua "$tmp/d/src.wav" "$tmp/d/take.wav" -D loopback -y >/dev/null 2>"$tmp/e"; rc=$?
check_eq "playrec.lua -y: exits 0" "$rc" 0
check_eq "playrec.lua -y: IN and the round trip recorded" "$(frames "$tmp/d/take.wav")" $((4800 + $(rig_roundtrip)))
check_eq "no temporary file is left by any of them" "$(listing)" "src.wav take.wav "
echo "# $tap_n checks"
