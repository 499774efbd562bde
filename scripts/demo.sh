#!/bin/sh
# make demo: play a tone through the default device and record it back.
# With no sound card, a JACK test rig is started and its loopback used.
set -eu
cd "$(dirname "$0")/.."
device=""
if ! grep -q '[0-9]' /proc/asound/cards 2>/dev/null; then
  echo "no sound card: starting the JACK test rig (scripts/jackrig.sh) and using its loopback device"
  rig=pastream-demo-$$
  scripts/jackrig.sh start --name "$rig" --probe build/pa_probe >/dev/null
  trap 'scripts/jackrig.sh stop --name "$rig" >/dev/null 2>&1' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  eval "$(scripts/jackrig.sh env --name "$rig")"
  device=loopback
fi
./pastream-lua scripts/demo.lua "$device" demo.wav
