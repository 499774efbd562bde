# Faults on private rigs: the JACK server killed mid-stream (the CLI, a
# chunk loop, a signal before the watchdog has fired), the server gone
# before a stream starts, and pastream itself killed with SIGKILL while it
# records.  Each scenario gets a rig of its own, since it kills it.
. tests/sh/tap.sh
PL=${PASTREAM_LUA:-./pastream-lua}
PS=scripts/pastream
tmp=$(mktemp -d)
# One server name for every scenario: JACK keeps a killed server's slot in
# its registry (8 slots in all) until a server of the same name starts.
rigname=pastream-fault-$$
rig=
cleanup() {
  # the last start under this name also frees the slot of the last kill
  [ -z "$rig" ] && scripts/jackrig.sh start --name "$rigname" --probe build/pa_probe >/dev/null 2>&1
  scripts/jackrig.sh stop --name "$rigname" >/dev/null 2>&1
  [ -n "${KEEP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT

# new_rig: start the private rig; sets rig and exports its environment.
new_rig() {
  rig=$rigname
  scripts/jackrig.sh start --name "$rig" --probe build/pa_probe >"$tmp/rig.log" 2>&1 || {
    fail "private rig $rig started" "$(cat "$tmp/rig.log")"
    return 1
  }
  eval "$(scripts/jackrig.sh env --name "$rig")"
  RT=$(rig_roundtrip); export RT    # verify.lua's delay
}
crash_rig() { scripts/jackrig.sh crash --name "$rig" >/dev/null 2>&1; rig=; }
ms() { date +%s%3N; }
# wait_for COND...: up to 10 s
wait_for() { i=0; while [ $i -lt 200 ] && ! "$@"; do sleep 0.05; i=$((i + 1)); done; "$@"; }
bigger_than() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -gt "$2" ]; }

# verify.lua IN OUT: OUT is IN played on loopback and recorded: the first
# `delay` frames silent, every later frame IN's, bit-exact.  Prints the
# frames OUT holds and "exact" or where it differs.
cat >"$tmp/verify.lua" <<'LUA'
local ps = require "pastream"
local inp, out = ps.load(arg[1]), ps.load(arg[2])
local delay = assert(tonumber(os.getenv("RT")), "RT: the rig's round trip")
local n = out:frames()
local ok = n > delay
if ok then
  local zero = ps.Buffer(delay, out:channels())
  ok = out:sub(1, delay):equals(zero)
     and out:sub(delay + 1, n):equals(inp:sub(1, n - delay))
end
print(n, ok and "exact" or "differs")
LUA
sox -R -n -r 48000 -c 2 -e floating-point -b 32 "$tmp/in.wav" synth 30 whitenoise 2>/dev/null

# 1. The server killed while the CLI plays and records.
if new_rig; then
  "$PS" -D loopback "$tmp/in.wav" "$tmp/k1.wav" >"$tmp/o1" 2>"$tmp/e1" &
  pid=$!
  wait_for bigger_than "$tmp/k1.wav" 200000
  scripts/jackrig.sh crash --name "$rig" >"$tmp/crash" 2>&1 &
  cpid=$!
  wait_for grep -q killed "$tmp/crash"
  t0=$(ms)
  timeout 20 sh -c "while kill -0 $pid 2>/dev/null; do sleep 0.01; done"
  took=$(( $(ms) - t0 ))
  wait $cpid; rig=
  wait $pid; rc=$?
  echo "# the CLI ended $took ms after the server was killed"
  check_eq "server killed mid-stream: pastream exits with status 1" "$rc" 1
  check "it says what happened" grep -q '^pastream: DeviceError: the audio device stopped calling back (no audio for [0-9.]* s; was the audio server stopped?) after [0-9]* frames$' "$tmp/e1"
  said=$(sed -n 's/^pastream: \([0-9]*\) frames .*/\1/p' "$tmp/e1")
  set -- $($PL "$tmp/verify.lua" "$tmp/in.wav" "$tmp/k1.wav")
  check_eq "the file is finalized with the frames the summary reports" "$1" "${said:-none}"
  check_eq "every recorded frame is the played one, bit-exact" "$2" exact
