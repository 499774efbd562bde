#!/usr/bin/env bash
# tests/bench/alsa.sh: what PortAudio's ALSA host API costs a program that
# records from JACK, with and without libasound2-plugins' PCMs visible
# (issue 19, point 6).  Never pass/fail: it prints one table.
#
# Three configurations of ALSA, all on the same JACK rig (48 kHz, period
# 1024, its own server):
#   bare     the machine's ALSA configuration without the plugins;
#   plugins  as if libasound2-plugins were installed: its alsa.conf.d files
#            read after alsa.conf (ALSA_CONFIG_PATH) and its modules loaded
#            from the copy scripts/install-deps.sh unpacks (ALSA_PLUGIN_DIR);
#            a system-wide install gives the same;
#   hidden   the plugins installed, and ALSA_CONFIG_PATH naming the
#            system's alsa.conf without the hook that loads conf.d and
#            asoundrc: ALSA then has no plugin PCM to probe, and loads no
#            plugin library;
#   named    the plugins installed as on a machine with the package (an
#            ALSA top directory, ALSA_CONFIG_DIR, whose alsa.conf's hook
#            also loads their configuration) and the device named on its
#            host API, jack:system: pastream-lua itself then gives ALSA the
#            configuration of `hidden` (src/device.h, ps_pa_spare_alsa).
# For each: `pastream -l` (mean of RUNS runs), and a 16 s stereo float32
# recording of the rig's system:capture ports (tests/bench/record.lua)
# beside jack_capture's: CPU (wait4 rusage, build/bench/runstat), private
# dirty and private clean memory (smaps_rollup 2 s before the end).
#   ALSA_BENCH_SECONDS (16), ALSA_BENCH_RUNS (10)
set -u
cd "$(dirname "$0")/../.." || exit 1
SECONDS_REC=${ALSA_BENCH_SECONDS:-16}
RUNS=${ALSA_BENCH_RUNS:-10}
RIG=pastream-bench-alsa-$$
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pastream-alsabench.XXXXXX") || exit 1
export JACKRIG_DIR=$TMP/rigs
cleanup() { scripts/jackrig.sh stop --name "$RIG" >/dev/null 2>&1; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log() { printf 'bench alsa: %s\n' "$*" >&2; }

[ -x build/bench/runstat ] || { log "build/bench/runstat missing: run 'make bench'"; exit 1; }
plug=${PS_ALSA_PLUGINS:-build/alsa-plugins}
plugdir=$(ls -d "$plug"/usr/lib/*/alsa-lib 2>/dev/null | head -n 1)
confd=$plug/usr/share/alsa/alsa.conf.d
if [ -z "$plugdir" ] || [ ! -d "$confd" ]; then
    log "no unpacked libasound2-plugins in $plug: run scripts/install-deps.sh bench"; exit 1
fi
plugdir=$(cd "$plugdir" && pwd)
sysconf=${ALSA_CONF:-/usr/share/alsa/alsa.conf}
with=$sysconf
for f in "$confd"/*.conf; do with=$with:$(cd "$(dirname "$f")" && pwd)/$(basename "$f"); done
# the system's alsa.conf without its first hook, which loads conf.d (where
# the plugins' PCMs are declared) and the users' asoundrc; an empty file
# instead makes PortAudio 19.6 abort (pa_linux_alsa.c BuildDeviceList:
# "Assertion `devIdx < numDeviceNames' failed")
awk 'BEGIN { skip = 0 } /^@hooks \[/ { skip = 1 } skip && /^\]/ { skip = 0; next } !skip' \
    "$sysconf" >"$TMP/jackonly.conf"

# named: an ALSA top directory like the system's whose alsa.conf's first
# hook also loads the plugins' configuration (as /etc/alsa/conf.d does
# where the package is installed)
mkdir "$TMP/alsa"
for d in "$(dirname "$sysconf")"/*; do ln -s "$d" "$TMP/alsa/"; done
rm "$TMP/alsa/alsa.conf"
awk -v d="$(cd "$confd" && pwd)" \
    '{ print } /^@hooks \[/ { h = 1 } h && /files \[/ { print "\t\t\t\"" d "\""; h = 0 }' \
    "$sysconf" >"$TMP/alsa/alsa.conf"

# cfg_env CONFIG: the environment of that configuration, as env arguments
cfg_env() {
    case $1 in
        bare) echo "ALSA_CONFIG_PATH=$sysconf" ;;
        plugins) echo "ALSA_CONFIG_PATH=$with ALSA_PLUGIN_DIR=$plugdir" ;;
        hidden) echo "ALSA_CONFIG_PATH=$TMP/jackonly.conf ALSA_PLUGIN_DIR=$plugdir" ;;
        named) echo "ALSA_CONFIG_DIR=$TMP/alsa ALSA_PLUGIN_DIR=$plugdir" ;;
    esac
}

if ! scripts/jackrig.sh start --name "$RIG" --period 1024 --probe build/pa_probe >"$TMP/rig.log" 2>&1; then
    log "the rig did not start:"; cat "$TMP/rig.log" >&2; exit 1
fi
eval "$(scripts/jackrig.sh env --name "$RIG")"

# measure NAME COMMAND...: one run; prints "cpu priv_dirty_kb priv_clean_kb"
measure() {
    local name=$1; shift
    rm -f "$TMP/out.wav"
    build/bench/runstat -i 100 -o "$TMP/stat" -- "$@" >"$TMP/run.out" 2>&1 &
    local rs=$! pid= i
    for i in $(seq 50); do pid=$(pgrep -P "$rs" | head -n 1); [ -n "$pid" ] && break; sleep 0.05; done
    sleep $((SECONDS_REC - 2))
    local dirty=? clean=?
    if [ -n "$pid" ] && [ -r "/proc/$pid/smaps_rollup" ]; then
        dirty=$(awk '/^Private_Dirty:/ {print $2}' "/proc/$pid/smaps_rollup")
        clean=$(awk '/^Private_Clean:/ {print $2}' "/proc/$pid/smaps_rollup")
    fi
    wait "$rs"
    local cpu
    cpu=$(sed -n 's/.*\bcpu=\([^ ]*\).*/\1/p' "$TMP/stat")
    echo "$cpu $dirty $clean"
}

list_ms() {   # CONFIG: mean wall ms of `pastream -l`
    local t0 t1 i
    t0=$(date +%s%N)
    for ((i = 0; i < RUNS; i++)); do env $(cfg_env "$1") scripts/pastream -l >/dev/null 2>&1; done
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / RUNS / 1000000 ))
}

