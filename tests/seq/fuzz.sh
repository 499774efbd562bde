#!/bin/sh
# make fuzz, the Lua API part: tests/lua/test_sequences.lua for FUZZ_SECONDS
# (default 60) on a rig of its own, from a seed that changes with every run
# (PS_SEQ_SEED to choose; each failure prints its seed and a replay line).
set -u
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-60}
seed=${PS_SEQ_SEED:-$(date +%s)}
rig=seqfuzz-$$
mkdir -p tests/out
scripts/jackrig.sh start --name "$rig" --period 1024 --probe build/pa_probe >tests/out/seqfuzz-rig.log 2>&1 || {
  cat tests/out/seqfuzz-rig.log
  echo "the rig for the sequence fuzzer did not start"
  exit 1
}
trap 'scripts/jackrig.sh stop --name "$rig" >/dev/null 2>&1' EXIT INT TERM
eval "$(scripts/jackrig.sh env --name "$rig")"
echo "sequence fuzzer: seeds from $seed for $seconds s (log: tests/out/seqfuzz.log)"
PS_SEQ_SEED=$seed PS_SEQ_COUNT=${PS_SEQ_COUNT:-1000000} PS_SEQ_SECONDS=$seconds \
  ${PASTREAM_LUA:-./pastream-lua} tests/lua/test_sequences.lua >tests/out/seqfuzz.log 2>&1
rc=$?
grep -E '^(# found|#   |# [0-9]+ sequences)' tests/out/seqfuzz.log | grep -v '^#   at ' | head -200
exit $rc
