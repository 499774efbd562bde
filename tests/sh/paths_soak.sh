# The soak on the other audio paths (sourced by tests/sh/test_soak_alsa.sh,
# test_soak_netjack.sh and test_soak_pipewire.sh, one rig each, so that
# tests/run.sh can put them in different lanes): 10 minutes of 48 kHz
# audio (28.8 M frames, about 75 s) on a rig of the path at 384 kHz, period
# $PS_FAST_PERIOD (default 8192, about 21 ms), through stream:chunks{} with
# every sample checked (tests/sh/test_paths_soak.lua, tests/lua/soak.lua):
# the signal back at the measured round trip, no frame lost, every damaged
# period accounted for by an xrun the stream or a server's log reported,
# resident memory flat.  PS_SOAK_MINUTES (of 48 kHz audio) changes the length.
#   soak_on alsa|netjack|pipewire
. tests/sh/tap.sh
PL=${PASTREAM_LUA:-./pastream-lua}
tmp=$(mktemp -d)
export JACKRIG_DIR="$tmp/rigs"
soak_rig=
soak_cleanup() {
  case $soak_rig in
    alsa:*) scripts/alsarig.sh stop --name "${soak_rig#alsa:}" ;;
    net:*) scripts/netjackrig.sh stop --name "${soak_rig#net:}" ;;
    pw:*) scripts/pwrig.sh stop --name "${soak_rig#pw:}" ;;
  esac >/dev/null 2>&1
  rm -rf "$tmp"
}
trap soak_cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

soak_on() {
  path=$1
  minutes=${PS_SOAK_MINUTES:-10}
  period=${PS_FAST_PERIOD:-8192}
  case $period in ''|*[!0-9]*) period=8192 ;; esac
  r=soak-$path-$$
  case $path in
    alsa) soak_rig=alsa:$r; start="scripts/alsarig.sh start --name $r --rate 384000 --period $period --probe build/pa_probe" ;;
    netjack) soak_rig=net:$r; start="scripts/netjackrig.sh start --name $r --rate 384000 --period $period --probe build/pa_probe" ;;
    pipewire) soak_rig=pw:$r; start="scripts/pwrig.sh start --name $r --rate 384000 --period $period" ;;
  esac
  if ! $start >"$tmp/rig.log" 2>&1; then
    fail "$path: the rig at 384 kHz started" "$(tail -n 5 "$tmp/rig.log")"
    return
  fi
  ok "$path: the rig at 384 kHz, period $period, started"
  (
    case $path in
      alsa) eval "$(scripts/alsarig.sh env --name "$r")"; dev=rigjack; logs=$(scripts/jackrig.sh log --name "$r") ;;
      netjack) eval "$(scripts/netjackrig.sh env --name "$r")"; dev=system
        logs="$JACKRIG_DIR/$r.net/master.log $JACKRIG_DIR/$r.net/slave.log" ;;
      pipewire) eval "$(scripts/pwrig.sh env --name "$r")"; dev="null sink"; logs=$(scripts/pwrig.sh log --name "$r") ;;
    esac
    # shellcheck disable=SC2086
    "$PL" tests/sh/test_paths_soak.lua "$dev" "$minutes" "$path" "$period" $logs >"$tmp/out" 2>&1
    st=$?
    cat "$tmp/out"
    [ "$st" -eq 0 ] || grep -q '^not ok' "$tmp/out" || fail "$path: the soak exited with status $st" "$(tail -n 5 "$tmp/out")"
  )
}
