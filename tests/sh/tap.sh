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

# rig_xruns: the xruns the test rig's own JACK server has logged so far
# (scripts/jackrig.sh xruns; run from the top of the tree).
rig_xruns() { scripts/jackrig.sh xruns --name "${JACK_DEFAULT_SERVER:-pastream-rig}" 2>/dev/null || echo 0; }
# through_rig TRIES FN: run FN, which sets rig_ok=1 when the audio it sent
# through the rig came back bit-exact.  Under load a JACK2 server can run a
# cycle with a late client and tell no client, so that one period comes
# back from the wrong cycle with 0 xruns on both sides; its own log says so.
# FN runs again (up to TRIES runs) only when it failed AND the server logged
# an xrun meanwhile; a failure with a clean server log is final.
through_rig() {
  tries=$1; shift
  while :; do
    x0=$(rig_xruns); rig_ok=0
    "$@"
    x1=$(rig_xruns)
    [ "$rig_ok" = 1 ] && return 0
    tries=$((tries - 1))
    [ "$x1" -gt "$x0" ] && [ "$tries" -gt 0 ] || return 1
    echo "# the rig's JACK server logged $((x1 - x0)) xrun(s) during a run that came back wrong: running it again"
  done
}
