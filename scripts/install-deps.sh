#!/bin/sh
# Install the Debian packages pastream-lua needs, only those that are missing.
#   scripts/install-deps.sh build   -- to build
#   scripts/install-deps.sh test    -- to build and run the tests and demo
#   scripts/install-deps.sh check-all -- also valgrind (make valgrind)
#   scripts/install-deps.sh bench   -- also what only the benchmarks use:
#     jack-capture (the recorder compared with), libjack-jackd2-dev
#     (jack_ringbuffer), hyperfine (start-up timing), time (/usr/bin/time)
#   scripts/install-deps.sh fuzz    -- test, plus clang and its sanitizer and
#     libFuzzer runtimes (libclang-rt-14-dev) for make fuzz
set -eu
build="gcc make pkg-config portaudio19-dev libsndfile1-dev libsamplerate0-dev liblua5.4-dev lua-luv-dev libuv1-dev libkissfft-dev libpng-dev"
test="$build jackd2 lua5.4 sox luarocks man-db chromium"
fuzz="clang libclang-rt-14-dev"
case "${1:-build}" in
  build) want=$build ;;
  test)  want=$test ;;
  fuzz)  want="$test $fuzz" ;;
  check-all) want="$test valgrind" ;;
  bench) want="$test jack-capture libjack-jackd2-dev hyperfine time" ;;
  *) echo "usage: $0 build|test|fuzz|check-all|bench" >&2; exit 2 ;;
esac
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
