# The live monitor page (issue 20, point 4): `pastream --monitor` plays a
# -6 dBFS / -12 dBFS 1 kHz tone through the rig's loopback and records it,
# while: raw clients send good, malformed and path-traversal requests; 100
# idle connections fill the connection cap; a client stops reading its
# event stream; the event rate is counted; and headless Chromium opens the
# page, whose DOM must show the meters at -6 and -12 dBFS (+- 0.5) and the
# spectrum's peak at 1 kHz (+- one bin), and takes a screenshot (kept as
# tests/out/monitor.png).  Through all of it the recording stays bit-exact.
# The network clients are tests/sh/monitor_probe.lua (luv).
. tests/sh/tap.sh
PS=scripts/pastream
PL=${PASTREAM_LUA:-./pastream-lua}
top=$(pwd)
tmp=$(mktemp -d)
outdir=tests/out
mkdir -p "$outdir"
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
probe() { "$PL" tests/sh/monitor_probe.lua "$@"; }
# val KEY FILE: the value of a "key value" line
val() { sed -n "s/^$1 //p" "$2" | head -n 1; }

# 24 s of stereo float32: a 1 kHz cosine (it starts at its peak, so the
# recording's first non-zero sample marks the round trip) at 0.5 and 0.25
cat >"$tmp/make.lua" <<'LUA'
local ps = require "pastream"
local n = 24 * 48000
local b = ps.Buffer(n, 2)
for f = 1, n do
  local v = math.cos(2 * math.pi * 1000 * (f - 1) / 48000)
  b:sample(f, 1, 0.5 * v)
  b:sample(f, 2, 0.25 * v)
end
assert(ps.save(arg[1], b, 48000))
LUA
"$PL" "$tmp/make.lua" "$tmp/in.wav"

# cmp.lua IN REC: "exact" when REC is silence, then IN sample for sample,
# then silence (the padding)
cat >"$tmp/cmp.lua" <<'LUA'
local ps = require "pastream"
local a, b = assert(ps.load(arg[1])), assert(ps.load(arg[2]))
local k = 1
while k <= b:frames() and b:sample(k, 1) == 0 and b:sample(k, 2) == 0 do k = k + 1 end
local d = k - 1
if d + a:frames() > b:frames() then print("short: " .. b:frames() .. " frames, delay " .. d) return end
for f = 1, a:frames() do
  for c = 1, 2 do
    if b:sample(f + d, c) ~= a:sample(f, c) then
      print(string.format("differs at frame %d channel %d (delay %d)", f, c, d)) return
    end
  end
end
for f = d + a:frames() + 1, b:frames() do
  if b:sample(f, 1) ~= 0 or b:sample(f, 2) ~= 0 then print("noise after the end at " .. f) return end
end
print("exact")
LUA

