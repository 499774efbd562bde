# TAP helpers for shell tests: source this file.
tap_n=0
ok()   { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
fail() { tap_n=$((tap_n + 1)); echo "not ok $tap_n - $1"; [ $# -gt 1 ] && echo "#   $2"; }
# check NAME COMMAND...: ok when the command succeeds
check() { name=$1; shift; if "$@"; then ok "$name"; else fail "$name" "failed: $*"; fi; }
# check_eq NAME GOT WANT
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', want '$3'"; fi; }
# contains TEXT PATTERN: fixed-string match
contains() { printf '%s' "$1" | grep -qF -- "$2"; }

# wait_until SECONDS COMMAND...: run COMMAND every 0.05 s until it
# succeeds, for at most SECONDS (a hang guard, not a verdict); fails if it
# never did.  A test acts once a process has got somewhere (a file holds
# data, a device is open), never after a fixed sleep that a slow or
# stalled machine may not honour.
wait_until() {
  wu_n=$(($1 * 20)); shift
  while ! "$@"; do
    [ "$wu_n" -le 0 ] && return 1
    wu_n=$((wu_n - 1)); sleep 0.05
  done
}
# bigger PATH BYTES: PATH exists and holds more than BYTES
bigger() { [ "$(stat -c %s "$1" 2>/dev/null || echo -1)" -gt "$2" ]; }
# jack_client NAME: the rig's JACK server has a client NAME with ports
# (pastream's is pastream-PID: src/device.c), as PortAudio lists it
jack_client() { "${PS_BUILD:-build}/pa_probe" "$1"; }

# rig_xruns: the xruns the test rig's own JACK server has logged so far
# (scripts/jackrig.sh xruns; run from the top of the tree).
rig_xruns() { scripts/jackrig.sh xruns --name "${JACK_DEFAULT_SERVER:-pastream-rig}" 2>/dev/null || echo 0; }
# through_rig TRIES FN: run FN, which sets rig_ok=1 when the audio it sent
# through the rig came back bit-exact, or rig_fault=1 when it came back
# wrong only in the shape the rig itself causes with two clients (a period
# of a channel one cycle early or late, or torn: the clients' order in the
# JACK graph races now and then, with no xrun anywhere; two plain PortAudio
# programs see it too, see README "Tests and the test rig").  Under load a
# JACK2 server can also run a cycle with a late client and tell no client;
# its own log says so.  FN runs again (up to TRIES runs) only after one of
# those two; any other failure is final.
through_rig() {
  tries=$1; shift
  while :; do
    x0=$(rig_xruns); rig_ok=0; rig_fault=0
    "$@"
    x1=$(rig_xruns)
    [ "$rig_ok" = 1 ] && return 0
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    if [ "$x1" -gt "$x0" ]; then
      echo "# the rig's JACK server logged $((x1 - x0)) xrun(s) during a run that came back wrong: running it again"
    elif [ "$rig_fault" = 1 ]; then
      echo "# the audio came back one period off in places (${got:-}), the rig's two-client race: running it again"
    else
      return 1
    fi
  done
}

# rig_roundtrip: the round trip of the rig's loopback device in frames, as
# the running stream reports it (one JACK period at blocksize 0).  Tests
# take every delay and pad from it, never from a period they assume.
rig_roundtrip() {
  ${PASTREAM_LUA:-./pastream-lua} -e 'local s = require("pastream").DuplexStream{ device = "loopback" }
    print(s:roundtrip_frames()) s:close()'
}

# The CLI tests' setting: PS the CLI, PL the host, $tmp a private directory
# removed at exit.
cli_setup() {
  PS=scripts/pastream
  PL=${PASTREAM_LUA:-./pastream-lua}
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
}
