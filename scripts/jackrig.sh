#!/usr/bin/env bash
# jackrig.sh: start and stop a named JACK2 server with the dummy backend, so
# that PortAudio sees real devices ("system", "loopback") on a machine with no
# sound card. See README.md, "Tests and the test rig".
#
#   jackrig.sh start  [--name NAME] [--rate R] [--period P|auto] [--probe PA_PROBE]
#   jackrig.sh stop   [--name NAME]
#   jackrig.sh health [--name NAME] [--seconds S]   # xruns the idle server logs in S s
#   jackrig.sh period [--name NAME]      # the period the running server uses
#   jackrig.sh log    [--name NAME]      # the path of the server's log
#   jackrig.sh crash  [--name NAME]      # SIGKILL it, as a crash would (fault tests);
#                                        # JACK frees the server's registry slot (8 in
#                                        # all) when the same name starts again
#   jackrig.sh status [--name NAME]
#   jackrig.sh env    [--name NAME]      # eval "$(jackrig.sh env)"
#
# Defaults: NAME pastream-rig, R 48000, P auto ($JACKRIG_PERIOD when set).
#
# Periods and stalls.  The dummy driver logs an xrun when its own thread
# wakes more than a period late, and a virtual machine can stall even a
# SCHED_FIFO thread for 5-20 ms now and then; such a late cycle can damage a
# loopback period with no xrun reported to the client.  --period auto starts
# at about 21 ms (1024 frames at 48 kHz, 8192 at 384 kHz), watches the idle
# server for $JACKRIG_WATCH seconds (default 3), and doubles the period and
# starts again while the server logs an xrun meanwhile (at most 4 doublings).
# It prints what it chose and why.  Each server is stopped only by
# the PID recorded when it was started (never by process name), so several
# rigs (e.g. --name pastream-rig-fast --rate 384000 --period 2048) can run at
# once, beside any other JACK server on the machine.
#
# State (pid file, jackd log, lock) lives in $JACKRIG_DIR/NAME, by default
# ${TMPDIR:-/tmp}/jackrig-$UID/NAME.
#
# The readiness probe is tests/pa_probe.c built as a program: --probe PATH, or
# $PA_PROBE, or pa_probe on $PATH. Without one, start falls back to waiting for
# the server with jack_lsp (PortAudio itself is then not checked).
set -eu

NAME=pastream-rig
RATE=48000
PERIOD=${JACKRIG_PERIOD:-auto}
WATCH=${JACKRIG_WATCH:-3}
PROBE=${PA_PROBE:-}
START_TIMEOUT=15   # seconds
STOP_TIMEOUT=5     # seconds

prog=${0##*/}

die() { echo "$prog: $*" >&2; exit 1; }

usage() {
    cat <<EOF
usage: $prog start  [--name NAME] [--rate R] [--period P|auto] [--probe PA_PROBE]
       $prog stop   [--name NAME]
       $prog health [--name NAME] [--seconds S]
       $prog period [--name NAME]
       $prog log    [--name NAME]
       $prog crash  [--name NAME]
       $prog status [--name NAME]
       $prog env    [--name NAME]
       $prog xruns  [--name NAME]
defaults: --name pastream-rig --rate 48000 --period auto (\$JACKRIG_PERIOD if set)
EOF
}

# ---- argument parsing ------------------------------------------------------

[ $# -ge 1 ] || { usage >&2; exit 2; }
ARGS=("$@")   # a start that had to reclaim stale registry entries runs again
cmd=$1; shift
case $cmd in
    -h|--help|help) usage; exit 0 ;;
    start|stop|crash|status|env|xruns|health|period|log) ;;
    *) usage >&2; exit 2 ;;
esac

while [ $# -gt 0 ]; do
    opt=$1
    case $opt in
        --*=*) val=${opt#*=}; opt=${opt%%=*}; shift ;;
        --name|--rate|--period|--probe|--seconds)
            [ $# -ge 2 ] || die "$opt needs a value"
            val=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
    esac
    case $cmd:$opt in
        *:--name) NAME=$val ;;
        start:--rate) RATE=$val ;;
        start:--period) PERIOD=$val ;;
        start:--probe) PROBE=$val ;;
        health:--seconds) WATCH=$val ;;
        *) die "$cmd does not take $opt" ;;
    esac
