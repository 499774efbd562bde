#!/usr/bin/env bash
# alsarig.sh: the test rig seen through PortAudio's ALSA host API.  It starts
# a JACK rig (scripts/jackrig.sh, dummy backend, ports "loopback") and writes
# a private ALSA configuration that declares a PCM of `type jack` (the JACK
# PCM plugin of Debian's libasound2-plugins) whose playback comes back on
# its capture through two of JACK2's in-process clients (see "The loop"
# below), with `hint { show on }` so that PortAudio's ALSA host API lists it.
# Nothing of the machine's is edited: clients read the configuration through
# ALSA_CONFIG_PATH (the system's alsa.conf, then ours), which `env` prints,
# and, where libasound2-plugins is not installed, load the plugin from the
# copy scripts/install-deps.sh unpacked (ALSA_PLUGIN_DIR).
#
#   alsarig.sh start [--name NAME] [--rate R] [--period P|auto] [--probe PA_PROBE] [--pcm PCM]
#   alsarig.sh stop  [--name NAME]
#   alsarig.sh env   [--name NAME]     # eval "$(alsarig.sh env --name NAME)"
#   alsarig.sh asoundrc [--name NAME]  # the path of the private configuration
#
# Defaults: NAME pastream-alsarig, R 48000, PCM rigjack.  The JACK PCM runs
# at the server's rate.  The JACK server is stopped by the PID jackrig.sh
# recorded, never by name.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 1; }

NAME=pastream-alsarig RATE=48000 PERIOD=auto PROBE=${PA_PROBE:-} PCM=rigjack
[ $# -ge 1 ] || die "usage: $prog start|stop|env|asoundrc [--name NAME] [--rate R] [--period P] [--probe PA_PROBE] [--pcm PCM]"
cmd=$1; shift
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || die "$1 needs a value"
    case $1 in
        --name) NAME=$2 ;; --rate) RATE=$2 ;; --period) PERIOD=$2 ;; --probe) PROBE=$2 ;; --pcm) PCM=$2 ;;
        *) die "unknown option $1" ;;
    esac
    shift 2
done
case $NAME in ''|*[!A-Za-z0-9._-]*|.*) die "bad rig name '$NAME'" ;; esac
case $PCM in ''|*[!A-Za-z0-9_]*) die "bad PCM name '$PCM' (letters, digits, _)" ;; esac

STATE_DIR=${JACKRIG_DIR:-${TMPDIR:-/tmp}/jackrig-$UID}/$NAME.alsa
RC=$STATE_DIR/asoundrc
# the system's top configuration (it reads alsa.conf.d, where the plugins'
# PCMs are declared); ALSA_CONF overrides where it is
SYSCONF=${ALSA_CONF:-/usr/share/alsa/alsa.conf}

# The JACK PCM plugin: the system's (libasound2-plugins installed), else
# the private copy scripts/install-deps.sh unpacks ($PS_ALSA_PLUGINS, default
# build/alsa-plugins), which clients then load through ALSA_PLUGIN_DIR.
# Prints the directory to give ALSA_PLUGIN_DIR (empty: the system's).
plugin_dir() {
    local d
    for d in /usr/lib/*/alsa-lib /usr/lib/alsa-lib /usr/lib64/alsa-lib; do
        [ -e "$d/libasound_module_pcm_jack.so" ] && return 0
    done
    local top=${PS_ALSA_PLUGINS:-$here/../build/alsa-plugins}
    for d in "$top"/usr/lib/*/alsa-lib; do
        [ -e "$d/libasound_module_pcm_jack.so" ] && { (cd "$d" && pwd); return 0; }
    done
    return 1
}

case $cmd in
start)
    plugin_dir >/dev/null || die "the ALSA JACK PCM plugin is missing: run scripts/install-deps.sh test
    (it unpacks libasound2-plugins into build/alsa-plugins), or install libasound2-plugins"
    [ -r "$SYSCONF" ] || die "no ALSA configuration at $SYSCONF (set ALSA_CONF)"
    args=(start --name "$NAME" --rate "$RATE" --period "$PERIOD")
    [ -n "$PROBE" ] && args+=(--probe "$PROBE")
    "$here/jackrig.sh" "${args[@]}"
    mkdir -p "$STATE_DIR"
    # The loop: two of JACK2's in-process clients "inprocess" (each copies
    # its input port to its output port in the cycle), rigthru_1 and
    # rigthru_2, between the PCM's playback and capture clients.  Not the
    # server's loopback ports: the JACK PCM opens two clients (playback,
    # capture), and through the loopback driver their order in a cycle
    # races, so that now and then a period came back one cycle early, or one
    # channel of it did, with no xrun anywhere (a plain PortAudio program
    # saw 7 such periods in 30 s at 384 kHz, period 8192; through rigthru
    # none in 30 s, and the 10-minute soak none).  Through the in-process
    # clients the capture client runs after them, every cycle.
    for i in 1 2; do
        JACK_DEFAULT_SERVER=$NAME JACK_NO_START_SERVER=1 jack_load "rigthru_$i" inprocess >>"$STATE_DIR/thru.log" 2>&1 ||
            { cat "$STATE_DIR/thru.log" >&2; "$here/jackrig.sh" stop --name "$NAME" >/dev/null; die "jack_load inprocess failed"; }
    done
    cat >"$RC" <<RC
# written by scripts/alsarig.sh for the JACK server '$NAME'
pcm.$PCM {
    type jack
    playback_ports { 0 rigthru_1:input 1 rigthru_2:input }
    capture_ports { 0 rigthru_1:output 1 rigthru_2:output }
    hint { show on description "pastream test rig: JACK server $NAME, loopback" }
}
RC
    echo "ALSA PCM '$PCM' -> JACK server '$NAME' in-process clients rigthru_1, rigthru_2 ($RC)"
    ;;
stop)
    "$here/jackrig.sh" stop --name "$NAME"
    rm -f "$RC"; rmdir "$STATE_DIR" 2>/dev/null || true
    ;;
env)
    [ -r "$RC" ] || die "rig '$NAME' not started"
    pd=$(plugin_dir) || die "the ALSA JACK PCM plugin is missing"
    echo "export JACK_DEFAULT_SERVER=$NAME JACK_NO_START_SERVER=1 ALSA_CONFIG_PATH=$SYSCONF:$RC PS_ALSA_PCM=$PCM${pd:+ ALSA_PLUGIN_DIR=$pd}"
    ;;
asoundrc) echo "$RC" ;;
*) die "unknown command '$cmd'" ;;
esac
