#!/usr/bin/env bash
# pwrig.sh: a headless PipeWire daemon as a test rig, so that PortAudio's
# JACK host API runs on PipeWire's JACK library (pipewire-jack), as on
# desktops that run PipeWire.  No session manager, no D-Bus, no sound card:
# the daemon's own configuration (written here) makes a dummy driver at
# R Hz with a fixed quantum of P frames, and a null sink "rigsink" (shown as
# "pastream rig null sink") whose playback ports a client plays to and whose
# monitor ports give the same audio back: a loopback device.
#
#   pwrig.sh start [--name NAME] [--rate R] [--period P]
#   pwrig.sh stop  [--name NAME]
#   pwrig.sh env   [--name NAME]   # eval: clients then load pipewire-jack's libjack
#   pwrig.sh log   [--name NAME]
#
# Defaults: NAME pastream-pwrig, R 48000, P 1024.  The log holds PipeWire's
# own xrun reports ("client too slow!", PIPEWIRE_DEBUG=W,pw.node:I, or
# $PWRIG_DEBUG), which the loopback tests read as the server's xruns.  The daemon is stopped by
# the PID recorded at start, never by name.  Its socket lives in the rig's
# state directory (PIPEWIRE_RUNTIME_DIR), so it meets no other PipeWire on
# the machine.  State: ${JACKRIG_DIR:-${TMPDIR:-/tmp}/jackrig-$UID}/NAME.pw.
set -eu
prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 1; }

NAME=pastream-pwrig RATE=48000 PERIOD=1024
[ $# -ge 1 ] || die "usage: $prog start|stop|env|log [--name NAME] [--rate R] [--period P]"
cmd=$1; shift
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || die "$1 needs a value"
    case $1 in
        --name) NAME=$2 ;; --rate) RATE=$2 ;; --period) PERIOD=$2 ;;
        *) die "unknown option $1" ;;
    esac
    shift 2
done
case $NAME in ''|*[!A-Za-z0-9._-]*|.*) die "bad rig name '$NAME'" ;; esac
case $RATE in ''|*[!0-9]*) die "bad rate '$RATE'" ;; esac
case $PERIOD in ''|*[!0-9]*) die "bad period '$PERIOD'" ;; esac

STATE_DIR=${JACKRIG_DIR:-${TMPDIR:-/tmp}/jackrig-$UID}/$NAME.pw
PID_FILE=$STATE_DIR/pipewire.pid
LOG_FILE=$STATE_DIR/pipewire.log
CONF=$STATE_DIR/pipewire.conf
RUN=$STATE_DIR/run

