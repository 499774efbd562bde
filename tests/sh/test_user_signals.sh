# SIGINT/SIGTERM as an error in the script (issue 17, point 3): the first
# signal stops the streams, finishes the files and raises an Interrupted
# error where the script waits, so <close>, pcall and cleanup run; not
# caught, it exits 130/143.
. tests/sh/tap.sh
PL=${PASTREAM_LUA:-./pastream-lua}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# signal SIG PID: send SIG once the script said "started"; sets rc.
signal() {
  ( sleep 20; kill -KILL $2 2>/dev/null ) &
  guard=$!
  i=0; while [ $i -lt 100 ] && ! grep -q started "$tmp/out"; do sleep 0.1; i=$((i + 1)); done
  sleep 0.5
  kill -$1 $2
  wait $2; rc=$?
  kill $guard 2>/dev/null; wait $guard 2>/dev/null
}
frames_of() { $PL -e "print(require('pastream').file_info('$1').frames)"; }

cat >"$tmp/close.lua" <<'LUA'
local ps = require "pastream"
local s <close> = ps.InputStream{ device = "loopback" }
local marker <close> = setmetatable({}, { __close = function(_, err)
  local f = assert(io.open(arg[2], "w"))
  f:write(tostring(err), "\n", s.rx_frames, "\n")
  f:close()
end })
print("started") io.stdout:flush()
s:record{ out = arg[1], frames = 48000 * 20 }
print("not reached")
LUA
for sig in INT TERM; do
  rm -f "$tmp/out"
  $PL "$tmp/close.lua" "$tmp/rec.wav" "$tmp/marker" >"$tmp/out" 2>"$tmp/err" &
  signal $sig $!
  want=130; [ $sig = TERM ] && want=143
  check_eq "SIG$sig not caught: exit $want" "$rc" "$want"
  check "SIG$sig: the <close> handler ran (marker file)" test -f "$tmp/marker"
  check_eq "SIG$sig: the error it closed with is Interrupted" "$(sed -n 1p "$tmp/marker")" "interrupted (SIG$sig)"
  check_eq "SIG$sig: the file was finished with every frame received" "$(frames_of "$tmp/rec.wav")" "$(sed -n 2p "$tmp/marker")"
  check "SIG$sig: the code after the wait did not run" sh -c "! grep -q 'not reached' '$tmp/out'"
  check "SIG$sig: says it was interrupted" contains "$(cat "$tmp/err")" "interrupted (SIG$sig)"
  rm -f "$tmp/marker" "$tmp/rec.wav"
done

cat >"$tmp/pcall.lua" <<'LUA'
local ps = require "pastream"
local s <close> = ps.InputStream{ device = "loopback" }
print("started") io.stdout:flush()
local ok, err = pcall(s.record, s, { out = arg[1], frames = 48000 * 20 })
print(ok, err.kind, err.signal, err == ps.Interrupted, tostring(err))
print("cleanup ran", s.stopped)
LUA
rm -f "$tmp/out"
$PL "$tmp/pcall.lua" "$tmp/rec.wav" >"$tmp/out" 2>"$tmp/err" &
signal INT $!
check_eq "a pcall that catches the signal: the script goes on and exits 0" "$rc" 0
check_eq "the error is Interrupted, SIGINT" "$(sed -n 2p "$tmp/out")" \
  "$(printf 'false\tInterrupted\tSIGINT\ttrue\tinterrupted (SIGINT)')"
check_eq "the code after the pcall ran, the stream was stopped" "$(sed -n 3p "$tmp/out")" "$(printf 'cleanup ran\ttrue')"
check "the file is there" test -f "$tmp/rec.wav"

# the same after a command-line chunk: pastream-lua -e CODE SCRIPT runs
# CODE, then SCRIPT, each as the main task (make gcstress runs every test
# so: the signal was the host's exit 130, never an error in the script)
rm -f "$tmp/out" "$tmp/rec.wav"
$PL -e 'EARLIER = true' "$tmp/pcall.lua" "$tmp/rec.wav" >"$tmp/out" 2>"$tmp/err" &
signal INT $!
check_eq "after -e CODE: the script catches the signal and exits 0" "$rc" 0
check_eq "... an Interrupted error where it waits" "$(sed -n 2p "$tmp/out")" \
  "$(printf 'false\tInterrupted\tSIGINT\ttrue\tinterrupted (SIGINT)')"

# plain lua5.4: the same error, in the main chunk
# (lua5.4 itself is not built with a sanitizer, so it loads the plain
# build's core even when PS_BUILD names a sanitizer build)
B=build
rm -f "$tmp/out" "$tmp/marker"
LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;" LUA_CPATH="$PWD/$B/?.so;;" \
  lua5.4 "$tmp/close.lua" "$tmp/rec54.wav" "$tmp/marker" >"$tmp/out" 2>"$tmp/err" &
signal INT $!
check "lua5.4: SIGINT ends the script with an error" test "$rc" -ne 0
check_eq "lua5.4: the <close> handler ran with the Interrupted error" "$(sed -n 1p "$tmp/marker" 2>/dev/null)" "interrupted (SIGINT)"
check_eq "lua5.4: the file was finished with every frame received" "$(frames_of "$tmp/rec54.wav")" "$(sed -n 2p "$tmp/marker" 2>/dev/null)"

echo "1..$tap_n"
