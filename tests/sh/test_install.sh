# make install into a temporary DESTDIR: the installed programs run and find
# their modules without environment variables, plain lua5.4 finds the
# module, the man pages and the bash completion are in place, and make
# uninstall removes exactly what was installed.
. tests/sh/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
d=$tmp/root
make -s install DESTDIR="$d" PREFIX=/usr >"$tmp/log" 2>&1
check "make install DESTDIR=... PREFIX=/usr succeeds" test $? -eq 0
for f in bin/pastream-lua bin/pastream lib/lua/5.4/pastream/core.so share/lua/5.4/pastream/init.lua \
         share/lua/5.4/pastream/cli.lua share/lua/5.4/pastream/task.lua share/pastream-lua/scripts/demo.lua \
         share/man/man1/pastream.1 share/man/man1/pastream-lua.1 share/bash-completion/completions/pastream \
         share/bash-completion/completions/pastream-lua share/doc/pastream-lua/API.md; do
  check "installs usr/$f" test -f "$d/usr/$f"
done
out=$(cd "$tmp" && env -u LUA_PATH -u LUA_CPATH "$d/usr/bin/pastream-lua" -e 'print(package.searchpath("pastream", package.path))')
check_eq "the installed pastream-lua loads the installed modules" "$(realpath "$out" 2>/dev/null)" "$(realpath "$d/usr/share/lua/5.4/pastream/init.lua")"
out=$(cd "$tmp" && env -u LUA_PATH -u LUA_CPATH "$d/usr/bin/pastream-lua" -e 'print(package.searchpath("pastream.core", package.cpath))')
check_eq "the installed pastream-lua loads the installed core.so" "$(realpath "$out" 2>/dev/null)" "$(realpath "$d/usr/lib/lua/5.4/pastream/core.so")"
out=$(cd "$tmp" && env -u LUA_PATH -u LUA_CPATH "$d/usr/bin/pastream-lua" -e 'print(package.searchpath("pastream.task", package.path))')
check_eq "the installed pastream-lua runs the installed task.lua" "$(realpath "$out" 2>/dev/null)" "$(realpath "$d/usr/share/lua/5.4/pastream/task.lua")"
out=$(cd "$tmp" && env -u LUA_PATH -u LUA_CPATH "$d/usr/bin/pastream-lua" -e 'local _, p = require "pastream.cli" print(p)')
check_eq "... precompiled: the installed cli.luac" "$(realpath "$out" 2>/dev/null)" "$(realpath "$d/usr/lib/pastream-lua/luac/pastream/cli.luac")"
out=$(cd "$tmp" && env -u LUA_PATH -u LUA_CPATH "$d/usr/bin/pastream-lua" -e 'print(debug.getinfo(require("pastream.cli").main, "S").source)')
check_eq "... named as the installed source (PREFIX=/usr)" "$out" "@/usr/share/lua/5.4/pastream/cli.lua"
check "the installed pastream-lua runs (-v)" sh -c "'$d/usr/bin/pastream-lua' -v | grep -q PortAudio"
check "the installed pastream runs (-h)" sh -c "cd '$tmp' && '$d/usr/bin/pastream' -h | grep -q usage"
check "the installed pastream lists the rig's devices (-l)" sh -c "cd '$tmp' && '$d/usr/bin/pastream' -l | grep -q loopback"
check "plain lua5.4 requires the installed module" env LUA_PATH="$d/usr/share/lua/5.4/?.lua;$d/usr/share/lua/5.4/?/init.lua;;" \
  LUA_CPATH="$d/usr/lib/lua/5.4/?.so;;" lua5.4 -e 'local ps = require "pastream"; assert(#ps.devices() >= 1)'
check "man finds the installed pastream(1)" sh -c "MANWIDTH=80 man -M '$d/usr/share/man' pastream 2>/dev/null | grep -q -- --duration"
check "man finds the installed pastream-lua(1)" sh -c "MANWIDTH=80 man -M '$d/usr/share/man' pastream-lua 2>/dev/null | grep -q -- --recipes"
check "the installed completion completes the installed pastream's options" bash -c \
  "source '$d/usr/share/bash-completion/completions/pastream'; COMP_WORDS=('$d/usr/bin/pastream' --fat); COMP_CWORD=1; _pastream; [ \"\$COMPREPLY\" = --fatal-xruns ]"
make -s uninstall DESTDIR="$d" PREFIX=/usr >"$tmp/log" 2>&1
left=$(find "$d" -type f | head -5)
check_eq "make uninstall removes every installed file" "$left" ""
echo "# $tap_n checks"
