# The man pages: both render with man -l and groff without a warning, and
# every option pastream-lua and pastream know (the CLI's own option table,
# and what --help shows) has its entry in its page.
. tests/sh/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C MANWIDTH=80
for page in man/pastream.1 man/pastream-lua.1; do
  man --warnings -l "$page" >"$tmp/out" 2>"$tmp/err"
  check "man -l $page renders" test $? -eq 0 -a -s "$tmp/out"
  check_eq "man --warnings -l $page: no warnings" "$(cat "$tmp/err")" ""
  groff -man -ww -z "$page" >"$tmp/err" 2>&1
  check_eq "groff -man -ww $page: no warnings" "$(cat "$tmp/err")" ""
done

# An option has its entry when a tag line (indented 7 spaces) names it:
# "-d TIME, --duration=TIME", "--loop", "-e code".
has_entry() {   # has_entry RENDERED SHORT LONG
  if [ -n "$2" ] && [ -n "$3" ]; then
    grep -Eq -- "^ {7}-$2([ ,].*)?, --$3([=[ ]|$)" "$1"
  elif [ -n "$3" ]; then
    grep -Eq -- "^ {7}--$3([=[ ]|$)" "$1"
  else
    grep -Eq -- "^ {7}-$2([ ,]|$)" "$1"
  fi
}

man -l man/pastream.1 >"$tmp/pastream.txt"
${PASTREAM_LUA:-./pastream-lua} -e 'for _, o in ipairs(require("pastream.cli").options) do print(o.short or "", o.long) end' \
  >"$tmp/options"
check "the CLI's option table has options" test "$(wc -l <"$tmp/options")" -ge 20
while read -r s l; do
  [ -z "$l" ] && { l=$s; s=; }
  check "pastream.1 documents ${s:+-$s, }--$l" has_entry "$tmp/pastream.txt" "$s" "$l"
done <"$tmp/options"
# and whatever --help shows, in case it gains an option the table lacks
scripts/pastream --help >"$tmp/help"
for opt in $(grep -oE -- '(^|[ ,])--[a-z][a-z-]*' "$tmp/help" | tr -d ' ,' | sort -u); do
  check "pastream.1 has $opt of --help" grep -q -- "$opt" "$tmp/pastream.txt"
done

man -l man/pastream-lua.1 >"$tmp/pastream-lua.txt"
${PASTREAM_LUA:-./pastream-lua} -h >"$tmp/hosthelp"
n=0
for opt in $(sed -n 's/^  \(-[-a-z]*\).*/\1/p' "$tmp/hosthelp"); do
  n=$((n + 1))
  case "$opt" in
    --?*) check "pastream-lua.1 documents $opt" has_entry "$tmp/pastream-lua.txt" "" "${opt#--}" ;;
    -)    check "pastream-lua.1 documents -" grep -Eq '^ {7}-( |$)' "$tmp/pastream-lua.txt" ;;
    --)   check "pastream-lua.1 documents --" grep -Eq '^ {7}--( |$)' "$tmp/pastream-lua.txt" ;;
    *)    check "pastream-lua.1 documents $opt" has_entry "$tmp/pastream-lua.txt" "${opt#-}" "" ;;
  esac
done
check "pastream-lua -h lists at least 6 options" test "$n" -ge 6
echo "# $tap_n checks"