frames=$((SECONDS_REC * 48000))
log "jack_capture, ${SECONDS_REC} s"
read -r jc_cpu jc_dirty jc_clean < <(measure jack_capture jack_capture -d "$SECONDS_REC" -b FLOAT -ns -dc -s \
    -p system:capture_1 -p system:capture_2 "$TMP/out.wav")
printf '| %-44s | %9s | %9s | %13s | %13s |\n' "ALSA configuration (JACK rig, 48 kHz)" "-l (ms)" "CPU (s)" "priv dirty MB" "priv clean MB"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 46))" "-----------" "-----------" "---------------" "---------------"
mb() { case $1 in ''|*[!0-9]*) echo "?" ;; *) awk "BEGIN { printf \"%.1f\", $1 / 1024 }" ;; esac; }
printf '| %-44s | %9s | %9s | %13s | %13s |\n' "jack_capture (no PortAudio)" "-" "$jc_cpu" "$(mb "$jc_dirty")" "$(mb "$jc_clean")"
for cfg in bare plugins hidden named; do
    log "$cfg: pastream -l x $RUNS, then a ${SECONDS_REC} s recording"
    dev=system ms=-
    if [ "$cfg" = named ]; then dev=jack:system; else ms=$(list_ms "$cfg"); fi
    # shellcheck disable=SC2046
    read -r cpu dirty clean < <(measure "$cfg" env -u ALSA_CONFIG_PATH $(cfg_env "$cfg") ./pastream-lua tests/bench/record.lua "$TMP/out.wav" "$frames" "$dev")
    ndev=$(env $(cfg_env "$cfg") ./pastream-lua -e 'local n = 0 for _, d in ipairs(require("pastream").devices()) do if d.hostapi_name == "ALSA" then n = n + 1 end end print(n)' 2>/dev/null)
    case $cfg in
        bare) what="bare: no plugins ($ndev ALSA devices)" ;;
        plugins) what="plugins visible ($ndev ALSA devices)" ;;
        hidden) what="plugins installed, JACK-only ALSA config" ;;
        named) what="plugins installed, -D jack:system" ;;
    esac
    printf '| %-44s | %9s | %9s | %13s | %13s |\n' "$what" "$ms" "$cpu" "$(mb "$dirty")" "$(mb "$clean")"
done
echo
echo "CPU over the whole ${SECONDS_REC} s run (start-up included); memory 2 s before the end; pastream -l: mean of $RUNS runs."
