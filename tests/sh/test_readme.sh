# Every ```lua block of README.md runs without error on the rig.
. tests/sh/tap.sh
top=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk -v dir="$tmp" '
  /^```lua$/ { n++; f = sprintf("%s/block%d.lua", dir, n); inb = 1; next }
  /^```$/    { inb = 0; next }
  inb        { print > f }
' README.md
for f in "$tmp"/block*.lua; do
  name=$(basename "$f" .lua)
  if (cd "$tmp" && "${PASTREAM_LUA:-$top/pastream-lua}" "$f" >"$f.out" 2>&1); then
    ok "README $name runs"
  else
    fail "README $name runs" "$(tail -5 "$f.out" | tr '\n' ' ')"
  fi
done
check "README has Lua examples" test -e "$tmp/block1.lua"
echo "# $tap_n checks"
