# bash completion (completion/pastream.bash): sourced in bash, _pastream
# fills COMPREPLY with options, the rig's device names after -D/--device,
# fixed values and file names; _pastream_lua with options, scripts and
# bundled recipes.
. tests/sh/tap.sh
top=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/dir"
touch "$tmp/dir/take1.wav" "$tmp/dir/take2.flac" "$tmp/dir/notes.txt"

# complete_with FUNCTION COMMAND WORD...: what TAB offers for the last word
complete_with() {
  (cd "$tmp/dir" && bash -c '
    source "$1/completion/pastream.bash"
    fn=$2; shift 2
    COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=()
    $fn
    printf "%s\n" "${COMPREPLY[@]}"' _ "$top" "$@")
}
complete_words() { complete_with _pastream "$top/scripts/pastream" "$@"; }
complete_host() { complete_with _pastream_lua "$top/pastream-lua" "$@"; }
lines() { printf '%s' "$1" | tr '\n' ' ' | sed 's/ $//'; }

check "the file registers a completion for pastream" \
  bash -c "source completion/pastream.bash && complete -p pastream | grep -q '_pastream pastream'"
check "the file registers a completion for pastream-lua" \
  bash -c "source completion/pastream.bash && complete -p pastream-lua | grep -q _pastream_lua"
check_eq "--dur completes to --duration=" "$(lines "$(complete_words --dur)")" "--duration="
check_eq "--fat completes to --fatal-xruns" "$(lines "$(complete_words --fat)")" "--fatal-xruns"
check_eq "--l offers --list and --loop" "$(lines "$(complete_words --l)")" "--list --loop"
all=$(complete_words -)
for opt in $(scripts/pastream --help | grep -oE -- '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' | grep -oE -- '--?[a-zA-Z][a-z-]*'); do
  check "- offers $opt" sh -c 'printf "%s\n" "$1" | grep -qx -- "$2"' _ "$all" "$opt"
done
check_eq "-D lo completes to the rig's loopback" "$(lines "$(complete_words -D lo)")" "loopback"
names=$(${PASTREAM_LUA:-./pastream-lua} -e 'local t = {} for _, d in ipairs(require("pastream").devices()) do t[#t + 1] = d.name end io.write(table.concat(t, " "))')
check_eq "-D offers every device of pastream -l ($names)" "$(lines "$(complete_words -D '')")" "$names"
check_eq "--device=sy completes to --device=system" "$(lines "$(complete_words --device=sy)")" "--device=system"
check_eq "--device = sy (split at =) completes to system" "$(lines "$(complete_words --device = sy)")" "system"
check_eq "-D system,lo completes the second device" "$(lines "$(complete_words -D system,lo)")" "system,loopback"
check_eq "-f int16 completes a format" "$(lines "$(complete_words -f int1)")" "int16"
check_eq "--endian= offers the byte orders" "$(lines "$(complete_words --endian=)")" "--endian=file --endian=little --endian=big --endian=cpu"
check_eq "-d offers nothing (a time)" "$(lines "$(complete_words -d '')")" ""
check_eq "a file name completes" "$(lines "$(complete_words take | sort)")" "take1.wav take2.flac"
check_eq "after an option without a value, file names" "$(lines "$(complete_words -q not)")" "notes.txt"
check_eq "pastream-lua --rec completes to --recipes" "$(lines "$(complete_host --rec)")" "--recipes"
check_eq "pastream-lua ton completes the recipe tone.lua" "$(lines "$(complete_host ton)")" "tone.lua"
check_eq "pastream-lua take completes file names" "$(lines "$(complete_host take | sort)")" "take1.wav take2.flac"
check_eq "after -e CODE, a recipe" "$(lines "$(complete_host -e 'x = 1' spec)")" "spectrum.lua"
check_eq "after the script, its arguments are file names" "$(lines "$(complete_host tone.lua not)")" "notes.txt"
echo "# $tap_n checks"
