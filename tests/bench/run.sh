#!/usr/bin/env bash
# tests/bench/run.sh: pastream-lua's benchmark suite (issue 7), run by
# `make bench` after the benchmark programs are built (build/bench/).
#
# Every measurement is a small program or script beside this one; this
# driver runs them, alternating the contenders within every round, collects
# their raw figures in one TSV, and tests/bench/report.lua turns those into
# ONE table of figures, ratios and goals (printed, and written to
# tests/bench/results.md and tests/bench/results.tsv).  A goal that is not
# met is reported as such; timing never makes this script fail.
#
# The measurements that need audio run on their own JACK test rig (dummy
# backend) at a high rate, so that each wall-clock second carries more
# audio: BENCH_RATE (384000) and BENCH_PERIOD (2048).
#
#   BENCH_QUICK=1 tests/bench/run.sh    # one short round of everything (~1 min)
set -u
cd "$(dirname "$0")/../.." || exit 1

B=build/bench
RATE=${BENCH_RATE:-384000}
PERIOD=${BENCH_PERIOD:-2048}
QUICK=${BENCH_QUICK:-0}
RIG=pastream-bench-$$
OUTDIR=tests/bench

if [ "$QUICK" = 1 ]; then
    RING_ROUNDS=1 RING_MIB=32 CB_ROUNDS=3
    REC_ROUNDS=1 REC_SECONDS=3
    ANA_ROUNDS=1 ANA_SECONDS=60
    CHUNK_ROUNDS=1 CHUNK_SECONDS=1
    BUF_ROUNDS=1 BUF_REPS=50
    START_ROUNDS=1 START_RUNS=10
    LAT_ROUNDS=1 GC_SECONDS=1
else
    RING_ROUNDS=9 RING_MIB=48 CB_ROUNDS=11
    REC_ROUNDS=3 REC_SECONDS=12
    ANA_ROUNDS=3 ANA_SECONDS=3600
    CHUNK_ROUNDS=3 CHUNK_SECONDS=4
    BUF_ROUNDS=5 BUF_REPS=500
    START_ROUNDS=3 START_RUNS=30
    LAT_ROUNDS=3 GC_SECONDS=5
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pastream-bench.XXXXXX") || exit 1
RAW=$TMP/raw.tsv
: >"$RAW"
rig_up=0

cleanup() {
    if [ "$rig_up" = 1 ]; then
        scripts/jackrig.sh stop --name "$RIG" >/dev/null 2>&1 || true
        rig_up=0
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf 'bench: %s\n' "$*" >&2; }
raw() { local IFS=$'\t'; printf '%s\n' "$*" >>"$RAW"; }
# field NAME FILE: the value of NAME=... in runstat's output line
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" "$2" | head -n 1; }
# rotate ROUND WORDS...: the words rotated left by ROUND (who goes first changes)
rotate() {
    local r=$1; shift
    local a=("$@") n=$# i
    for ((i = 0; i < n; i++)); do printf '%s ' "${a[(i + r) % n]}"; done
}
now_s() { date +%s.%N; }
# calc EXPR: floating-point arithmetic (awk: bc is not everywhere)
calc() { awk "BEGIN { printf \"%.9g\", $1 }"; }

T_START=$(now_s)
raw meta date "$(date -u '+%Y-%m-%d %H:%M UTC')"
raw meta commit "$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src lua 2>/dev/null || echo '+changes')"
raw meta cpu "$(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
raw meta load "$(cut -d' ' -f1-3 /proc/loadavg)"
raw meta rig "JACK dummy, $RATE Hz, period $PERIOD"
raw meta quick "$QUICK"

for p in bench_ring bench_callback bench_bufops runstat; do
    [ -x "$B/$p" ] || { log "$B/$p missing: run 'make bench'"; exit 1; }
done
[ -x ./pastream-lua ] || { log "./pastream-lua missing: run 'make bench'"; exit 1; }

# ---- 1. ring buffer throughput -------------------------------------------
log "1/8 ring buffers: ours vs jack_ringbuffer vs memcpy ($RING_ROUNDS rounds of $RING_MIB MiB)"
if ! "$B/bench_ring" "$RING_ROUNDS" "$RING_MIB" >>"$RAW" 2>"$TMP/ring.err"; then
    raw error ring "$(head -c 200 "$TMP/ring.err" | tr '\t\n' '  ')"
