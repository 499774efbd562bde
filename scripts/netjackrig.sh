#!/usr/bin/env bash
# netjackrig.sh: two JACK servers linked by netjack2, so that a client of the
# second ("slave") records and plays through the first ("master") over a
# network.  The master runs the dummy backend and the netmanager; the slave
# runs the net backend, and the master's ports of that slave are connected
# from_slave_N -> to_slave_N, so what a client plays on the slave's "system"
# device comes back on its input after crossing the network twice.
#
#   netjackrig.sh start [--name NAME] [--rate R] [--period P] [--probe PA_PROBE] [--netns yes|no|auto]
#                       [--slave-mode sync|async]
#   netjackrig.sh stop  [--name NAME]
#   netjackrig.sh env   [--name NAME]    # eval: JACK_DEFAULT_SERVER is the slave
#   netjackrig.sh pids  [--name NAME]    # master and slave jackd PIDs
#   netjackrig.sh xruns [--name NAME]    # xruns both servers have logged
#
# With --netns (auto: when `ip netns` and veth work, i.e. as root) each server runs in
# a network namespace of its own (NAME-m, NAME-s) joined by a veth pair made
# here, 10.219.0.1 (master) and 10.219.0.2 (slave) on that link only, so the
# audio crosses a network interface; else both use 127.0.0.1.  The servers
# are NAME-m (master) and NAME (slave, the one clients use); the slave's
# client on the master is NAME too (ports NAME:from_slave_N, NAME:to_slave_N).
# The slave runs synchronous (jackd -S, --slave-mode sync, the default): in
# JACK2's default asynchronous mode its net driver reads the next cycle's
# packets into the capture ports while a client woken late may still be in
# the cycle before, and when that client has finished by the time the
# engine checks, nothing is reported anywhere: the client's period held the
# next period's input, one cycle early (seen on this rig under load: in 1
# of 6 soaks of 10 minutes beside make check's second lane and injected
# stalls, and in 1 of 8 shorter ones beside a one-CPU stall; JACK2 1.9.21,
# JackAudioDriver::ProcessAsync; README, "The netjack2 slave runs
# synchronous").  Synchronous, the driver waits for its clients before it
# sends and before it reads again, and a late client is an xrun the slave
# logs.  --slave-mode async (or NETJACKRIG_SLAVE_MODE=async) keeps JACK2's
# default, to show the difference.
# Both are stopped by the PIDs recorded at start, never by name.  State lives
# in ${JACKRIG_DIR:-${TMPDIR:-/tmp}/jackrig-$UID}/NAME.net.
set -eu
prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 1; }

NAME=pastream-netrig PERIOD=1024 RATE=48000 PROBE=${PA_PROBE:-} NETNS=auto SLAVE_MODE=${NETJACKRIG_SLAVE_MODE:-sync}
[ $# -ge 1 ] || die "usage: $prog start|stop|env|pids|xruns [--name NAME] [--rate R] [--period P] [--probe PA_PROBE] [--netns yes|no|auto] [--slave-mode sync|async]"
cmd=$1; shift
while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || die "$1 needs a value"
    case $1 in
        --name) NAME=$2 ;; --rate) RATE=$2 ;; --period) PERIOD=$2 ;; --probe) PROBE=$2 ;; --netns) NETNS=$2 ;;
        --slave-mode) SLAVE_MODE=$2 ;;
        *) die "unknown option $1" ;;
    esac
    shift 2
done
case $NAME in ''|*[!A-Za-z0-9._-]*|.*) die "bad rig name '$NAME'" ;; esac
case $PERIOD in ''|*[!0-9]*) die "bad period '$PERIOD'" ;; esac
case $RATE in ''|*[!0-9]*) die "bad rate '$RATE'" ;; esac
case $NETNS in yes|no|auto) ;; *) die "bad --netns '$NETNS' (yes, no, auto)" ;; esac
case $SLAVE_MODE in sync) sync=-S ;; async) sync= ;; *) die "bad --slave-mode '$SLAVE_MODE' (sync, async)" ;; esac

STATE_DIR=${JACKRIG_DIR:-${TMPDIR:-/tmp}/jackrig-$UID}/$NAME.net
MASTER=$NAME-m
# network namespace and veth names: short (IFNAMSIZ is 16) and derived from
# NAME so that two rigs do not share them
tag=$(printf '%s' "$NAME" | cksum | cut -c1-6)
NS_M=pnj$tag-m NS_S=pnj$tag-s VETH_M=pnj${tag}m VETH_S=pnj${tag}s
ADDR_M=10.219.0.1 ADDR_S=10.219.0.2

alive() { kill -0 "$1" 2>/dev/null && [ "$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $(( t / 1000 )); }
jenv() { local s=$1; shift; env JACK_DEFAULT_SERVER="$s" JACK_NO_START_SERVER=1 "$@"; }

# wait_for SECONDS WHAT COMMAND...: until COMMAND succeeds
wait_for() {
    local secs=$1 limit=$(( $(now_ms) + $1 * 1000 )) what=$2; shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$(now_ms)" -lt "$limit" ] || { echo "$prog: $what not ready after ${secs} s" >&2; return 1; }
        sleep 0.1
    done
}

# spawn LOG NS COMMAND...: start COMMAND (in network namespace NS unless
# empty), its own session, stdio to LOG, no inherited fds; prints its PID.
# `ip netns exec` and setsid exec, so the PID is jackd's own.
spawn() {
    local log=$1 ns=$2; shift 2
    local pre=()
    [ -n "$ns" ] && pre=(ip netns exec "$ns")
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            case $fd in ''|*[!0-9]*|0|1|2) continue ;; esac
            eval "exec $fd>&-" 2>/dev/null || true
        done
        exec setsid "${pre[@]}" "$@"
    ) </dev/null >"$log" 2>&1 &
    echo $!
}

