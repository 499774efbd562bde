#!/usr/bin/env bash
# tests/bench/through.sh: the live through-path, s:process (issue 17,
# point 10): input-to-output latency for chunks of 64, 256 and 1024 frames
# against the plain loopback round trip, and the longest single stall of
# the body with no late frame.  Its own JACK rig (48 kHz, period 1024, as
# the tests use), the loopback device, float32.  Never pass/fail: it prints
# one table (tests/bench/run.sh writes it to tests/bench/through.md).
set -u
cd "$(dirname "$0")/../.." || exit 1
RIG=pastream-bench-through-$$
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pastream-throughbench.XXXXXX") || exit 1
export JACKRIG_DIR=$TMP/rigs
cleanup() { scripts/jackrig.sh stop --name "$RIG" >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log() { printf 'bench through: %s\n' "$*" >&2; }

if ! scripts/jackrig.sh start --name "$RIG" --rate 48000 --period 1024 --probe build/pa_probe >"$TMP/rig.log" 2>&1; then
    log "could not start the rig: $(tail -n 3 "$TMP/rig.log" | tr '\n' ' ')"
    exit 1
fi
eval "$(scripts/jackrig.sh env --name "$RIG")"
echo "# s:process, the live through-path (\`make bench\`, tests/bench/through.sh)"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); JACK dummy, 48000 Hz, period 1024."
echo
./pastream-lua tests/bench/through.lua loopback
