#!/bin/sh
# Install the Debian packages pastream-lua needs, only those that are missing.
#   scripts/install-deps.sh build   -- to build
#   scripts/install-deps.sh test    -- to build and run the tests and demo
#   scripts/install-deps.sh check-all -- also valgrind (make valgrind)
#   scripts/install-deps.sh bench   -- also what only the benchmarks use:
#     jack-capture (the recorder compared with), libjack-jackd2-dev
#     (jack_ringbuffer), hyperfine (start-up timing), time (/usr/bin/time)
#   test also: pipewire, pipewire-bin, pipewire-jack (scripts/pwrig.sh),
#     iproute2 and util-linux (ip netns, unshare, setsid: scripts/netjackrig.sh),
#     and a private copy of libasound2-plugins unpacked into
#     $PS_ALSA_PLUGINS (default build/alsa-plugins; scripts/alsarig.sh): not
#     installed, because its ALSA PCMs (pcm.jack first) then become every
#     program's default device and change every test's device list
#   bench also: the libraries those plugins load (libavcodec59 ...), so that
#     tests/bench/alsa.sh measures PortAudio with all of them visible
#   scripts/install-deps.sh fuzz    -- test, plus clang and its sanitizer and
#     libFuzzer runtimes (libclang-rt-14-dev) for make fuzz
set -eu
build="gcc make pkg-config portaudio19-dev libsndfile1-dev libsamplerate0-dev liblua5.4-dev lua-luv-dev libuv1-dev libkissfft-dev libpng-dev"
test="$build jackd2 lua5.4 sox luarocks man-db chromium pipewire pipewire-bin pipewire-jack iproute2 util-linux strace"
fuzz="clang libclang-rt-14-dev"
case "${1:-build}" in
  build) want=$build ;;
  test)  want=$test ;;
  fuzz)  want="$test $fuzz" ;;
  check-all) want="$test valgrind" ;;
  bench) want="$test jack-capture libjack-jackd2-dev hyperfine time libavcodec59 libswresample4 libpulse0 libspeexdsp1 libsamplerate0" ;;
  *) echo "usage: $0 build|test|fuzz|check-all|bench" >&2; exit 2 ;;
esac
# the ALSA plugins, unpacked where scripts/alsarig.sh looks (not installed)
alsa_plugins() {
  dir=${PS_ALSA_PLUGINS:-build/alsa-plugins}
  [ -e "$dir/usr/lib/$(uname -m)-linux-gnu/alsa-lib/libasound_module_pcm_jack.so" ] && return 0
  mkdir -p "$dir/deb"
  ( cd "$dir/deb" && rm -f libasound2-plugins_*.deb &&
    { apt-get download libasound2-plugins >/dev/null 2>&1 ||
      { [ "$(id -u)" -eq 0 ] && apt-get update -qq && apt-get download libasound2-plugins >/dev/null; }; } ) ||
    { echo "cannot download libasound2-plugins (for scripts/alsarig.sh)" >&2; return 1; }
  dpkg -x "$dir"/deb/libasound2-plugins_*.deb "$dir"
  echo "unpacked libasound2-plugins into $dir"
}
case "${1:-build}" in test|fuzz|check-all|bench) alsa_plugins || true ;; esac
missing=""
for p in $want; do
  st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  case "$st" in ii*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "installing missing Debian packages:$missing"
if [ "$(id -u)" -ne 0 ]; then
  echo "not root: run as root, or: sudo apt-get install --no-install-recommends$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive   # jackd2 asks a debconf question
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
