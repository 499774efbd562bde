# README.md quotes `pastream --help` verbatim.
. tests/sh/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
scripts/pastream --help >"$tmp/help"
awk '/<!-- help:begin -->/ { on = 1; next } /<!-- help:end -->/ { on = 0 } on' README.md |
  sed '1d;$d' >"$tmp/readme"
check "README.md has the help section" test -s "$tmp/readme"
if cmp -s "$tmp/help" "$tmp/readme"; then ok "README.md quotes pastream --help verbatim"
else fail "README.md quotes pastream --help verbatim" "$(diff "$tmp/help" "$tmp/readme" | head -5 | tr '\n' ' ')"; fi
for opt in $(grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u); do
  check "--help documents $opt and README has it" grep -q -- "$opt" "$tmp/readme"
done
echo "# $tap_n checks"
