# The rockspec: `luarocks make` builds and installs the module into a local
# tree (from a copy of the sources, so the checkout stays clean), and plain
# lua5.4 with that tree's paths requires "pastream", lists the rig's
# devices and plays a Buffer through loopback, getting it back bit-exact.
. tests/sh/tap.sh
top=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rockspec=rockspecs/pastream-lua-scm-1.rockspec
check "luarocks lint accepts the rockspec" luarocks --lua-version 5.4 lint "$rockspec"

mkdir "$tmp/src"
cp -r src lua rockspecs README.md LICENSE "$tmp/src/"
cp -r doc "$tmp/src/"
# Debian's lua-luv provides luv outside luarocks' manifest: say so, as the
# README tells users to, instead of letting luarocks fetch the luv rock.
luv=$(lua5.4 -e 'print((require "luv").version_string())')
printf 'rocks_provided = { luv = "%s-1" }\n' "$luv" >"$tmp/config.lua"
tree=$tmp/tree
(cd "$tmp/src" && LUAROCKS_CONFIG="$tmp/config.lua" HOME="$tmp" \
  luarocks --lua-version 5.4 make --tree "$tree" "$rockspec") >"$tmp/log" 2>&1
check "luarocks make --tree TMP builds and installs the rock" test $? -eq 0
grep -q "Missing dependencies" "$tmp/log" && fail "no missing dependency reported" "$(grep -A2 Missing "$tmp/log")" ||
  ok "no missing dependency reported"
for f in lib/lua/5.4/pastream/core.so share/lua/5.4/pastream/init.lua \
         share/lua/5.4/pastream/cli.lua share/lua/5.4/pastream/recipe.lua \
         share/lua/5.4/pastream/task.lua; do
  check "the rock installs $f" test -f "$tree/$f"
done
check "the rock carries the API reference" test -f "$tree/lib/luarocks/rocks-5.4/pastream-lua/scm-1/doc/API.md"
list=$(HOME="$tmp" luarocks --lua-version 5.4 list --tree "$tree" --porcelain 2>/dev/null)
check "luarocks list shows pastream-lua scm-1" contains "$list" "pastream-lua	scm-1"

cat >"$tmp/use.lua" <<'LUA'
local ps = require "pastream"
print("module", package.searchpath("pastream", package.path))
print("core", package.searchpath("pastream.core", package.cpath))
local names = {}
for _, d in ipairs(ps.devices()) do names[#names + 1] = d.name end
print("devices", table.concat(names, ","))
local s <close> = ps.DuplexStream{ device = "loopback", channels = 2 }
local src = ps.Buffer(4800, 2)
local x = 12345
for i = 1, #src do
  x = (x * 1103515245 + 12345) % 2147483648
  src[i] = (x >> 7) / (1 << 24) - 0.5          -- exact in float32
end
local delay = s:roundtrip_frames()
local rec = s:playrec(src, { frames = 4800 + delay, offset = delay, pad = -1 })
print("frames", rec:frames())
print("equal", rec:equals(src))
LUA
eval "$(luarocks --lua-version 5.4 path --tree "$tree")"
out=$(cd "$tmp" && lua5.4 use.lua 2>&1)
echo "$out" | sed 's/^/# /'
check_eq "lua5.4 loads pastream from the tree" "$(echo "$out" | sed -n 's/^module\t//p')" "$tree/share/lua/5.4/pastream/init.lua"
check_eq "lua5.4 loads pastream.core from the tree" "$(echo "$out" | sed -n 's/^core\t//p')" "$tree/lib/lua/5.4/pastream/core.so"
check "the rock's module lists the rig's loopback device" contains "$(echo "$out" | grep '^devices')" loopback
check_eq "4800 frames come back through loopback" "$(echo "$out" | sed -n 's/^frames\t//p')" 4800
check_eq "they come back bit-exact" "$(echo "$out" | sed -n 's/^equal\t//p')" true
echo "# $tap_n checks"