done

case $NAME in
    ''|*[!A-Za-z0-9._-]*|.*) die "bad server name '$NAME' (use letters, digits, . _ -)" ;;
esac
case $RATE in ''|*[!0-9]*) die "bad rate '$RATE'" ;; esac
case $PERIOD in auto) ;; ''|*[!0-9]*) die "bad period '$PERIOD' (frames, or auto)" ;; esac
case $WATCH in ''|*[!0-9]*) die "bad --seconds '$WATCH'" ;; esac

STATE_DIR=${JACKRIG_DIR:-${TMPDIR:-/tmp}/jackrig-$UID}/$NAME
PID_FILE=$STATE_DIR/jackd.pid
LOG_FILE=$STATE_DIR/jackd.log
LOCK_FILE=$STATE_DIR/lock
PERIOD_FILE=$STATE_DIR/period

# ---- helpers ---------------------------------------------------------------

now_ms() {
    if [ -n "${EPOCHREALTIME:-}" ]; then
        local t=${EPOCHREALTIME/[.,]/}
        echo $(( t / 1000 ))
    else
        echo $(( $(date +%s) * 1000 ))
    fi
}

# alive PID: the process exists and is not a zombie.
alive() {
    local pid=$1 state
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -r "/proc/$pid/stat" ]; then
        state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
        [ "$state" != Z ] || return 1
    fi
    return 0
}

# is_our_jackd PID: PID is a live jackd started for server NAME.
is_our_jackd() {
    local pid=$1 comm args
    alive "$pid" || return 1
    comm=$(ps -p "$pid" -o comm= 2>/dev/null) || return 1
    [ "$comm" = jackd ] || return 1
    if [ -r "/proc/$pid/cmdline" ]; then
        args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    else
        args=$(ps -p "$pid" -o args= 2>/dev/null) || return 1
    fi
    case " $args " in *" -n $NAME "*) return 0 ;; esac
    return 1
}

# recorded_pid: prints the PID from the pid file (nothing if none).
recorded_pid() {
    local pid=
    if [ -f "$PID_FILE" ]; then read -r pid <"$PID_FILE" 2>/dev/null || true; fi
    case $pid in ''|*[!0-9]*) return 0 ;; esac
    echo "$pid"
}

# running: the recorded PID is our jackd; sets RUNNING_PID.
RUNNING_PID=
running() {
    RUNNING_PID=$(recorded_pid)
    [ -n "$RUNNING_PID" ] && is_our_jackd "$RUNNING_PID"
}

# Serialize start/stop of one rig (make -j, parallel test scripts). fd 9 is
# closed for jackd so that it never holds the lock.
lock() {
    if ! command -v flock >/dev/null 2>&1; then
        mkdir -p "$STATE_DIR"
        return 0
    fi
    while :; do
        # a concurrent stop may remove the directory between these two steps
        mkdir -p "$STATE_DIR"
        { exec 9>>"$LOCK_FILE"; } 2>/dev/null || continue
        flock 9
        # stop removes the lock file; make sure ours is still the live one
        [ "$LOCK_FILE" -ef /dev/fd/9 ] && return 0
        exec 9>&-
    done
}

remove_state() {
    rm -f "$PID_FILE" "$LOG_FILE" "$LOCK_FILE" "$PERIOD_FILE"
    rmdir "$STATE_DIR" 2>/dev/null || true
}

jack_env() {
    env JACK_DEFAULT_SERVER="$NAME" JACK_NO_START_SERVER=1 "$@"
}