# pipewire-jack's libjack, where pw-jack(1) points LD_LIBRARY_PATH
jacklib() {
    local d
    for d in /usr/lib/*/pipewire-0.3/jack /usr/lib/pipewire-0.3/jack /usr/lib64/pipewire-0.3/jack; do
        [ -e "$d/libjack.so.0" ] && { echo "$d"; return 0; }
    done
    return 1
}

alive() { kill -0 "$1" 2>/dev/null && [ "$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $(( t / 1000 )); }

client_env() {
    env PIPEWIRE_RUNTIME_DIR="$RUN" XDG_RUNTIME_DIR="$RUN" LD_LIBRARY_PATH="$(jacklib)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"
}

do_start() {
    command -v pipewire >/dev/null || die "pipewire not found; install it with:
    DEBIAN_FRONTEND=noninteractive apt-get install --no-install-recommends pipewire pipewire-bin pipewire-jack"
    jacklib >/dev/null || die "pipewire-jack's libjack not found (apt-get install --no-install-recommends pipewire-jack)"
    if [ -f "$PID_FILE" ] && alive "$(cat "$PID_FILE")"; then
        echo "pipewire rig '$NAME' already running (pid $(cat "$PID_FILE"))"; return 0
    fi
    mkdir -p "$RUN"; chmod 700 "$RUN"
    cat >"$CONF" <<CONF
# written by scripts/pwrig.sh for the rig '$NAME'
context.properties = {
    core.daemon = true
    core.name   = pipewire-0
    support.dbus = false
    default.clock.rate        = $RATE
    default.clock.allowed-rates = [ $RATE ]
    default.clock.quantum     = $PERIOD
    default.clock.min-quantum = $PERIOD
    default.clock.max-quantum = $PERIOD
    default.clock.force-quantum = $PERIOD
}
context.spa-libs = {
    audio.convert.* = audioconvert/libspa-audioconvert
    support.*       = support/libspa-support
}
context.modules = [
    { name = libpipewire-module-protocol-native }
    { name = libpipewire-module-metadata }
    { name = libpipewire-module-spa-node-factory }
    { name = libpipewire-module-client-node }
    { name = libpipewire-module-access args = { } }
    { name = libpipewire-module-adapter }
    { name = libpipewire-module-link-factory }
]
context.objects = [
    { factory = metadata args = { metadata.name = default } }
    # JACK clients are driven by this when nothing else drives them
    { factory = spa-node-factory
        args = { factory.name = support.node.driver node.name = Dummy-Driver
                 node.group = pipewire.dummy priority.driver = 20000 } }
    { factory = spa-node-factory
        args = { factory.name = support.node.driver node.name = Freewheel-Driver
                 priority.driver = 19000 node.group = pipewire.freewheel node.freewheel = true } }
    # the loopback: play to its playback ports, hear it on its monitor ports
    { factory = adapter
        args = { factory.name = support.null-audio-sink node.name = rigsink
                 node.description = "pastream rig null sink" media.class = Audio/Sink
                 audio.position = "FL,FR" audio.rate = $RATE node.group = pipewire.dummy
                 monitor.channel-volumes = false
                 adapter.auto-port-config = { mode = dsp monitor = true position = preserve } } }
]
CONF
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            case $fd in ''|*[!0-9]*|0|1|2) continue ;; esac
            eval "exec $fd>&-" 2>/dev/null || true
        done
        export PIPEWIRE_RUNTIME_DIR="$RUN" XDG_RUNTIME_DIR="$RUN"
        # PipeWire's xruns in the log: "(NODE-ID) client too slow!" is an
        # info line of the pw.node topic (0.3.65: at most one per 2 s, its
        # rate limit); warnings of every other topic
        export PIPEWIRE_DEBUG="${PWRIG_DEBUG:-W,pw.node:I}"
        exec setsid pipewire -c "$CONF"
    ) </dev/null >"$LOG_FILE" 2>&1 &
    local pid=$! t0
    echo "$pid" >"$PID_FILE"
    t0=$(now_ms)
    until client_env jack_lsp 2>/dev/null | grep -q 'null sink:monitor_FR$'; do
        if ! alive "$pid" || [ $(( $(now_ms) - t0 )) -gt 15000 ]; then
            echo "$prog: pipewire '$NAME' (pid $pid) did not come up; log:" >&2
            tail -n 20 "$LOG_FILE" >&2
            do_stop >/dev/null; exit 1
        fi
        sleep 0.1
    done
    echo "pipewire rig '$NAME' started (pid $pid, $RATE Hz, quantum $PERIOD, ready in $(( $(now_ms) - t0 )) ms)"
}

do_stop() {
    [ -d "$STATE_DIR" ] || { echo "pipewire rig '$NAME' not running"; return 0; }
    local pid= i
    [ -f "$PID_FILE" ] && read -r pid <"$PID_FILE"
    if [ -n "$pid" ] && alive "$pid" && [ "$(ps -p "$pid" -o comm=)" = pipewire ]; then
        kill -TERM "$pid"
        for i in $(seq 50); do alive "$pid" || break; sleep 0.1; done
        alive "$pid" && kill -KILL "$pid"
    fi
    rm -rf "$STATE_DIR"
    echo "pipewire rig '$NAME' stopped (pid ${pid:-?})"
}

case $cmd in
    start) do_start ;;
    stop) do_stop ;;
    env) echo "export PIPEWIRE_RUNTIME_DIR=$RUN XDG_RUNTIME_DIR=$RUN LD_LIBRARY_PATH=$(jacklib)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
    log) echo "$LOG_FILE" ;;
    *) die "unknown command '$cmd'" ;;
esac
