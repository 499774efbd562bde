# README flow after `make demo` (issue 18, point 11): the demo stops its
# rig, so the first screen of README.md says how to start one (and stop
# it) before the examples that need its `loopback` device, and what to do
# with a real sound card instead.  (The examples themselves run as written
# in tests/sh/test_readme_sh.sh.)
. tests/sh/tap.sh
first=$(sed -n 1,40p README.md)
check "the first screen says make demo stops its rig" contains "$first" "\`make demo\` stops its rig"
check "... says which examples need the rig's loopback device" contains "$first" "that name
\`-D loopback\` need that rig's \`loopback\` device"
check "... shows how to start it" contains "$first" "scripts/jackrig.sh start --name pastream-rig"
check "... and to point clients at it" contains "$first" 'eval "$(scripts/jackrig.sh env --name pastream-rig)"'
check "... and to stop it" contains "$first" "scripts/jackrig.sh stop --name pastream-rig"
check "... and what a real sound card needs instead (the default device)" contains "$first" "With a real sound card, leave \`-D loopback\` out: the default device plays"
# the commands quoted are the rig script's own
usage=$(scripts/jackrig.sh --help 2>&1)
for word in start stop env --name --period --probe; do
  check "scripts/jackrig.sh knows '$word' as README quotes it" contains "$usage" "$word"
done
# the rig start comes before the first example that needs it
start_line=$(grep -n "scripts/jackrig.sh start --name pastream-rig" README.md | head -n1 | cut -d: -f1)
first_use=$(grep -n "^scripts/pastream.*-D loopback" README.md | head -n1 | cut -d: -f1)
check "the rig is started before the first -D loopback example ($start_line < $first_use)" test "$start_line" -lt "$first_use"
echo "# $tap_n checks"
