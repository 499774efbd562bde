# Start without the /bin/sh launcher (issue 18, point 10): the host run
# under the name `pastream` (the link bin/pastream that make builds, and
# bin/pastream that make install puts beside pastream-lua) runs the CLI
# itself, busybox-style; and it loads pastream's modules precompiled, with
# a check that a .luac is its source's.  Timing is measured in make bench,
# not here.
. tests/sh/tap.sh
top=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check "make builds bin/pastream" test -x bin/pastream
check_eq "bin/pastream is a link to the host binary" "$(readlink bin/pastream)" "../pastream-lua"
check_eq "... an ELF executable, no shell script in between" "$(head -c 4 ./pastream-lua | od -An -c | tr -d ' ')" '177ELF'
check_eq "bin/pastream -h is the CLI's help" "$(bin/pastream -h)" "$(scripts/pastream -h)"
check_eq "bin/pastream --version is the CLI's" "$(bin/pastream --version)" "$(scripts/pastream --version)"
out=$(bin/pastream -l 2>&1); rc=$?
check_eq "bin/pastream -l: exit 0" "$rc" 0
check "bin/pastream -l lists the rig's loopback" contains "$out" "loopback"
bin/pastream --bogus >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "a usage error: exit 2 through the host" "$rc" 2
check "... in the CLI's words" grep -q "^pastream: unknown option '--bogus'" "$tmp/e"
bin/pastream -v >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "every argument is the CLI's: -v is --volume (needs a value), not the host's version" "$rc" 2
check "... says so" grep -q "^pastream: -v/--volume needs a value" "$tmp/e"
bin/pastream -e 'print(1)' >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "... and -e is the CLI's --encoding, not the host's chunk" "$(cat "$tmp/o")" ""
# a link of that name anywhere runs the CLI, from any directory
mkdir "$tmp/bin"
ln -s "$top/pastream-lua" "$tmp/bin/pastream"
out=$(cd "$tmp" && env -u PASTREAM_LUA bin/pastream --version 2>&1); rc=$?
check_eq "a link named pastream elsewhere: exit 0" "$rc" 0
check "... runs the CLI" contains "$out" "pastream "
echo 'local ps = require "pastream" assert(ps.save(arg[1], ps.Buffer(4800, 2), 48000))' >"$tmp/mk.lua"
./pastream-lua "$tmp/mk.lua" "$tmp/in.wav"
(cd "$tmp" && "$tmp/bin/pastream" -D loopback in.wav out.wav 2>"$tmp/e"); rc=$?
check_eq "... plays and records: exit 0" "$rc" 0
check "... the summary" grep -q "^pastream: 4800 frames" "$tmp/e"
# the modules precompiled (src/host.c's bytecode searcher): used while each
# .luac has its source's exact modification time, never after an edit
req='print((select(2, require(os.getenv("M") or "pastream.cli"))))'
check_eq "pastream.cli comes from its precompiled build/luac/pastream/cli.luac" \
  "$(./pastream-lua -e "$req")" "$top/build/luac/pastream/cli.luac"
check_eq "... its functions keep the source's name and lines" \
  "$(./pastream-lua -e 'local i = debug.getinfo(require("pastream.cli").main, "S") print(i.source, i.linedefined > 0)')" \
  "@$top/lua/pastream/cli.lua	true"
check_eq "PASTREAM_LUA_NO_BYTECODE=1: the source" "$(PASTREAM_LUA_NO_BYTECODE=1 ./pastream-lua -e "$req")" "$top/lua/pastream/cli.lua"
# a copy of the tree, with times kept, to edit
mkdir -p "$tmp/t/build/pastream"
cp -p pastream-lua "$tmp/t/" && cp -pr lua "$tmp/t/" && cp -pr build/luac "$tmp/t/build/" &&
  cp -p build/pastream/core.so "$tmp/t/build/pastream/"
check_eq "a copy of the tree: its own .luac" "$("$tmp/t/pastream-lua" -e "$req")" "$tmp/t/build/luac/pastream/cli.luac"
{ echo 'EDITED = "new"'; cat lua/pastream/cli.lua; } >"$tmp/t/lua/pastream/cli.lua"
check_eq "after an edit of the source: the source, with the edit" \
  "$("$tmp/t/pastream-lua" -e 'local _, p = require "pastream.cli" print(p, EDITED)')" "$tmp/t/lua/pastream/cli.lua	new"
touch -d '2001-01-01' "$tmp/t/lua/pastream/cli.lua"
check_eq "... an edit dated before the .luac too" "$("$tmp/t/pastream-lua" -e "$req")" "$tmp/t/lua/pastream/cli.lua"
head -c 100 build/luac/pastream/devname.luac >"$tmp/t/build/luac/pastream/devname.luac"
touch -r lua/pastream/devname.lua "$tmp/t/build/luac/pastream/devname.luac"
check_eq "a damaged .luac with the right time: the source serves" "$(M=pastream.devname "$tmp/t/pastream-lua" -e "$req")" "$tmp/t/lua/pastream/devname.lua"
check_eq "... and the CLI runs" "$("$tmp/t/pastream-lua" -e 'print(require("pastream.cli") ~= nil)')" true
# the host under its own name is unchanged
check_eq "pastream-lua -e still runs a chunk" "$(./pastream-lua -e 'print(6 * 7)')" 42
echo "# $tap_n checks"
