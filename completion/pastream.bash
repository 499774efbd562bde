# bash completion for pastream(1): options (as `pastream --help` lists
# them), device names (as `pastream -l` lists them) after -D/--device,
# the values of the options that take a word from a fixed list, and file
# names; and for pastream-lua(1): its options, then a script (a file, or a
# bundled recipe as `pastream-lua --recipes` lists them), then file names.
# Installed as share/bash-completion/completions/pastream and .../pastream-lua
# (bash-completion loads a command's file by its name); to try it from a
# checkout: source completion/pastream.bash

# The options, read once per shell from --help so they follow the CLI.
_pastream_options()
{
    if [[ -z ${_pastream_opts-} ]]; then
        _pastream_opts=$("$1" --help 2>/dev/null |
            grep -oE -- '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' | grep -oE -- '--?[a-zA-Z][a-z-]*')
    fi
    printf '%s\n' "$_pastream_opts"
}

# Device names from the table `pastream -l` prints, grouped under a line
# per host API: a device's line is its mark and index up to the header's
# "name" column, then the name (it may hold spaces), then in, out and rate.
_pastream_devices()
{
    "$1" -l 2>/dev/null | awk '
        /^ *# +name +in +out +rate/ { from = index($0, "name"); next }
        from && /^[><*] default|^\(no audio devices\)/ { exit }
        from && substr($0, 1, from - 1) ~ /^[><* ] *[0-9]+ +$/ {
            s = substr($0, from); sub(/ +[0-9]+ +[0-9]+ +[^ ]+$/, "", s); sub(/ +$/, "", s)
            if (s != "") print s }'
}

_pastream()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]:-}
    local cmd=${COMP_WORDS[0]} opt= IFS=$'\n'
    command -v -- "$cmd" >/dev/null 2>&1 || cmd=pastream
    COMPREPLY=()

    # --opt=value: one word, or three when COMP_WORDBREAKS splits at '='
    local head=
    if [[ $cur == --*=* ]]; then
        opt=${cur%%=*} cur=${cur#*=} head=$opt=
    elif [[ $cur == = && $prev == --* ]]; then
        opt=$prev cur=
    elif [[ $prev == = && $COMP_CWORD -ge 2 ]]; then
        opt=${COMP_WORDS[COMP_CWORD-2]}
    elif [[ $prev == -* && $prev != *=* ]]; then
        opt=$prev
    fi

    # N[,N] pairs: complete the part after the last comma
    [[ $cur == *,* ]] && head=$head${cur%,*}, cur=${cur##*,}
    local words=
    case $opt in
        -D|--device) words=$(_pastream_devices "$cmd") ;;
        -f|--format) words=$'float32\nint32\nint24\nint16\nint8\nuint8' ;;
        -t|--file-type) words=$'wav\naiff\nau\nraw\nflac\nogg\ncaf\nw64\nrf64' ;;
        -e|--encoding) words=$'pcm_16\npcm_24\npcm_32\npcm_s8\npcm_u8\nfloat\ndouble\nulaw\nalaw\nvorbis\nopus' ;;
        --endian) words=$'file\nlittle\nbig\ncpu' ;;
        -d|--duration|-n|--frames|-o|--offset|-b|--blocksize|-c|--channels| \
        -r|--rate|-m|--map|--buffersize)
            return 0 ;;   # a number or a time: nothing to offer
    esac
    if [[ -n $opt && -n $words ]] || [[ $opt == -D || $opt == --device ]]; then
        local w
        for w in $words; do
            [[ $w == "$cur"* ]] && COMPREPLY+=("$head$(printf '%q' "$w")")
        done
        return 0
    fi

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_pastream_options "$cmd")" -- "$cur"))
        # an option that takes a value gets its '=' without a space
        if [[ ${#COMPREPLY[@]} -eq 1 && $COMPREPLY == --* ]] &&
           "$cmd" --help 2>/dev/null | grep -qE -- "^ +(-., )?$COMPREPLY="; then
            COMPREPLY=("$COMPREPLY=")
            compopt -o nospace 2>/dev/null
        fi
        return 0
    fi
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _pastream pastream

_pastream_lua()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]:-}
    local cmd=${COMP_WORDS[0]} i IFS=$'\n'
    command -v -- "$cmd" >/dev/null 2>&1 || cmd=pastream-lua
    COMPREPLY=()
    # after the script, its own arguments: file names
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
            -e) ((i++)) ;;
            --) ((i++)); break ;;
            -*) ;;
            *) break ;;
        esac
    done
    if ((i < COMP_CWORD)); then
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return 0
    fi
    [[ $prev == -e ]] && return 0          # Lua code
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W $'-e\n-v\n--version\n--recipes\n-h\n--help\n--' -- "$cur"))
        return 0
    fi
    local recipes
    recipes=$("$cmd" --recipes 2>/dev/null | sed -n 's/^  \([^ ]*\.lua\) .*/\1/p')
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur") $(compgen -W "$recipes" -- "$cur"))
}
complete -F _pastream_lua pastream-lua