fi

# ---- 2. callback cost ------------------------------------------------------
log "2/8 callback: ps_engine_callback vs memcpy ($CB_ROUNDS rounds)"
if ! "$B/bench_callback" "$CB_ROUNDS" >>"$RAW" 2>"$TMP/cb.err"; then
    raw error callback "$(head -c 200 "$TMP/cb.err" | tr '\t\n' '  ')"
fi

# ---- the rig ----------------------------------------------------------------
log "starting JACK rig $RIG ($RATE Hz, period $PERIOD)"
if scripts/jackrig.sh start --name "$RIG" --rate "$RATE" --period "$PERIOD" \
        --probe build/pa_probe >"$TMP/rig.log" 2>&1; then
    rig_up=1
    eval "$(scripts/jackrig.sh env --name "$RIG")"
else
    raw error rig "$(tail -n 3 "$TMP/rig.log" | tr '\t\n' '  ')"
    log "could not start the rig: the measurements that need audio are skipped"
fi

# ---- 3. recording cost -----------------------------------------------------
if [ "$rig_up" = 1 ]; then
    frames=$((REC_SECONDS * RATE))
    log "3/8 recording: pastream vs jack_capture vs jack_rec ($REC_ROUNDS rounds of ${REC_SECONDS}s = $frames frames each)"
    have_rec=1
    command -v jack_rec >/dev/null 2>&1 || { have_rec=0; raw na rec jack_rec "jack_rec not installed"; }
    have_cap=1
    command -v jack_capture >/dev/null 2>&1 || { have_cap=0; raw na rec jack_capture "jack_capture not installed"; }
    for ((r = 0; r < REC_ROUNDS; r++)); do
        for tool in $(rotate "$r" pastream jack_capture jack_rec); do
            out=$TMP/rec-$tool.wav
            rm -f "$out"
            case $tool in
                pastream)
                    cmd=(./pastream-lua tests/bench/record.lua "$out" "$frames" system) ;;
                jack_capture)
                    [ "$have_cap" = 1 ] || continue
                    cmd=(jack_capture -d "$REC_SECONDS" -b FLOAT -ns -dc -s
                         -p system:capture_1 -p system:capture_2 "$out") ;;
                jack_rec)
                    [ "$have_rec" = 1 ] || continue
                    # jack_rec writes PCM only: 32-bit integer is the nearest to float32
                    cmd=(jack_rec -f "$out" -d "$REC_SECONDS" -b 32 system:capture_1 system:capture_2) ;;
            esac
            "$B/runstat" -i 50 -o "$TMP/stat" -- "${cmd[@]}" >"$TMP/rec.out" 2>&1
            got=$(sox --i -s "$out" 2>/dev/null || echo 0)
            raw rec "$tool" "$r" "$(field cpu "$TMP/stat")" "$(field wall "$TMP/stat")" \
                "$(field priv_kb "$TMP/stat")" "$(field priv_max_kb "$TMP/stat")" \
                "$got" "$frames" "$RATE" "$(field status "$TMP/stat")" "$(field steady_cpu "$TMP/stat")"
        done
    done
    rm -f "$TMP"/rec-*.wav
fi

# ---- 4. offline analysis ---------------------------------------------------
long=$TMP/long.wav
log "4/8 offline analysis: generating ${ANA_SECONDS}s of 48 kHz stereo float32 with sox"
if sox -n -r 48000 -c 2 -e floating-point -b 32 "$long" synth "$ANA_SECONDS" sine 440 sine 661 gain -3 2>"$TMP/synth.err"; then
    raw meta analysis_file "$ANA_SECONDS s, 48 kHz stereo float32, $(($(stat -c %s "$long") / 1000000)) MB"
    cat "$long" >/dev/null                         # page cache: every contender reads from memory
    log "4/8 offline analysis: offline chunks + buf:stats vs sox stats vs cat ($ANA_ROUNDS rounds)"
    for ((r = 0; r < ANA_ROUNDS; r++)); do
        for tool in $(rotate "$r" pastream sox cat); do
            case $tool in
                pastream) cmd=(./pastream-lua tests/bench/analysis.lua "$long") ;;
                sox)      cmd=(sox "$long" -n stats) ;;
                cat)      cmd=(sh -c 'cat "$1" >/dev/null' sh "$long") ;;
            esac
            "$B/runstat" -i 200 -o "$TMP/stat" -- "${cmd[@]}" >"$TMP/ana.out" 2>&1
            ok=1
            case $tool in
                pastream) grep -q '^channel 2: peak' "$TMP/ana.out" || ok=0 ;;
                sox) grep -q 'RMS lev' "$TMP/ana.out" || ok=0 ;;
            esac
            raw ana "$tool" "$r" "$(field wall "$TMP/stat")" "$(field cpu "$TMP/stat")" \
                "$(field priv_max_kb "$TMP/stat")" "$ok"
        done
    done
    . tests/bench/pictures.sh && bench_pictures "$long"    # 9: pictures vs sox (issue 20)