fi

# 2. The server killed under a chunk loop: the loop raises the DeviceError.
cat >"$tmp/chunks.lua" <<'LUA'
local ps = require "pastream"
local n = 0
local ok, err = pcall(function()
  for c in ps.chunks{ device = "loopback", chunksize = 256 } do
    n = n + 1
    if n == 50 then io.stdout:write("started\n") io.stdout:flush() end
  end
end)
print(ok, err)
print("chunks", n)
print("value", ps.is(err, ps.DeviceError), type(err) == "table" and err.kind, type(err) == "table" and math.type(err.frames))
LUA
if new_rig; then
  $PL "$tmp/chunks.lua" >"$tmp/o2" 2>"$tmp/e2" &
  pid=$!
  wait_for grep -q started "$tmp/o2"
  crash_rig
  timeout 20 sh -c "while kill -0 $pid 2>/dev/null; do sleep 0.05; done"
  wait $pid; rc=$?
  check_eq "chunk loop: the script goes on after the error (exit 0)" "$rc" 0
  check "chunk loop: the loop raised the DeviceError with the frame count" \
    grep -q '^false.*DeviceError: the audio device stopped calling back .* after [0-9]* frames$' "$tmp/o2"
  check_eq "chunk loop: the error is a value: ps.is(err, ps.DeviceError), err.kind, err.frames" \
    "$(sed -n 's/^value\t//p' "$tmp/o2")" "$(printf 'true\tDeviceError\tinteger')"
fi

# 3. The server killed, then SIGINT before the watchdog fires: stopping
# must not wait for ever in PortAudio.
if new_rig; then
  "$PS" -D loopback null "$tmp/k3.wav" >"$tmp/o3" 2>"$tmp/e3" &
  pid=$!
  wait_for bigger_than "$tmp/k3.wav" 100000
  scripts/jackrig.sh crash --name "$rig" >"$tmp/crash" 2>&1 &
  cpid=$!
  wait_for grep -q killed "$tmp/crash"
  kill -INT $pid
  wait $cpid; rig=""
  timeout 20 sh -c "while kill -0 $pid 2>/dev/null; do sleep 0.05; done"
  wait $pid; rc=$?
  check_eq "SIGINT right after the server died: pastream ends with status 130" "$rc" 130
  said=$(sed -n 's/^pastream: interrupted (SIGINT) after \([0-9]*\) frames .*/\1/p' "$tmp/e3")
  check_eq "SIGINT after the server died: the file holds the frames reported" \
    "$(soxi -s "$tmp/k3.wav" 2>/dev/null)" "${said:-none}"
fi

# 4. The server gone between opening a stream and starting it.
cat >"$tmp/late.lua" <<'LUA'
local ps = require "pastream"
local s = ps.DuplexStream{ device = "loopback" }
io.stdout:write("opened\n") io.stdout:flush()
while not io.open(arg[1]) do ps.sleep(0.02) end
local ok, err = pcall(function()
  s:start()
  s:wait()
end)
print(ok, err)
s:close()
print("closed")
LUA
if new_rig; then
  $PL "$tmp/late.lua" "$tmp/go" >"$tmp/o4" 2>"$tmp/e4" &
  pid=$!
  wait_for grep -q opened "$tmp/o4"
  crash_rig
  touch "$tmp/go"
  timeout 20 sh -c "while kill -0 $pid 2>/dev/null; do sleep 0.05; done"
  wait $pid; rc=$?
  check_eq "server gone before start: the script ends normally" "$rc" 0
  [ "$rc" -eq 0 ] || sed 's/^/#   | /' "$tmp/o4" "$tmp/e4"
  check "server gone before start: start or wait raises a clear error" \
    grep -Eq '^false.*(DeviceError: the audio device stopped calling back|cannot start the stream on)' "$tmp/o4"
  check "server gone before start: the stream closes" grep -q '^closed$' "$tmp/o4"