stop_pid() {
    local pid=$1 i
    [ -n "$pid" ] && alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do alive "$pid" || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 30); do alive "$pid" || return 0; sleep 0.1; done
}

# setup_netns: the two namespaces and the veth pair between them, the
# addresses on that link only
setup_netns() {
    ip netns add "$NS_M" && touch "$STATE_DIR/netns" && ip netns add "$NS_S" &&
    ip link add "$VETH_M" netns "$NS_M" type veth peer name "$VETH_S" netns "$NS_S" &&
    ip -n "$NS_M" addr add "$ADDR_M/30" dev "$VETH_M" &&
    ip -n "$NS_S" addr add "$ADDR_S/30" dev "$VETH_S" &&
    ip -n "$NS_M" link set "$VETH_M" up && ip -n "$NS_S" link set "$VETH_S" up &&
    ip -n "$NS_M" link set lo up && ip -n "$NS_S" link set lo up
}

teardown_netns() {
    [ -f "$STATE_DIR/netns" ] || return 0
    ip netns del "$NS_S" 2>/dev/null || true   # the veth pair goes with it
    ip netns del "$NS_M" 2>/dev/null || true
    rm -f "$STATE_DIR/netns"
}

do_stop() {
    [ -d "$STATE_DIR" ] || { echo "netjack rig '$NAME' not running"; return 0; }
    local s= m=
    [ -f "$STATE_DIR/slave.pid" ] && read -r s <"$STATE_DIR/slave.pid"
    [ -f "$STATE_DIR/master.pid" ] && read -r m <"$STATE_DIR/master.pid"
    stop_pid "$s"; stop_pid "$m"
    teardown_netns
    rm -f "$STATE_DIR"/*; rmdir "$STATE_DIR" 2>/dev/null || true
    echo "netjack rig '$NAME' stopped (master pid ${m:-?}, slave pid ${s:-?})"
}

do_start() {
    command -v jackd >/dev/null || die "jackd not found (apt-get install jackd2)"
    [ -f "$STATE_DIR/slave.pid" ] && die "netjack rig '$NAME' seems to be running ($STATE_DIR); stop it first"
    mkdir -p "$STATE_DIR"
    local ns_m= ns_s= addr=127.0.0.1 use_ns=no
    if [ "$NETNS" != no ]; then
        if setup_netns 2>"$STATE_DIR/netns.err"; then
            use_ns=yes ns_m=$NS_M ns_s=$NS_S addr=$ADDR_M
        else
            teardown_netns
            [ "$NETNS" = yes ] && die "cannot make the network namespaces and veth pair: $(tr '\n' ' ' <"$STATE_DIR/netns.err")"
            echo "$prog: no network namespaces here ($(head -n 1 "$STATE_DIR/netns.err")): master and slave on 127.0.0.1" >&2
        fi
    fi
    trap 'do_stop >/dev/null 2>&1' ERR
    local rt=--no-realtime t0 m s
    chrt -f 10 true 2>/dev/null && rt="--realtime -P 70"
    t0=$(now_ms)
    # shellcheck disable=SC2086
    m=$(spawn "$STATE_DIR/master.log" "$ns_m" jackd -n "$MASTER" $rt -d dummy -r "$RATE" -p "$PERIOD" -C 2 -P 2)
    echo "$m" >"$STATE_DIR/master.pid"
    wait_for 15 "master $MASTER" jenv "$MASTER" jack_lsp system:capture_1 || { do_stop; exit 1; }
    jenv "$MASTER" jack_load netmanager -i "-a $addr" >"$STATE_DIR/netmanager.log" 2>&1 || { cat "$STATE_DIR/netmanager.log" >&2; do_stop; die "jack_load netmanager failed"; }
    # shellcheck disable=SC2086
    s=$(spawn "$STATE_DIR/slave.log" "$ns_s" jackd -n "$NAME" $rt $sync -d net -a "$addr" -n "$NAME" -C 2 -P 2)
    echo "$s" >"$STATE_DIR/slave.pid"
    wait_for 20 "the slave's ports on the master" jenv "$MASTER" sh -c "jack_lsp | grep -q '^$NAME:to_slave_2\$'" || { tail "$STATE_DIR"/*.log >&2; do_stop; exit 1; }
    local i
    for i in 1 2; do jenv "$MASTER" jack_connect "$NAME:from_slave_$i" "$NAME:to_slave_$i"; done
    if [ -n "$PROBE" ]; then
        wait_for 15 "PortAudio on the slave" jenv "$NAME" "$PROBE" system || { do_stop; exit 1; }
    else
        wait_for 15 "the slave" jenv "$NAME" sh -c "jack_lsp | grep -q '^system:capture_1\$'" || { do_stop; exit 1; }
    fi
    trap - ERR
    echo "netjack rig '$NAME' started: master $MASTER (pid $m, dummy, $RATE Hz, period $PERIOD), slave $NAME (pid $s, net, $SLAVE_MODE, master at $addr$([ "$use_ns" = yes ] && echo ", network namespaces $NS_M/$NS_S over veth"); ready in $(( $(now_ms) - t0 )) ms)"
}

case $cmd in
    start) do_start ;;
    stop) do_stop ;;
    env) echo "export JACK_DEFAULT_SERVER=$NAME JACK_NO_START_SERVER=1" ;;
    pids) cat "$STATE_DIR/master.pid" "$STATE_DIR/slave.pid" ;;
    xruns) cat "$STATE_DIR/master.log" "$STATE_DIR/slave.log" 2>/dev/null | grep -ci 'xrun' || true ;;
    *) die "unknown command '$cmd'" ;;
esac