else
    raw error ana "sox synth failed: $(head -c 200 "$TMP/synth.err" | tr '\t\n' '  ')"
fi
rm -f "$long"

# ---- 5. per-chunk overhead and Buffer operations ---------------------------
if [ "$rig_up" = 1 ]; then
    frames=$((CHUNK_SECONDS * RATE))
    log "5/8 chunk iteration: empty loop body vs a plain recording ($CHUNK_ROUNDS rounds of ${CHUNK_SECONDS}s)"
    for ((r = 0; r < CHUNK_ROUNDS; r++)); do
        for m in $(rotate "$r" record c16 c256 floor); do
            if [ "$m" = floor ]; then
                # the wake-up of a bare C thread, one per period as long
                "$B/bench_wake" $((frames / PERIOD)) $((PERIOD * 1000000 / RATE)) >>"$RAW" 2>>"$TMP/chunks.err"
                continue
            fi
            case $m in
                record) args=(record "$frames" "$TMP/base.wav") ;;
                c16)    args=(chunks "$frames" 16) ;;
                c256)   args=(chunks "$frames" 256) ;;
            esac
            line=$(./pastream-lua tests/bench/chunks.lua "${args[@]}" system 2>"$TMP/chunks.err")
            if [ -n "$line" ]; then
                raw chunks "$r" "$line"
            else
                raw error chunks "$m: $(head -c 200 "$TMP/chunks.err" | tr '\t\n' '  ')"
            fi
        done
    done
    rm -f "$TMP/base.wav"
fi
log "5/8 Buffer operations: Lua methods vs plain C loops ($BUF_ROUNDS rounds)"
for ((r = 0; r < BUF_ROUNDS; r++)); do
    for impl in $(rotate "$r" c lua); do
        case $impl in
            c)   "$B/bench_bufops" 48000 "$BUF_REPS" >>"$RAW" 2>>"$TMP/buf.err" ;;
            lua) ./pastream-lua tests/bench/bufops.lua 48000 "$BUF_REPS" >>"$RAW" 2>>"$TMP/buf.err" ;;
        esac
    done
done

# ---- 6. start-up -----------------------------------------------------------
log "6/8 start-up: pastream-lua -e '' vs lua5.4 -e '' vs pastream -l"
have_cli=0
[ -x scripts/pastream ] && have_cli=1
[ "$have_cli" = 1 ] || raw na start pastream_l "scripts/pastream does not exist yet"
if command -v hyperfine >/dev/null 2>&1; then
    raw meta startup_tool "hyperfine ($START_RUNS runs per command per round, 3 warm-ups)"
    for ((r = 0; r < START_ROUNDS; r++)); do
        names=$(rotate "$r" pastream_lua lua pastream_l cli_h cli_sh_h cli_l pa_probe)
        args=()
        for n in $names; do
            case $n in
                pastream_lua) args+=(-n pastream_lua "./pastream-lua -e ''") ;;
                lua)          args+=(-n lua "lua5.4 -e ''") ;;
                pastream_l)   [ "$have_cli" = 1 ] && args+=(-n pastream_l "scripts/pastream -l") ;;
                cli_h)        [ -x bin/pastream ] && args+=(-n cli_h "bin/pastream -h") ;;
                cli_sh_h)     [ "$have_cli" = 1 ] && args+=(-n cli_sh_h "scripts/pastream -h") ;;
                cli_l)        [ -x bin/pastream ] && args+=(-n cli_l "bin/pastream -l") ;;
                pa_probe)     [ -x build/pa_probe ] && args+=(-n pa_probe "build/pa_probe") ;;
            esac
        done
        if hyperfine -N --style none --warmup 3 --runs "$START_RUNS" \
                --export-csv "$TMP/h.csv" "${args[@]}" >/dev/null 2>"$TMP/h.err"; then
            # command,mean,stddev,median,user,system,min,max
            tail -n +2 "$TMP/h.csv" | while IFS=, read -r name mean _ median _; do
                raw start "$name" "$r" "$median"
            done
        else
            raw error start "hyperfine: $(head -c 200 "$TMP/h.err" | tr '\t\n' '  ')"
        fi
    done