# The whole scenario, one run of the recording.  Its TAP lines go to a file,
# so that a run the rig damaged (its JACK server logged xruns, or the
# two-client race of tests/sh/tap.sh) can run again with the same numbers;
# through_rig decides, and only the bit-exact recording sets rig_ok.
scenario() {
  rm -f "$tmp/rec.wav"
  n=$((24 * 48000))
  $PS --monitor=0 -D loopback -n $((n + 8192)) -p "$tmp/in.wav" "$tmp/rec.wav" 2>"$tmp/err" &
  pid=$!
  port=
  for i in $(seq 1 100); do
    port=$(sed -n 's|^pastream: monitor on http://127\.0\.0\.1:\([0-9]*\)/$|\1|p' "$tmp/err")
    [ -n "$port" ] && break
    sleep 0.1
  done
  check "--monitor=0 says where it listens (127.0.0.1, a free port)" test -n "$port"

  # a client that asks for the events and never reads them (in the background)
  probe stuck "$port" 14 >"$tmp/stuck" 2>&1 &
  stuck=$!

  # ---- requests: the page, and nothing but the page ---------------------------
  probe http "$port" >"$tmp/http" 2>&1
  check_eq "GET / is the page" "$(val page "$tmp/http")" 200
  check_eq "... an HTML document" "$(val page_html "$tmp/http")" yes
  check_eq "... self-contained: no external scripts, styles, fonts or links" "$(val page_external "$tmp/http")" 0
  check_eq "... with its exact Content-Length" "$(val page_length_ok "$tmp/http")" yes
  check_eq "... and nosniff" "$(val page_nosniff "$tmp/http")" yes
  check_eq "HEAD / is 200 without a body" "$(val head "$tmp/http") $(val head_body "$tmp/http")" "200 0"
  check_eq "GET /index.html is the page" "$(val index "$tmp/http")" 200
  t404=0
  for i in $(seq 1 12); do [ "$(val traversal$i "$tmp/http")" = 404 ] && t404=$((t404 + 1)); done
  check_eq "12 other paths, path traversal among them, are 404" "$t404" 12
  check_eq "POST is refused (405: read-only)" "$(val post "$tmp/http")" 405
  check_eq "DELETE is refused (405)" "$(val delete "$tmp/http")" 405
  check_eq "PUT is refused (405)" "$(val put "$tmp/http")" 405
  check_eq "a Host that is not loopback is refused (421: no DNS rebinding)" "$(val badhost "$tmp/http")" 421
  for k in garbage http09 badversion empty binary lowercase; do
    check_eq "malformed request '$k' gets 400" "$(val $k "$tmp/http")" 400
  done
  check_eq "a request over 8 KiB gets 431" "$(val huge "$tmp/http")" 431

  # ---- 100 idle connections ---------------------------------------------------
  probe idle "$port" 100 >"$tmp/idle" 2>&1
  check_eq "while the idle connections hold the cap, one more is closed unanswered" "$(val while_idle "$tmp/idle")" closed
  check_eq "all 100 idle connections are closed by the server" "$(val idle_closed "$tmp/idle")" 100
  check_eq "... without a byte sent to them" "$(val idle_bytes "$tmp/idle")" 0
  check_eq "... before the probe's hang guard" "$(val idle_guard "$tmp/idle")" no
  check_eq "then the page is served again" "$(val after_idle "$tmp/idle")" 200

  # ---- the event stream -------------------------------------------------------
  probe rate "$port" 3 >"$tmp/rate" 2>&1
  med=$(val median_ms "$tmp/rate"); medm=$(val median_moved_ms "$tmp/rate")
  # audio time moves once a period: up to 50 ms, every step of it moves;
  # with a longer rig period, the steps that move are one period each
  q=$(awk -v p="${JACKRIG_PERIOD:-1024}" 'BEGIN { printf "%.1f", p * 1000 / 48000 }')
  check "events every 50 ms of audio or less, 20 a second or more (median step $med ms, of the steps that moved $medm ms, a period $q ms; $(val events "$tmp/rate") events, $(val rate "$tmp/rate")/s)" \
    awk -v m="$med" -v mm="$medm" -v q="$q" 'BEGIN { exit !(q + 0 <= 50 ? (m != "none" && m + 0 > 0 && m + 0 <= 50) : (mm != "none" && mm + 0 <= q + 0.5)) }'
  check_eq "the events carry the peaks of the tone (the last event read, at $(val peaks_at "$tmp/rate") s of 24)" "$(val peaks "$tmp/rate")" "[0.5,0.25]"
  check_eq "... and no event inside the tone reads silence (a meter read between two periods holds)" "$(val silent "$tmp/rate")" 0

  # ---- a real browser ----------------------------------------------------------
  # tests/sh/monitor_browser.lua drives headless Chromium (DevTools protocol on
  # a pipe): it waits until the page has taken 10 live updates, reads the DOM,
  # and saves the screenshot.
  rm -f "$outdir/monitor.png"
  "$PL" tests/sh/monitor_browser.lua "http://127.0.0.1:$port/" "$top/$outdir/monitor.png" 10 >"$tmp/dom" 2>"$tmp/chrome.err"
  cat "$tmp/dom" | sed 's/^/# /'
  db1=$(val db1 "$tmp/dom"); db2=$(val db2 "$tmp/dom"); pf=$(val peakfreq "$tmp/dom")
  check "Chromium: the page took 10 live updates ($(val updates "$tmp/dom"))" test "$(val updates "$tmp/dom")" -ge 10 2>/dev/null
  check "Chromium: channel 1's meter reads -6 dBFS +- 0.5 (got '$db1')" awk -v d="$db1" 'BEGIN { exit !(d != "" && d + 0 >= -6.5 && d + 0 <= -5.5) }'
  check "Chromium: channel 2's meter reads -12 dBFS +- 0.5 (got '$db2')" awk -v d="$db2" 'BEGIN { exit !(d != "" && d + 0 >= -12.5 && d + 0 <= -11.5) }'
  check "Chromium: the spectrum peaks at 1000 Hz +- one bin of 23.4 Hz (got '$pf')" \
    awk -v f="$pf" 'BEGIN { exit !(f != "" && f - 1000 <= 23.4375 && 1000 - f <= 23.4375) }'
  h1=$(val hold1 "$tmp/dom"); h2=$(val hold2 "$tmp/dom")
  check "Chromium: the peak hold of channel 1 reads -6 dBFS +- 0.5 (got '$h1'), of 2 -12 (got '$h2')" \
    awk -v a="$h1" -v b="$h2" 'BEGIN { exit !(a != "" && a + 0 >= -6.5 && a + 0 <= -5.5 && b != "" && b + 0 >= -12.5 && b + 0 <= -11.5) }'
  check_eq "Chromium: the page names the file being written" "$(val file "$tmp/dom")" "$tmp/rec.wav"
  check "Chromium: ... and its size in bytes (got '$(val size "$tmp/dom")')" test "$(val size "$tmp/dom")" -gt 0 2>/dev/null
  check "Chromium: the elapsed time and the xruns count are shown (got '$(val elapsed "$tmp/dom")' s, '$(val xruns "$tmp/dom")')" \
    sh -c 'printf "%s %s" "$1" "$2" | grep -Eq "^[0-9]+\.[0-9] [0-9]+$" && [ "$1" != 0.0 ]' - "$(val elapsed "$tmp/dom")" "$(val xruns "$tmp/dom")"
  check_eq "Chromium: no CLIP mark lit for a tone at -6 dBFS" "$(val clip1 "$tmp/dom")" clip
  echo 'local i = require("pastream.core").read_png(arg[1]); print(i and (i.width .. "x" .. i.height))' >"$tmp/size.lua"
  check_eq "Chromium: a 1000x640 screenshot kept as $outdir/monitor.png" "$("$PL" "$tmp/size.lua" "$outdir/monitor.png")" 1000x640

  # ---- the client that never read ---------------------------------------------
  wait "$stuck"
  check_eq "the client that never reads is dropped by the server" "$(val stuck_dropped "$tmp/stuck")" yes

  # ---- the recording ----------------------------------------------------------
  wait "$pid"; rc=$?
  pid=
  check_eq "pastream --monitor exits 0" "$rc" 0
  check "... with its summary" grep -q "^pastream: $((n + 8192)) frames" "$tmp/err"
  check_eq "the recording is the tone, bit-exact, through all of it" "$("$PL" "$tmp/cmp.lua" "$tmp/in.wav" "$tmp/rec.wav")" exact
  probe http "$port" >"$tmp/after" 2>&1
  check_eq "the monitor is gone with the stream (connection refused)" "$(val page "$tmp/after")" refused
  exact=$("$PL" "$tmp/cmp.lua" "$tmp/in.wav" "$tmp/rec.wav")
  [ "$exact" = exact ] && rig_ok=1
}
tap_base=$tap_n
scenario_run() { tap_n=$tap_base; scenario >"$tmp/tap" 2>&1; }
through_rig 2 scenario_run
cat "$tmp/tap"

