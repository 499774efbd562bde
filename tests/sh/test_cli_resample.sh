# Resampled playback tells the truth (issue 18, point 5): a 44.1 kHz file
# on the 48 kHz rig shows its total and progress in its own time, says once
# that it is resampled, and the summary counts the file's frames and the
# device's apart.
. tests/sh/tap.sh
cli_setup   # PS, PL and $tmp (tests/sh/tap.sh)

cat >"$tmp/mk.lua" <<'LUA'
local ps = require "pastream"
local b = ps.Buffer(88200, 2)
for f = 1, 88200 do local v = 0.5 * math.sin(f / 7) b:sample(f, 1, v) b:sample(f, 2, v) end
assert(ps.save(arg[1], b, 44100))
LUA
$PL "$tmp/mk.lua" "$tmp/cd.wav"
script -qfec "$PS -D loopback $tmp/cd.wav" /dev/null >"$tmp/tty" 2>&1
tty=$(tr '\r' '\n' <"$tmp/tty")
check "the header says once that it is resampled, and how" \
  sh -c "printf '%s\n' \"\$1\" | grep -c 'resampled 44100 Hz -> 48000 Hz (libsamplerate, medium quality)' | grep -qx 2" - "$tty"
check "... on the first line" sh -c "printf '%s\n' \"\$1\" | sed -n 1p | grep -q '; resampled 44100 Hz -> 48000 Hz'" - "$tty"
check "the status line's total is the file's 2 s, not 1.84 s" \
  sh -c "printf '%s\n' \"\$1\" | grep -Eq '^00:0[0-9]\.[0-9]/00:02\.0 '" - "$tty"
check "no status line runs past the total" \
  sh -c "! printf '%s\n' \"\$1\" | grep -Eq '^00:0(2\.[1-9]|[3-9]\.[0-9])/00:02\.0'" - "$tty"

$PS -D loopback "$tmp/cd.wav" 2>"$tmp/e"; rc=$?
check_eq "a 44.1 kHz file on the 48 kHz rig: exit 0" "$rc" 0
check "the summary counts the file's frames and the device's apart" \
  grep -Eq '^pastream: resampled 44100 Hz -> 48000 Hz \(libsamplerate, medium quality\): 88200 file frames \(2\.000 s\) as 960[0-9]{2} device frames$' "$tmp/e"
$PS -D loopback -d 1 "$tmp/cd.wav" 2>"$tmp/e"; rc=$?
check "-d 1: about half the file's frames, reckoned back" \
  grep -Eq '^pastream: resampled .*: about 441[0-9]{2} file frames \(1\.000 s\) as 48000 device frames$' "$tmp/e"

echo "# $tap_n checks"
