# tests/bench/pictures.sh: sourced by tests/bench/run.sh (issue 20).  The
# pictures against sox, side by side, contenders alternated every round:
#   - the spectrogram of 60 s of 48 kHz stereo: `spectrum.lua FILE -o PNG`
#     against `sox FILE -n spectrogram` at the same size (800 columns, 257
#     rows a channel: sox's default for stereo, and ours);
#   - the waveform of the long analysis file (an hour in a full run):
#     `waveform.lua FILE -o PNG` against `sox FILE -n stats`.
# Raw lines: pict spec|wave ours|sox ROUND WALL CPU OK.  Uses run.sh's
# raw, field, rotate, log, $B, $TMP, $QUICK.
bench_pictures() {
    local long=$1 rounds_spec=9 rounds_wave=3 r tool cmd ok
    [ "$QUICK" = 1 ] && rounds_spec=3 rounds_wave=1
    local s60=$TMP/pict60.wav
    if ! sox -n -r 48000 -c 2 -e floating-point -b 32 "$s60" synth 60 sine 20-20000 sine 440 gain -3 \
            2>"$TMP/pict.err"; then
        raw error pict "sox synth failed: $(head -c 200 "$TMP/pict.err" | tr '\t\n' '  ')"
        return
    fi
    cat "$s60" >/dev/null
    raw meta pict_file "60 s, 48 kHz stereo float32, $(($(stat -c %s "$s60") / 1000000)) MB"
    log "9/9 pictures: spectrum.lua -o vs sox spectrogram, 800x257 a channel ($rounds_spec rounds)"
    for ((r = 0; r < rounds_spec; r++)); do
        for tool in $(rotate "$r" ours sox); do
            rm -f "$TMP/pict.png"
            case $tool in
                ours) cmd=(./pastream-lua scripts/spectrum.lua "$s60" -o "$TMP/pict.png" -x 800 -y 257) ;;
                sox)  cmd=(sox "$s60" -n spectrogram -x 800 -y 257 -o "$TMP/pict.png") ;;
            esac
            "$B/runstat" -i 200 -o "$TMP/stat" -- "${cmd[@]}" >"$TMP/pict.out" 2>&1
            ok=1
            [ -s "$TMP/pict.png" ] || ok=0
            raw pict spec "$tool" "$r" "$(field wall "$TMP/stat")" "$(field cpu "$TMP/stat")" "$ok"
        done
    done
    raw meta pict_long "$(($(stat -c %s "$long") / 1000000)) MB"
    log "9/9 pictures: waveform.lua vs sox stats on the long file ($rounds_wave rounds)"
    for ((r = 0; r < rounds_wave; r++)); do
        for tool in $(rotate "$r" ours sox); do
            rm -f "$TMP/pict.png"
            case $tool in
                ours) cmd=(./pastream-lua scripts/waveform.lua "$long" -o "$TMP/pict.png") ;;
                sox)  cmd=(sox "$long" -n stats) ;;
            esac
            "$B/runstat" -i 200 -o "$TMP/stat" -- "${cmd[@]}" >"$TMP/pict.out" 2>&1
            ok=1
            case $tool in
                ours) [ -s "$TMP/pict.png" ] || ok=0 ;;
                sox) grep -q 'RMS lev' "$TMP/pict.out" || ok=0 ;;
            esac
            raw pict wave "$tool" "$r" "$(field wall "$TMP/stat")" "$(field cpu "$TMP/stat")" "$ok"
        done
    done
    rm -f "$s60" "$TMP/pict.png"
}
