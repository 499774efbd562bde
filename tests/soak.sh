#!/bin/sh
# make soak: the full soak (tests/lua/soak.lua) on its own 384 kHz rig: by
# default one hour of 48 kHz audio (172.8 M frames, under 8 minutes of wall
# time), every sample checked.  SOAK_SECONDS or SOAK_FRAMES change the
# length, SOAK_RIG the rig's name.  Prints the figures and TAP lines; fails
# on a lost or changed frame or resident memory growing by 1 MB or more.
set -u
cd "$(dirname "$0")/.."
rig=${SOAK_RIG:-pastream-soak-$$}
mkdir -p tests/out
scripts/jackrig.sh start --name "$rig" --rate 384000 --period "${SOAK_PERIOD:-auto}" --probe build/pa_probe \
  >tests/out/soak-rig.log 2>&1 || { cat tests/out/soak-rig.log; echo "the soak rig did not start"; exit 1; }
trap 'scripts/jackrig.sh stop --name "$rig" >/dev/null 2>&1' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
eval "$(scripts/jackrig.sh env --name "$rig")"
start=$(date +%s)
./pastream-lua tests/lua/soak.lua 2>&1 | tee tests/out/soak.log
rc=0   # the pipeline reports tee: the log decides
grep -q '^not ok' tests/out/soak.log && rc=1
grep -q '^ok ' tests/out/soak.log || rc=1
echo "soak: $(( $(date +%s) - start ))s wall, $(grep -c '^ok ' tests/out/soak.log) passed, $(grep -c '^not ok ' tests/out/soak.log) failed"
exit $rc
