# TAP helpers for shell tests: source this file.
tap_n=0
ok()   { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
fail() { tap_n=$((tap_n + 1)); echo "not ok $tap_n - $1"; [ $# -gt 1 ] && echo "#   $2"; }
# check NAME COMMAND...: ok when the command succeeds
check() { name=$1; shift; if "$@"; then ok "$name"; else fail "$name" "failed: $*"; fi; }
# check_eq NAME GOT WANT
check_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "got '$2', want '$3'"; fi; }
# contains TEXT PATTERN: fixed-string match
contains() { printf '%s' "$1" | grep -qF -- "$2"; }
