# Where users' audio runs besides one JACK server: the loopback checks on
# PortAudio's ALSA host API through the JACK PCM plugin (scripts/alsarig.sh),
# on a JACK server that is a netjack2 slave of another, across a veth pair
# between two network namespaces (scripts/netjackrig.sh), and on PipeWire's
# JACK library with a null sink as the loopback (scripts/pwrig.sh).  One rig
# at a time, each stopped before the next starts.  On each: the bit-exact
# loopback (scripts/loopback-check.lua), a
# frame-counter playrec, a record-while-playing and a playrec from one WAV
# file into another through the disk threads (tests/sh/test_paths_run.lua,
# damage accounted for by reported xruns as in tests/lowlatency.lua), the
# device queries on the rig's real device list (tests/lua/test_devname.lua),
# and a longer run: 15 s at 48 kHz on ALSA, 10 s on netjack2 and PipeWire.
# About 100 s in all.  The rigs run at periods of about 21 ms (1024 frames
# at 48 kHz), which the machine's stalls do not break.  The 10-minute soaks
# at 384 kHz on each path are tests/sh/test_soak_{alsa,netjack,pipewire}.sh.
# The ALSA rig's JACK PCM loops back through two in-process clients, not
# the server's loopback ports (scripts/alsarig.sh, "The loop"): through
# those, the PCM's two clients raced, and now and then a period came back a
# cycle early with no xrun anywhere, which these tests once ran again for.
#
# The round trip: each rig's delay as the audio shows it (loopback-check's
# "delay N frames" and the counter's first frame agree, which is checked)
# is printed beside PortAudio's figure (stream:roundtrip_frames()):
#   "# ROUND TRIP rig: measured N frames, PortAudio says M".
# PortAudio's figure is wrong on netjack2 and PipeWire (on the ALSA rig it
# is right); the numbers are printed, not checked.  The measured figure (stream:measure_roundtrip) is
# checked: latency.lua's is the counter's delay, and playrec.lua --align,
# which uses it, records a file that is the one played, every sample.
#
# PATHS_QUICK=1 (tests/sh/test_paths_quick.sh, in make check): on each rig
# loopback-check.lua (2 s, bit-exact), a 2 s counter playrec and a 2 s
# recording while another stream plays (every frame checked, damage
# accounted for), their delays compared, the measured round trip,
# playrec.lua --align, and on PipeWire the start with no silence first; no
# file, device-query or longer runs (make check-paths runs them all).
. tests/sh/tap.sh
PL=${PASTREAM_LUA:-./pastream-lua}
quick=${PATHS_QUICK:-}
full() { [ -z "$quick" ]; }
secs=3; [ -z "$quick" ] || secs=2       # the counter's runs
tmp=$(mktemp -d)
export JACKRIG_DIR="$tmp/rigs"
tag=$$
rigs=
cleanup() {
  for r in $rigs; do
    case $r in
      alsa:*) scripts/alsarig.sh stop --name "${r#alsa:}" ;;
      net:*) scripts/netjackrig.sh stop --name "${r#net:}" ;;
      pw:*) scripts/pwrig.sh stop --name "${r#pw:}" ;;
    esac >/dev/null 2>&1
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# xruns_in LOG...: the xrun lines the servers' logs hold so far
# (none: 0; cat with no file would read stdin)
xruns_in() { if [ $# -eq 0 ]; then echo 0; else cat "$@" 2>/dev/null | grep -ci -e 'xrun' -e 'client too slow' || true; fi; }

# lua_run NAME LOGS -- COMMAND...: run a TAP-printing command; a run that
# fails while the servers logged an xrun runs again (the rig's fault,
# reported as such), three runs at most.  Its lines are printed; its status
# is kept in $st.
lua_run() {
  name=$1; logs=$2; shift 3
  try=1
  while :; do
    x0=$(xruns_in $logs)
    "$@" >"$tmp/out" 2>&1; st=$?
    [ "$st" -ne 0 ] && [ "$try" -lt 3 ] || break
    if [ "$(xruns_in $logs)" -gt "$x0" ]; then
      echo "# $name: the server logged xrun(s) during a run that failed: running it again"
    else
      break
    fi
    try=$((try + 1))
  done
  cat "$tmp/out"
}

# lua_tap NAME LOGS -- COMMAND...: lua_run, and a crash or an error that
# printed no failed check counts once
lua_tap() {
  lua_run "$@"
  [ "$st" -eq 0 ] || grep -q '^not ok' "$tmp/out" || fail "$1: exited with status $st" "$(tail -n 5 "$tmp/out")"
}

# loopback RIG DEVICE LOGS: loopback-check.lua bit-exact; sets lc_delay
loopback() {
  lua_run "$1 loopback-check" "$3" -- "$PL" scripts/loopback-check.lua -D "$2" -d 2
  lc_delay=$(sed -n 's/.*, delay \([0-9]*\) frames.*/\1/p' "$tmp/out")
  check "$1: loopback-check.lua through '$2': every frame bit-exact" grep -q ': PASS$' "$tmp/out"
}

# counter RIG DEVICE SECONDS LOGS: playrec and split runs; sets ct_delay, pa_rt
counter() {
  lua_tap "$1 playrec" "$4" -- "$PL" tests/sh/test_paths_run.lua "$2" playrec "$3" "$1" $4
  ct_delay=$(sed -n 's/^delay \([0-9]*\) portaudio .*/\1/p' "$tmp/out")
  pa_rt=$(sed -n 's/^delay [0-9]* portaudio \([0-9]*\)$/\1/p' "$tmp/out")
  lua_tap "$1 split" "$4" -- "$PL" tests/sh/test_paths_run.lua "$2" split "$3" "$1" $4
  full || return 0
  lua_tap "$1 file" "$4" -- env TMPDIR="$tmp" "$PL" tests/sh/test_paths_run.lua "$2" file "$3" "$1-file" $4
  fl_delay=$(sed -n 's/^delay \([0-9]*\) portaudio .*/\1/p' "$tmp/out")
  check_eq "$1: the delay through files is the delay through Buffers" "$fl_delay" "$ct_delay"
}

devnames() {
  full || return 0
  lua_tap "$1 devname" "" -- env PATHS_RIG="$1" "$PL" tests/lua/test_devname.lua
}

roundtrip() {   # RIG RATE
  echo "# ROUND TRIP $1: measured ${ct_delay:-?} frames ($(awk "BEGIN{printf \"%.1f\", ${ct_delay:-0} * 1000 / $2}") ms), PortAudio says ${pa_rt:-?}"
}

# aligned RIG DEVICE LOGS: the measured round trip (stream:measure_roundtrip)
# is the delay the counter found, and the recipes use it: latency.lua prints
# it beside PortAudio's figure, and playrec.lua --align records a file that
# lines up with the one played, every sample (with PortAudio's figure it
# would be a period or more off on these paths).  A recording that comes
# back damaged runs again (three runs at most) when the servers logged an
# xrun meanwhile.
aligned() {
  out=$("$PL" scripts/latency.lua -D "$2" 2>&1)
  echo "# $1: $out"
  m=$(printf '%s\n' "$out" | sed -n 's/^latency: measured \([0-9]*\) frames .*PortAudio reports .*/\1/p')
  check_eq "$1: latency.lua's measured round trip is the counter's delay" "$m" "$ct_delay"
  try=1
  while :; do
    rm -f "$tmp/back.wav"
    x0=$(xruns_in $3)
    "$PL" scripts/playrec.lua "$tmp/noise.wav" "$tmp/back.wav" -D "$2" --align >"$tmp/pr.out" 2>&1; st=$?
    eq=$("$PL" "$tmp/same.lua" "$tmp/noise.wav" "$tmp/back.wav" 2>&1)
    [ "$eq" != same ] && [ "$try" -lt 3 ] || break
    if [ "$(xruns_in $3)" -gt "$x0" ]; then
      echo "# $1 playrec.lua --align: the server logged xrun(s) during a run that came back wrong ($eq): running it again"
    else
      break
    fi
    try=$((try + 1))
  done
  sed 's/^/# /' "$tmp/pr.out"
  check_eq "$1: playrec.lua --align: exit 0, OUT is IN, every sample" "$st $eq" "0 same"
  check "$1: playrec.lua --align used the measured round trip" grep -q "round trip $ct_delay frames, measured;" "$tmp/pr.out"
}

# the file played by playrec.lua: half a second of stereo noise at 48 kHz
cat >"$tmp/same.lua" <<'LUA'
local ps = require "pastream"
if arg[1] == "make" then
  local b, x = ps.Buffer(24000, 2, "float32"), 7
  for f = 1, 24000 do
    for c = 1, 2 do x = (x * 1103515245 + 12345) % 2147483648 b:sample(f, c, (x / 2147483648 - 0.5) * 0.5) end
  end
  assert(ps.save(arg[2], b, 48000))
  return
end
local a, b = assert(ps.load(arg[1])), assert(ps.load(arg[2]))
if a:frames() ~= b:frames() then print(string.format("frames %d, not %d", b:frames(), a:frames())) return end
for f = 1, a:frames() do
  for c = 1, a:channels() do
    if a:sample(f, c) ~= b:sample(f, c) then print(string.format("differs from frame %d", f)) return end
  end
end
print("same")
LUA
"$PL" "$tmp/same.lua" make "$tmp/noise.wav"

# the rig scripts refuse a rate that is no number, naming it, and start nothing
out=$(scripts/netjackrig.sh start --name "p-bad-$tag" --rate 48k 2>&1); st=$?
check_eq "netjackrig.sh --rate 48k: refused" "$st:$out" "1:netjackrig.sh: bad rate '48k'"
check "... and nothing of the rig left" test ! -e "$JACKRIG_DIR/p-bad-$tag.net"
out=$(scripts/netjackrig.sh start --name "p-bad-$tag" --slave-mode fast 2>&1); st=$?
check_eq "netjackrig.sh --slave-mode fast: refused" "$st:$out" "1:netjackrig.sh: bad --slave-mode 'fast' (sync, async)"
check "... and nothing of the rig left" test ! -e "$JACKRIG_DIR/p-bad-$tag.net"

# ---- ALSA through the JACK PCM plugin ---------------------------------------
r=p-alsa-$tag
rigs="$rigs alsa:$r"
if scripts/alsarig.sh start --name "$r" --period 1024 --probe build/pa_probe >"$tmp/rig.log" 2>&1; then
  ok "ALSA rig started (JACK PCM 'rigjack' on a private ALSA_CONFIG_PATH)"
  (
    eval "$(scripts/alsarig.sh env --name "$r")"
    export PATHS_PERIOD=1024
    log=$(scripts/jackrig.sh log --name "$r")
    "$PL" scripts/devices.lua | grep -q ' rigjack  *ALSA ' ; check_eq "ALSA: 'rigjack' listed under the ALSA host API" $? 0
    loopback alsa rigjack "$log"
    counter alsa rigjack $secs "$log"
    check_eq "alsa: the counter's delay is loopback-check's" "$ct_delay" "$lc_delay"
    roundtrip alsa 48000
    aligned alsa rigjack "$log"
    devnames alsa
  )
else
  fail "ALSA rig started" "$(cat "$tmp/rig.log")"
fi
scripts/alsarig.sh stop --name "$r" >/dev/null 2>&1

# the soak: 15 s at 48 kHz
if full; then
r=p-alsa-soak-$tag
rigs="$rigs alsa:$r"
if scripts/alsarig.sh start --name "$r" --period 1024 --probe build/pa_probe >"$tmp/rig.log" 2>&1; then
  (
    eval "$(scripts/alsarig.sh env --name "$r")"
    export PATHS_PERIOD=1024
    log=$(scripts/jackrig.sh log --name "$r")
    lua_tap "alsa soak" "$log" -- "$PL" tests/sh/test_paths_run.lua rigjack playrec 15 alsa-soak "$log"
  )
else
  fail "ALSA rig for the soak started" "$(cat "$tmp/rig.log")"
fi
scripts/alsarig.sh stop --name "$r" >/dev/null 2>&1
fi

# ---- netjack2: master and slave in two network namespaces ------------------
r=p-net-$tag
rigs="$rigs net:$r"
if scripts/netjackrig.sh start --name "$r" --period 1024 --probe build/pa_probe >"$tmp/rig.log" 2>&1; then
  cat "$tmp/rig.log" | sed 's/^/# /'
  ok "netjack2 rig started"
  check "netjack2: the slave runs synchronous, as its log says (an asynchronous one can hand a late client the next cycle's input unreported)" \
    grep -q "NetDriver started in sync mode" "$JACKRIG_DIR/$r.net/slave.log"
  (
    eval "$(scripts/netjackrig.sh env --name "$r")"
    export PATHS_PERIOD=1024
    logs="$JACKRIG_DIR/$r.net/master.log $JACKRIG_DIR/$r.net/slave.log"
    loopback netjack system "$logs"
    counter netjack system $secs "$logs"
    check_eq "netjack: the counter's delay is loopback-check's" "$ct_delay" "$lc_delay"
    roundtrip netjack 48000
    aligned netjack system "$logs"
    devnames netjack
    # the start with no silence first: nothing lost (the slave runs
    # synchronous, where the first period PortAudio plays after its start
    # never reached the network until the stream sat out its first period)
    lua_tap "netjack start" "$logs" -- env PATHS_LEAD=0 "$PL" tests/sh/test_paths_run.lua system playrec 1 netjack-start $logs
    full && lua_tap "netjack soak" "$logs" -- "$PL" tests/sh/test_paths_run.lua system playrec 10 netjack-soak $logs
  )
else
  fail "netjack2 rig started" "$(cat "$tmp/rig.log")"
fi
scripts/netjackrig.sh stop --name "$r" >/dev/null 2>&1

# ---- PipeWire's JACK library on a headless daemon ---------------------------
# (PortAudio's round trip is 2^33 - 2048 frames here, pipewire-jack's port
# latencies as PortAudio reads them; loopback-check.lua took its margin from
# it and asked for a buffer of 34 G frames, until it measured the round trip.)
r=p-pw-$tag
rigs="$rigs pw:$r"
if scripts/pwrig.sh start --name "$r" --period 1024 >"$tmp/rig.log" 2>&1; then
  ok "PipeWire rig started"
  (
    eval "$(scripts/pwrig.sh env --name "$r")"
    export PATHS_PERIOD=1024
    log=$(scripts/pwrig.sh log --name "$r")
    loopback pipewire "null sink" "$log"
    counter pipewire "pastream rig null sink" $secs "$log"
    check "pipewire: the counter found the delay" test -n "$ct_delay"
    check_eq "pipewire: the counter's delay is loopback-check's" "$ct_delay" "$lc_delay"
    roundtrip pipewire 48000
    aligned pipewire "null sink" "$log"
    devnames pipewire
    # the start with no silence first: nothing lost, the stream sits out
    # the links' first cycles (see test_paths_run.lua: pipewire-jack links
    # after jack_connect returns; CI saw playrec.lua --align lose a period)
    lua_tap "pipewire start" "$log" -- env PATHS_LEAD=0 "$PL" tests/sh/test_paths_run.lua "null sink" playrec 1 pipewire-start "$log"
    full && lua_tap "pipewire soak" "$log" -- "$PL" tests/sh/test_paths_run.lua "null sink" playrec 10 pipewire-soak "$log"
  )
else
  fail "PipeWire rig started" "$(cat "$tmp/rig.log")"
fi
scripts/pwrig.sh stop --name "$r" >/dev/null 2>&1
