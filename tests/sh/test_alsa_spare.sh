# ALSA's plugins spared (issue 19, point 6).  With libasound2-plugins
# installed, Pa_Initialize opens every plugin PCM ALSA's configuration shows
# and loads their libraries, whatever the device asked for.  A device named
# on another host API before PortAudio starts (-D jack:loopback) gives ALSA
# the system's alsa.conf without the hook that loads the plugins'
# configuration (src/device.h, ps_pa_spare_alsa): no plugin is loaded.  The
# machine with the package installed is played by an ALSA top directory
# (ALSA_CONFIG_DIR) like the system's, whose alsa.conf's hook also loads the
# package's configuration, unpacked in build/alsa-plugins.  What it saves is
# measured in make bench (tests/bench/alsa.md).
. tests/sh/tap.sh
PL=${PASTREAM_LUA:-./pastream-lua}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plug=$(cd "${PS_ALSA_PLUGINS:-build/alsa-plugins}" 2>/dev/null && pwd)
plugdir=$(ls -d "$plug"/usr/lib/*/alsa-lib 2>/dev/null | head -n 1)
if [ -z "$plugdir" ]; then
  fail "libasound2-plugins unpacked in build/alsa-plugins (scripts/install-deps.sh test)"
  echo "# $tap_n checks"; exit 1
fi
mkdir "$tmp/alsa" "$tmp/t"
for d in /usr/share/alsa/*; do ln -s "$d" "$tmp/alsa/"; done
rm "$tmp/alsa/alsa.conf"
awk -v d="$plug/usr/share/alsa/alsa.conf.d" \
  '{ print } /^@hooks \[/ { h = 1 } h && /files \[/ { print "\t\t\t\"" d "\""; h = 0 }' \
  /usr/share/alsa/alsa.conf >"$tmp/alsa/alsa.conf"
installed() { env -u ALSA_CONFIG_PATH ALSA_CONFIG_DIR="$tmp/alsa" ALSA_PLUGIN_DIR="$plugdir" TMPDIR="$tmp/t" "$@"; }
# plugged CMD...: a run that loads the plugins.  Under make asan without
# LeakSanitizer: the plugin libraries leak, and ALSA has unloaded them by
# the time LSan reports, so their frames show as "<unknown module>" and
# cannot be suppressed by name (tests/lsan.supp).  The runs that spare the
# plugins keep it.
plugged() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$@"; }

# probe QUERY: find the device, record 4800 frames from it; prints the
# device's host API, the frames, the plugin modules mapped, and where
# ALSA's configuration came from
cat >"$tmp/probe.lua" <<'LUA'
local ps = require "pastream"
local d = ps.device(arg[1], "input")
local s <close> = ps.InputStream { device = d.index }
local rec = s:record { frames = 4800 }
local f = assert(io.open("/proc/self/maps")) local maps = f:read("a") f:close()
local mods = {}
for m in maps:gmatch("libasound_module_[%w_]+%.so") do mods[m] = true end
local n = 0 for _ in pairs(mods) do n = n + 1 end
local conf = os.getenv("ALSA_CONFIG_PATH")
print(d.hostapi_name:match("^%S+"), rec:frames(), n, conf and (conf:match("pastream%-alsa%-") and "spared" or conf) or "-")
LUA

out=$(plugged installed "$PL" "$tmp/probe.lua" loopback 2>&1)
set -- $out
check "plugins installed, -D loopback: ALSA loads plugin modules (here $3)" test "${3:-0}" -gt 0 2>/dev/null
check_eq "... and ALSA's configuration is the system's" "${4:-?}" "-"
out=$(installed "$PL" "$tmp/probe.lua" jack:loopback 2>&1)
check_eq "plugins installed, -D jack:loopback: the JACK device, 4800 frames, no plugin module loaded" \
  "$out" "$(printf 'JACK\t4800\t0\tspared')"
check_eq "... and the configuration written for ALSA is gone at exit" "$(ls -A "$tmp/t")" ""
check_eq "sparing ALSA twice before PortAudio starts: done once, then nothing" \
  "$(installed "$PL" -e 'local c = require "pastream.core" print(c.spare_alsa(), c.spare_alsa())' 2>&1)" "$(printf 'true\tfalse')"
out=$(plugged installed env ALSA_CONFIG_PATH="$tmp/alsa/alsa.conf" "$PL" "$tmp/probe.lua" jack:loopback 2>&1)
set -- $out
check "ALSA_CONFIG_PATH set by the user is kept, -D jack:loopback too (plugin modules: $3)" \
  test "${3:-0}" -gt 0 -a "${4:-}" = "$tmp/alsa/alsa.conf" 2>/dev/null
out=$(plugged installed "$PL" "$tmp/probe.lua" alsa:nothing-here 2>&1)
check "-D alsa:NAME spares nothing: the plugins' PCMs are ALSA's devices ('jack')" \
  contains "$out" "no input device of ALSA matches 'nothing-here' (there are: 0 'jack' (ALSA))"
check_eq "... and left no file behind" "$(ls -A "$tmp/t")" ""
# the CLI: the first device it looks for is -D's.  opened CMD...: its exit
# status, and the plugin modules it opened
opened() {
  # (LeakSanitizer cannot run under ptrace either: in make asan it would
  # end the traced program with status 1)
  plugged installed strace -f -e trace=openat -o "$tmp/trace" "$@" >/dev/null 2>&1
  echo "$? $(grep -c 'libasound_module_[a-z_]*\.so", O_RDONLY|O_CLOEXEC) = [0-9]' "$tmp/trace")"
}
set -- $(opened scripts/pastream -D loopback -d 0.1 null "$tmp/a.wav")
check "pastream -D loopback: exit 0, plugin modules opened ($2)" test "$1" = 0 -a "${2:-0}" -gt 0
check_eq "pastream -D jack:loopback: exit 0, no plugin module opened" \
  "$(opened scripts/pastream -D jack:loopback -d 0.1 null "$tmp/b.wav")" "0 0"
echo "# $tap_n checks"