fi

# 5. pastream killed with SIGKILL while it records: the file is readable up
# to its last periodic header update (once a second), every frame exact.
if new_rig; then
  "$PS" -q -D loopback "$tmp/in.wav" "$tmp/k5.wav" 2>"$tmp/e5" &
  pid=$!
  wait_for bigger_than "$tmp/k5.wav" 700000     # past the first header update
  kill -KILL $pid
  wait $pid; rc=$?
  check_eq "SIGKILL: pastream died of it" "$rc" 137
  set -- $($PL "$tmp/verify.lua" "$tmp/in.wav" "$tmp/k5.wav")
  check "SIGKILL: the file opens and holds frames ($1)" [ "${1:-0}" -gt 0 ]
  check_eq "SIGKILL: the frames its header counts are the played ones, bit-exact" "$2" exact
fi

# 6. The server paused (SIGSTOP) for a moment under a recording with
# fatal_xruns: the XRun it reports afterwards ends the run, as an error
# value.  Then paused for longer than the watchdog under another stream:
# the stream is given up on (DeviceError), the server goes on (SIGCONT)
# and may call the abandoned engine back, which must find it still there
# (the engine memory of an abandoned stream is kept for good: a freed one
# would be a use after free, which make asan's run of this test reports).
cat >"$tmp/pause.lua" <<'LUA'
local ps = require "pastream"
local function show(tag, ok, err)
  print(tag, ok, ps.is(err, ps.XRun), ps.is(err, ps.DeviceError), type(err) == "table" and err.kind,
    type(err) == "table" and math.type(err.frames)) io.stdout:flush()
end
local s <close> = ps.InputStream{ device = "loopback" }
s:record{ frames = 48000 * 20, fatal_xruns = true, blocking = false }
print("started") io.stdout:flush()
show("xrun", pcall(s.wait, s, 30))
local w = ps.InputStream{ device = "loopback", watchdog = 0.3 }
w:record{ frames = 48000 * 20, blocking = false }
print("started2") io.stdout:flush()
show("gone", pcall(w.wait, w, 30))
while not io.open(arg[1]) do ps.sleep(0.02) end   -- the server runs again
ps.sleep(0.5)                                     -- and calls back meanwhile
w:close()
print("closed") io.stdout:flush()
LUA
if new_rig; then
  jpid=$(scripts/jackrig.sh status --name "$rig" | sed -n 's/.*(pid \([0-9]*\)).*/\1/p')
  $PL "$tmp/pause.lua" "$tmp/cont" >"$tmp/o6" 2>"$tmp/e6" &
  pid=$!
  wait_for grep -q '^started$' "$tmp/o6"
  kill -STOP "$jpid"; sleep 0.3; kill -CONT "$jpid"
  wait_for grep -q '^started2$' "$tmp/o6"
  kill -STOP "$jpid"
  wait_for grep -q '^gone' "$tmp/o6"
  kill -CONT "$jpid"
  touch "$tmp/cont"
  timeout 20 sh -c "while kill -0 $pid 2>/dev/null; do sleep 0.05; done"
  wait $pid; rc=$?
  check_eq "fatal_xruns, the server paused: the run ends with an XRun error value (ps.is, kind, frames)" \
    "$(grep '^xrun' "$tmp/o6")" "$(printf 'xrun\tfalse\ttrue\tfalse\tXRun\tinteger')"
  check_eq "watchdog, the server paused for longer: a DeviceError value" \
    "$(grep '^gone' "$tmp/o6")" "$(printf 'gone\tfalse\tfalse\ttrue\tDeviceError\tinteger')"
  check_eq "... the server resumed under the abandoned stream: it closes, the script ends normally" \
    "$rc $(grep -c '^closed$' "$tmp/o6")" "0 1"
  [ "$rc" -eq 0 ] || sed 's/^/#   | /' "$tmp/o6" "$tmp/e6"
  crash_rig
fi

echo "# $tap_n checks"