else
    raw meta startup_tool "a shell loop ($START_RUNS runs per command per round)"
    for ((r = 0; r < START_ROUNDS; r++)); do
        for n in $(rotate "$r" pastream_lua lua pastream_l cli_h cli_sh_h cli_l pa_probe); do
            case $n in
                pastream_lua) cmd=(./pastream-lua -e '') ;;
                lua)          cmd=(lua5.4 -e '') ;;
                pastream_l)   [ "$have_cli" = 1 ] || continue; cmd=(scripts/pastream -l) ;;
                cli_h)        [ -x bin/pastream ] || continue; cmd=(bin/pastream -h) ;;
                cli_sh_h)     [ "$have_cli" = 1 ] || continue; cmd=(scripts/pastream -h) ;;
                cli_l)        [ -x bin/pastream ] || continue; cmd=(bin/pastream -l) ;;
                pa_probe)     [ -x build/pa_probe ] || continue; cmd=(build/pa_probe) ;;
            esac
            t0=$(now_s)
            for ((i = 0; i < START_RUNS; i++)); do "${cmd[@]}" >/dev/null 2>&1; done
            t1=$(now_s)
            raw start "$n" "$r" "$(calc "($t1 - $t0) / $START_RUNS")"
        done
    done
fi

# ---- 7. round-trip latency, 8. garbage-collector immunity ------------------
if [ "$rig_up" = 1 ]; then
    log "7/8 round-trip latency on loopback, default settings ($LAT_ROUNDS runs)"
    for ((r = 0; r < LAT_ROUNDS; r++)); do
        line=$(./pastream-lua tests/bench/latency.lua 2>"$TMP/lat.err")
        if [ -n "$line" ]; then raw "$line" "$PERIOD"; else
            raw error latency "$(head -c 200 "$TMP/lat.err" | tr '\t\n' '  ')"; fi
    done
    log "8/8 garbage-collector immunity: ${GC_SECONDS}s of chunks and ${GC_SECONDS}s of file recording under a garbage storm"
    ./pastream-lua tests/bench/gc.lua $((GC_SECONDS * RATE)) "$TMP/gc.wav" 1024 >>"$RAW" 2>"$TMP/gc.err" ||
        raw error gc "$(tail -c 200 "$TMP/gc.err" | tr '\t\n' '  ')"
    scripts/jackrig.sh stop --name "$RIG" >/dev/null 2>&1 || true
    rig_up=0
fi

# ---- ALSA's cost (issue 19): its own rig and table, tests/bench/alsa.md ----
log "ALSA with and without libasound2-plugins' PCMs: tests/bench/alsa.sh"
if tests/bench/alsa.sh >"$TMP/alsa.md" 2>"$TMP/alsa.err"; then
    cp "$TMP/alsa.md" "$OUTDIR/alsa.md"; cat "$OUTDIR/alsa.md"
else
    log "tests/bench/alsa.sh failed: $(tail -n 3 "$TMP/alsa.err" | tr '\n' ' ')"
fi

# ---- the live through-path (issue 17): its own rig and table, tests/bench/through.md ----
log "s:process latency and allowance: tests/bench/through.sh"
if tests/bench/through.sh >"$TMP/through.md" 2>"$TMP/through.err"; then
    cp "$TMP/through.md" "$OUTDIR/through.md"; cat "$OUTDIR/through.md"
else
    log "tests/bench/through.sh failed: $(tail -n 3 "$TMP/through.err" | tr '\n' ' ')"
fi

raw meta seconds "$(calc "int($(now_s) - $T_START + 0.5)")"
raw meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
if ! lua5.4 tests/bench/report.lua "$RAW" "$OUTDIR/results.md" "$OUTDIR/results.tsv"; then
    cp "$RAW" "$OUTDIR/raw.tsv" 2>/dev/null || true
    log "report.lua failed; the raw figures are in $OUTDIR/raw.tsv"
fi
exit 0
