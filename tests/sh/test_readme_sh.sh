# Every ```sh block of README.md runs as written, in order, on the rig, in a
# copy of the built tree (so that what the examples write stays out of the
# checkout).  Each command must exit 0; a command with a `#> TEXT` comment
# must print exactly TEXT; every sound file the examples leave must hold
# frames.
. tests/sh/tap.sh
top=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
copy=$tmp/tree
mkdir "$copy" "$tmp/home"
tar -C "$top" --exclude=./.git --exclude=./tests/out --exclude=./build-asan --exclude=./build-tsan \
  -cf - . | tar -C "$copy" -xf -
check "the tree copies into a scratch directory" test -x "$copy/pastream-lua"

# One bash script per block: each line echoed, run, its status checked;
# a #> line's output compared.  README line numbers in the messages.
cat >"$tmp/gen.lua" <<'LUA'
local readme, dir = arg[1], arg[2]
local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local n, out, checks, lineno = 0, nil, 0, 0
for line in io.lines(readme) do
  lineno = lineno + 1
  if line == "```sh" then
    n = n + 1
    out = assert(io.open(string.format("%s/block%02d.sh", dir, n), "w"))
  elseif out and line == "```" then
    out:close()
    out = nil
  elseif out and line:match("%S") and not line:match("^%s*#") then
    local where = "README.md:" .. lineno
    out:write("printf '%s\\n' ", q("+ " .. line), "\n")
    local want = line:match("#> (.-)%s*$")
    if want then
      checks = checks + 1
      out:write("__out=$(\n", line, "\n) || { echo ", q(where .. ": exit status "), "$?; exit 1; }\n",
                "printf '%s\\n' \"$__out\"\n",
                "[ \"$__out\" = ", q(want), " ] || { echo ", q(where .. ": expected " .. want), "; exit 1; }\n")
    else
      out:write(line, "\n",
                "__rc=$?; [ $__rc -eq 0 ] || { echo ", q(where .. ": exit status "), "$__rc; exit 1; }\n")
    end
  end
end
print(n, checks)
LUA
set -- $(lua5.4 "$tmp/gen.lua" README.md "$tmp")
check "README.md has at least 4 sh blocks" test "${1:-0}" -ge 4
check "README.md's sh blocks check at least 8 outputs (#>)" test "${2:-0}" -ge 8

before=$(cd "$copy" && ls)
for b in "$tmp"/block*.sh; do
  name=$(basename "$b" .sh)
  if (cd "$copy" && HOME="$tmp/home" bash "$b") >"$tmp/$name.log" 2>&1; then
    ok "README sh $name runs as written"
  else
    fail "README sh $name runs as written" "$(grep -E '^README.md:[0-9]+' "$tmp/$name.log" | tail -1)"
    sed 's/^/#   | /' "$tmp/$name.log" | tail -8
  fi
done

# The sound files the examples wrote hold frames.
nfiles=0
for f in $(cd "$copy" && ls); do
  case "$f" in *.wav|*.flac) ;; *) continue ;; esac
  echo "$before" | grep -qx -- "$f" && continue
  nfiles=$((nfiles + 1))
  frames=$(soxi -s "$copy/$f" 2>/dev/null)
  check "the examples' $f holds frames ($frames)" test "${frames:-0}" -gt 0
done
check "the examples write sound files" test "$nfiles" -ge 4
echo "# $tap_n checks"
