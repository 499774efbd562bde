# The argument defects of the CLI and the recipes (issue 16, point 10): an
# ALSA-style device name with a comma, a duration too long for frames, the
# @argfile's trailing backslash and line numbers, -b given as a bit depth,
# -D '' in record.lua, combined short options in recipes, demo.lua --help.
. tests/sh/tap.sh
cli_setup   # PS, PL and $tmp (tests/sh/tap.sh)

# ---- -D: a whole name first, then a pair whose parts all name devices ----

$PS -D hw:0,0 -d 0.2 null "$tmp/hw.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "-D hw:0,0 (no such device): exit 2" "$rc" 2
check "... names -D and the part that matches nothing" \
  grep -q "^pastream: -D/--device: no device matches 'hw:0' .*in 'hw:0,0', a comma separates" "$tmp/e"
check "... and records nothing" test ! -e "$tmp/hw.wav"

cat >"$tmp/sides.lua" <<'LUA'
local cli = require "pastream.cli"
-- devices as an ALSA host lists them: every word of a query must occur
local names = { "hda intel pch: alc257 analog (hw:0,0)", "hdmi 0 (hw:0,3)", "loopback", "system" }
local function matches(q)
  local n = 0
  for _, name in ipairs(names) do
    local all = true
    for w in q:lower():gmatch("%S+") do if not name:find(w, 1, true) then all = false end end
    if all then n = n + 1 end
  end
  if n == 1 then return true end
  return false, n == 0 and ("no device matches '" .. q .. "'") or "several"
end
local function show(text)
  local ok, r = pcall(cli.device_sides, text, matches)
  if not ok then return "error: " .. tostring(r) end
  return tostring(r.input) .. " | " .. tostring(r.output)
end
for i = 1, #arg do print(show(arg[i])) end
LUA
out=$($PL "$tmp/sides.lua" "hw:0,0" "hw:0,3" "loopback,system" "loopback" "null,loopback" "hw:7,9" 2>&1)
check_eq "a whole name with a comma is one device" "$(echo "$out" | sed -n 1p)" "hw:0,0 | hw:0,0"
check_eq "... another one" "$(echo "$out" | sed -n 2p)" "hw:0,3 | hw:0,3"
check_eq "a pair of names is still a pair" "$(echo "$out" | sed -n 3p)" "loopback | system"
check_eq "one name is both sides" "$(echo "$out" | sed -n 4p)" "loopback | loopback"
check_eq "null on a side keeps the default" "$(echo "$out" | sed -n 5p)" "nil | loopback"
check "a comma value that names no device, nor a pair, is refused" \
  contains "$(echo "$out" | sed -n 6p)" "error: no device matches 'hw:7' (in 'hw:7,9'"

# ---- a time too long to count in frames names its option, exit 2 --------

$PS -D loopback -d 99999999999999999999 null "$tmp/long.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "-d 99999999999999999999: exit 2 (a usage error)" "$rc" 2
check "... names -d" grep -q "^pastream: -d/--duration: '99999999999999999999' is too long" "$tmp/e"
check "... records nothing" test ! -e "$tmp/long.wav"
echo 'local ps = require "pastream" assert(ps.save(arg[1], ps.Buffer(480, 2), 48000))' >"$tmp/mk.lua"
$PL "$tmp/mk.lua" "$tmp/in.wav"
$PS -D loopback -p 99999999999999999999 -d 1 "$tmp/in.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check "-p too long names -p" grep -q "^pastream: -p/--pad: '99999999999999999999' is too long" "$tmp/e"

# ---- @argfile: a trailing backslash, line numbers after a continuation ----

cat >"$tmp/argfile.lua" <<'LUA'
local ok, l = pcall(require("pastream.cli").read_argfile, arg[1])
if not ok then print(l) return end
print(#l, table.concat(l, "|"))
LUA

printf 'null out.wav \\' >"$tmp/a1"
out=$($PL "$tmp/argfile.lua" "$tmp/a1")
check_eq "a backslash at the end of an @argfile adds no empty argument" "$out" "$(printf '2\tnull|out.wav')"
printf -- '-d 1 \\\n-q \\\n  --loop\n"open\n' >"$tmp/a2"
out=$($PL "$tmp/argfile.lua" "$tmp/a2")
check "after two continuations, an unclosed quote is on line 4" contains "$out" "a2:4: the \" quote is never closed"
printf '"a\\\nb" '"'"'c\n' >"$tmp/a3"
out=$($PL "$tmp/argfile.lua" "$tmp/a3")
check "a continuation inside double quotes counts its line" contains "$out" "a3:2: the ' quote is never closed"

# ---- -b is frames per callback, not sox's bits per sample -----------------

$PS -D loopback -b 16 -d 0.2 null "$tmp/b.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "-b 16: exit 2" "$rc" 2
check "... says it is not a bit depth, and what to use" \
  grep -q "^pastream: -b/--blocksize: 16 frames per callback is too small .*not sox's bits per sample: for 16-bit samples use -e pcm_16" "$tmp/e"
check "... records nothing" test ! -e "$tmp/b.wav"
out=$($PL -e 'local c = require("pastream.cli") print(c.parse_args{"-b", "0", "x"}.blocksize, c.parse_args{"-b", "32", "x"}.blocksize)')
check_eq "-b 0 and -b 32 are blocksizes" "$out" "$(printf '0\t32')"

# ---- recipes ---------------------------------------------------------------

$PL scripts/record.lua -D '' -d 0.1 "$tmp/r.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "record.lua -D '' (the default device): exit 0" "$rc" 0
check "... and records" test -s "$tmp/r.wav"
default_in=$($PL -e 'print(require("pastream").device(nil, "input").name)')
check "... from the default input device ($default_in)" grep -q "^recording .* from '$default_in'" "$tmp/o"

$PL scripts/record.lua -D loopback -yd 0.1 "$tmp/r.wav" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "record.lua -yd 0.1 over an existing file: exit 0" "$rc" 0
check "... 4800 frames" grep -q "^recorded 4800 frames" "$tmp/o"
cat >"$tmp/parse.lua" <<'LUA'
local recipe = require "pastream.recipe"
local spec = { usage = "x", args = { 0, 1 },
  { "y", "overwrite", nil, "replace" },
  { "q", "quiet", nil, "quiet" },
  { "d", "duration", "SECONDS", "length", recipe.positive } }
local ok, o = pcall(recipe.parse, arg, spec)
if not ok then print("error", type(o) == "table" and o.message or o) return end
print(o.overwrite, o.quiet, o.duration, o[1])
LUA
check_eq "recipe.parse: -yd 0.2" "$($PL "$tmp/parse.lua" -yd 0.2 f)" "$(printf 'true\tnil\t0.2\tf')"
check_eq "recipe.parse: -qyd0.5" "$($PL "$tmp/parse.lua" -qyd0.5)" "$(printf 'true\ttrue\t0.5\tnil')"
check "recipe.parse: an unknown letter in a cluster is named" \
  contains "$($PL "$tmp/parse.lua" -yz 2>&1)" "unknown option '-z' (in '-yz')"

out=$($PL scripts/demo.lua --help 2>&1); rc=$?
check_eq "demo.lua --help: exit 0" "$rc" 0
check "demo.lua --help prints the usage" contains "$out" "usage: demo.lua [DEVICE] [OUT.wav]"
$PL scripts/demo.lua --bogus >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "demo.lua --bogus: exit 2, not a device named --bogus" "$rc" 2
check "... names the option" grep -q "unknown option '--bogus'" "$tmp/e"

echo "# $tap_n checks"