# ---- the terminal's meters stay, beside the page -----------------------------
script -qfec "$PS --monitor=0 -D loopback -d 2 -y $tmp/in.wav $tmp/rec2.wav" /dev/null >"$tmp/tty" 2>&1; rc=$?
check_eq "--monitor in a terminal: exit 0" "$rc" 0
tty=$(tr '\r' '\n' <"$tmp/tty")
check "... the page's address is printed" contains "$tty" "pastream: monitor on http://127.0.0.1:"
# one meter per channel: the tone is at -6 dBFS on channel 1, -12 on 2
lines=$(printf '%s\n' "$tty" | grep -Ec '^[0-9]{2}:[0-9]{2}\.[0-9]/00:02\.0 .* rec +-6\.0/-12\.0dB xruns')
check "... and the status line still meters the tone on each channel: rec -6.0/-12.0dB ($lines lines)" \
  test "$lines" -ge 3
[ "$lines" -ge 3 ] || printf '%s\n' "$tty" | tail -n 12 | sed 's/^/#   | /'

# ---- the recipe: watching an input without recording -----------------------
"$PL" scripts/monitor.lua -D loopback -d 3 -p 0 2>"$tmp/merr" &
mpid=$!
mport=
for i in $(seq 1 100); do
  mport=$(sed -n 's|^monitor on http://127\.0\.0\.1:\([0-9]*\)/$|\1|p' "$tmp/merr")
  [ -n "$mport" ] && break
  sleep 0.1
done
check "monitor.lua says where it listens" test -n "$mport"
probe rate "$mport" 1 >"$tmp/mrate" 2>&1
check "monitor.lua pushes events ($(val events "$tmp/mrate"))" test "$(val events "$tmp/mrate")" -ge 5 2>/dev/null
probe http "$mport" >"$tmp/mhttp" 2>&1
check_eq "monitor.lua: other paths are 404 there too" "$(val traversal1 "$tmp/mhttp") $(val post "$tmp/mhttp")" "404 405"
wait "$mpid"; rc=$?
check_eq "monitor.lua -d 3 exits 0" "$rc" 0

"$PS" --monitor=99999 -D loopback -n 10 NULL "$tmp/x.wav" 2>"$tmp/e"; rc=$?
check_eq "--monitor=99999: a usage error" "$rc" 2
check "... naming the option" grep -q -- "--monitor" "$tmp/e"
echo "# $tap_n checks"
