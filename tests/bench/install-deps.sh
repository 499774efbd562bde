#!/bin/sh
# Install the Debian packages only the benchmarks need (tests/bench, `make bench`),
# only those that are missing. The project's own dependencies come from
# scripts/install-deps.sh.
#   jack-capture          the recording tool pastream is compared with
#   jackd2                the test rig, and jack_rec (its example clients)
#   libjack-jackd2-dev    jack_ringbuffer for the ring buffer comparison
#   hyperfine             start-up timing
#   sox lua5.4 time       offline analysis, bare Lua start-up, /usr/bin/time
set -eu
want="jack-capture jackd2 libjack-jackd2-dev hyperfine sox lua5.4 time"
missing=""
for p in $want; do
  st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  case "$st" in ii*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
echo "installing missing Debian packages for the benchmarks:$missing"
if [ "$(id -u)" -ne 0 ]; then
  echo "not root: run as root, or: sudo apt-get install --no-install-recommends$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive   # jackd2 asks a debconf question
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