find_probe() {
    if [ -n "$PROBE" ]; then
        case $PROBE in */*) [ -x "$PROBE" ] || die "probe '$PROBE' is not an executable" ;;
                       *) command -v "$PROBE" >/dev/null 2>&1 || die "probe '$PROBE' not found" ;;
        esac
        return 0
    fi
    if command -v pa_probe >/dev/null 2>&1; then
        PROBE=pa_probe
    fi
}

# ready: the server answers (PortAudio lists "loopback" when we have a probe).
ready() {
    if [ -n "$PROBE" ]; then
        jack_env "$PROBE" loopback </dev/null >/dev/null 2>&1
    else
        jack_env jack_lsp </dev/null 2>/dev/null | grep -q '^system:capture_'
    fi
}

# kill_pid PID: SIGTERM, wait up to STOP_TIMEOUT s, then SIGKILL.
kill_pid() {
    local pid=$1 deadline
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$(( $(now_ms) + STOP_TIMEOUT * 1000 ))
    while alive "$pid"; do
        if [ "$(now_ms)" -ge "$deadline" ]; then
            echo "$prog: jackd (pid $pid) did not exit in ${STOP_TIMEOUT}s; sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
            deadline=$(( $(now_ms) + 2000 ))
            while alive "$pid" && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.1; done
            alive "$pid" && die "jackd (pid $pid) survived SIGKILL"
            break
        fi
        sleep 0.1
    done
    # It has exited; give its new parent (init) a moment to reap the zombie,
    # so that `ps -p PID` right after stop shows nothing.
    deadline=$(( $(now_ms) + 3000 ))
    while kill -0 "$pid" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do
        sleep 0.05
    done
}

# JACK keeps up to 8 servers in a registry in shared memory
# (/dev/shm/jack-shm-registry).  A server that dies without cleaning up
# (SIGKILL, a crash) leaves its entry there, and JACK reclaims such an entry
# only when a server of the same name starts again; once the stale entries
# of uniquely named rigs fill the table, every new server fails with "Too
# many servers already active".  reclaim_stale starts each dead server's
# name once (JACK then drops the stale entry) and stops it cleanly (it
# unregisters).  Entry layout (JACK2 shm.h): a 24-byte header (magic "JACK",
# ..., hdr_len at 16), then 8 x { pid_t pid; char name[257] } padded to 264.
REGISTRY=/dev/shm/jack-shm-registry
reclaim_stale() {
    [ -r "$REGISTRY" ] || return 0
    local magic hdr i off pid name reclaimed=0
    magic=$(od -An -t u4 -N 4 "$REGISTRY" | tr -d ' ')
    hdr=$(od -An -t u4 -j 16 -N 4 "$REGISTRY" | tr -d ' ')
    [ "$magic" = 1245791051 ] && [ "$hdr" = $((24 + 8 * 264)) ] || return 0
    for i in 0 1 2 3 4 5 6 7; do
        off=$((24 + i * 264))
        pid=$(od -An -t d4 -j "$off" -N 4 "$REGISTRY" | tr -d ' ')
        [ -n "$pid" ] && [ "$pid" -gt 0 ] && ! kill -0 "$pid" 2>/dev/null || continue
        name=$(tail -c +$((off + 5)) "$REGISTRY" | head -c 257 | tr '\0' '\n' | head -n 1)
        name=${name#jack-*:}; name=${name%:}
        case $name in ''|*[!A-Za-z0-9._-]*|.*) continue ;; esac
        echo "$prog: reclaiming the stale JACK registry entry of dead server '$name' (pid $pid)" >&2
        env JACKRIG_RECLAIMING=1 JACKRIG_DIR="$STATE_DIR/reclaim" JACKRIG_REALTIME=no \
            "$0" start --name "$name" >/dev/null 2>&1 &&
            env JACKRIG_DIR="$STATE_DIR/reclaim" "$0" stop --name "$name" >/dev/null 2>&1 &&
            reclaimed=$((reclaimed + 1))
    done
    rm -rf "$STATE_DIR/reclaim"
    [ "$reclaimed" -gt 0 ]
}

# ---- subcommands -----------------------------------------------------------

do_start() {
    if ! command -v jackd >/dev/null 2>&1; then
        die "jackd not found; install it with:
    DEBIAN_FRONTEND=noninteractive apt-get install --no-install-recommends jackd2"
    fi
    find_probe
    if [ -z "$PROBE" ] && ! command -v jack_lsp >/dev/null 2>&1; then
        die "no readiness probe: build tests/pa_probe.c and pass --probe PATH (or set PA_PROBE)"
    fi

    lock
    if running; then
        echo "jack server '$NAME' already running (pid $RUNNING_PID)"
        return 0
    fi
    if [ -e "$PID_FILE" ]; then
        echo "$prog: removing stale pid file of '$NAME' (pid ${RUNNING_PID:-?})" >&2
        rm -f "$PID_FILE"
    fi
    if [ "$PERIOD" != auto ]; then
        start_server "$PERIOD"
        return 0
    fi
    # auto: the smallest power of two of at least 21 ms (1024 at 48 kHz,
    # 8192 at 384 kHz) that the idle server runs through WATCH s without an
    # xrun, doubling at most 4 times.
    local p=64 x tries=0
    while [ $(( p * 48000 )) -lt $(( RATE * 1024 )) ]; do p=$(( p * 2 )); done
    while :; do
        start_server "$p"
        sleep "$WATCH"
        x=$(grep -c 'XRun' "$LOG_FILE" || true)
        echo "rig $NAME: $x xruns in $WATCH s idle at $RATE Hz, period $p"
        if [ "$x" -eq 0 ] || [ "$tries" -ge 4 ]; then
            [ "$x" -eq 0 ] || echo "rig $NAME: still xruns after 4 doublings; keeping period $p (audio tests may see damage)"
            echo "rig $NAME: period auto chose $p"
            return 0
        fi
        kill_pid "$(recorded_pid)"
        rm -f "$PID_FILE" "$PERIOD_FILE"
        echo "rig $NAME: the idle server logged xruns at period $p; trying $(( p * 2 ))"
        p=$(( p * 2 )); tries=$(( tries + 1 ))
    done
}

# start_server P: start jackd at period P and wait until it is ready.
start_server() {
    local PERIOD=$1
    local setsid=
    command -v setsid >/dev/null 2>&1 && setsid=setsid
    # Realtime scheduling where this user may have it (root, or rtprio in
    # limits): jackd and its clients' process threads then run ahead of
    # everything else, so a busy machine does not make the rig xrun.  Else
    # --no-realtime, which works anywhere.
    local rt=--no-realtime
    if [ "${JACKRIG_REALTIME:-auto}" != no ] && chrt -f 10 true 2>/dev/null; then
        rt="--realtime -P 70"
    fi
    # The subshell execs (setsid execs too: a non-interactive shell's
    # background job is no process group leader), so $! is jackd itself.
    # setsid: own session, so the terminal's Ctrl-C / hangup does not reach it.
    # Its stdio is the log and /dev/null, and every other inherited fd (the
    # lock, a caller's pipes: make's, CI's) is closed, so that nobody waiting
    # for EOF on a pipe waits for jackd.
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            case $fd in ''|*[!0-9]*|0|1|2) continue ;; esac
            eval "exec $fd>&-" 2>/dev/null || true
        done
        exec $setsid jackd -n "$NAME" $rt -L 2 \
            -d dummy -r "$RATE" -p "$PERIOD" -C 2 -P 2
    ) </dev/null >"$LOG_FILE" 2>&1 9>&- &
    local pid=$!
    echo "$pid" >"$PID_FILE"

    local t0 deadline
    t0=$(now_ms)
    deadline=$(( t0 + START_TIMEOUT * 1000 ))
    while :; do
        if ! alive "$pid"; then
            wait "$pid" 2>/dev/null || true
            rm -f "$PID_FILE"
            # A full registry: free the entries of dead servers, or wait for
            # live ones (other rigs) to end; try again, for up to a minute.
            local tries=${JACKRIG_TRIES:-0}
            if [ -z "${JACKRIG_RECLAIMING:-}" ] && [ "$tries" -lt 30 ] &&
               grep -q 'Too many servers already active' "$LOG_FILE"; then
                reclaim_stale || sleep 2
                echo "$prog: JACK's server registry is full; starting '$NAME' again" >&2
                exec 9>&-   # the lock: the new start takes it again
                JACKRIG_TRIES=$((tries + 1)) exec "$0" "${ARGS[@]}"
            fi
            echo "$prog: jackd '$NAME' (pid $pid) exited during startup; log:" >&2
            tail -n 30 "$LOG_FILE" >&2 || true
            exit 1
        fi
        if is_our_jackd "$pid" && ready; then
            break
        fi
        if [ "$(now_ms)" -ge "$deadline" ]; then
            echo "$prog: jack server '$NAME' not ready after ${START_TIMEOUT}s; log tail:" >&2
            tail -n 30 "$LOG_FILE" >&2 || true
            kill_pid "$pid"
            remove_state
            exit 1
        fi
        sleep 0.1
    done
    echo "$PERIOD" >"$PERIOD_FILE"
    echo "jack server '$NAME' started (pid $pid, ${RATE} Hz, period $PERIOD, ready in $(( $(now_ms) - t0 )) ms)"
}

do_stop() {
    if [ ! -d "$STATE_DIR" ]; then
        echo "jack server '$NAME' not running"
        return 0
    fi
    lock
    if running; then
        kill_pid "$RUNNING_PID"
        echo "jack server '$NAME' stopped (pid $RUNNING_PID)"
    elif [ -n "$RUNNING_PID" ]; then
        echo "jack server '$NAME' not running (stale pid $RUNNING_PID)"
        leftovers
    else
        echo "jack server '$NAME' not running"
    fi
    remove_state
}

# What a killed jackd leaves in /dev/shm: its sockets and semaphores (by
# name: while they are there, a new server of the same name says "already
# active"), and the shared memory segments it had mapped (read from its
# maps before the kill; clients that still map them keep them until they
# exit).
leftovers() {
    rm -f /dev/shm/jack_"$NAME"_* /dev/shm/jack_sem.*_"$NAME"_* "$@"
}

do_crash() {
    lock
    running || die "jack server '$NAME' not running"
    local segs
    segs=$(grep -o '/dev/shm/jack-[0-9]*-[0-9]*' "/proc/$RUNNING_PID/maps" 2>/dev/null | sort -u)
    kill -KILL "$RUNNING_PID"
    local deadline=$(( $(now_ms) + 3000 ))
    while alive "$RUNNING_PID" && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.01; done
    # shellcheck disable=SC2086
    leftovers $segs
    echo "jack server '$NAME' killed (pid $RUNNING_PID)"
    # Until its zombie is reaped, a new server of the same name would take
    # it for a live one ("already active").
    deadline=$(( $(now_ms) + 3000 ))
    while kill -0 "$RUNNING_PID" 2>/dev/null && [ "$(now_ms)" -lt "$deadline" ]; do sleep 0.05; done
    remove_state
}

do_status() {
    if running; then
        echo "jack server '$NAME' running (pid $RUNNING_PID)"
        return 0
    fi
    echo "jack server '$NAME' not running"
    return 1
}

do_env() {
    echo "export JACK_DEFAULT_SERVER=$NAME JACK_NO_START_SERVER=1"
}

# The xruns the server itself has logged since it started ("JackEngine::XRun:
# client = ... was not finished", "JackTimedDriver::Process XRun = N usec").
# Under load a JACK2 server in its default asynchronous mode can run a cycle
# with a late client and notify no client: both sides of a loopback then
# report 0 xruns while one period comes back from the wrong cycle.  Tests
# that check audio through the rig bit-exact read this count to tell such a
# fault of the rig from one of ours.
do_xruns() {
    running || die "jack server '$NAME' not running"
    grep -c 'XRun' "$LOG_FILE" || true
}

# health: the xruns the server logs over S seconds from now (run it while no
# client is connected to see how often the machine itself stalls the rig).
do_health() {
    running || die "jack server '$NAME' not running"
    local x0 x1
    x0=$(grep -c 'XRun' "$LOG_FILE" || true)
    sleep "$WATCH"
    x1=$(grep -c 'XRun' "$LOG_FILE" || true)
    echo "rig $NAME: $(( x1 - x0 )) xruns in $WATCH s idle at period $(cat "$PERIOD_FILE" 2>/dev/null || echo '?')"
}

do_log() {
    running || die "jack server '$NAME' not running"
    echo "$LOG_FILE"
}

do_period() {
    running || die "jack server '$NAME' not running"
    cat "$PERIOD_FILE"
}

"do_$cmd"
