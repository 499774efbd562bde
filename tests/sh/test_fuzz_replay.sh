# Replay every fuzzing seed and regression input (tests/fuzz/corpus/NAME,
# tests/fuzz/regress/NAME) through the fuzz targets built with a plain main
# (build/fuzz/replay_NAME, no libFuzzer): each must run to the end.  A target
# aborts on a finding (a wrong Buffer, a runtime error in a CLI parser,
# frames a disk reader did not count), so a fixed bug that comes back fails
# here.  make fuzz runs the same targets under libFuzzer.
. tests/sh/tap.sh
B=${PS_BUILD:-build}
for t in buffer cli audiofile; do
  n=0
  for f in tests/fuzz/corpus/$t/* tests/fuzz/regress/$t/*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    if out=$(timeout 60 "$B/fuzz/replay_$t" "$f" 2>&1); then
      ok "$t: $f"
    else
      fail "$t: $f" "$(printf '%s' "$out" | tail -3)"
    fi
  done
  [ "$n" -gt 0 ] && ok "$t: $n inputs replayed" || fail "$t: no input to replay"
done
# The pipe seeds once more down a pipe (FUZZ_PIPE=1: standard input, as
# the playback path's "-").
for f in tests/fuzz/corpus/audiofile/pipe-*; do
  if out=$(FUZZ_PIPE=1 timeout 60 "$B/fuzz/replay_audiofile" "$f" 2>&1); then
    ok "audiofile from a pipe: $f"
  else
    fail "audiofile from a pipe: $f" "$(printf '%s' "$out" | tail -3)"
  fi
done
# The replay main itself: a missing file is an error, not a silent pass.
if "$B/fuzz/replay_cli" tests/fuzz/no-such-input >/dev/null 2>&1; then
  fail "a missing input fails the replay"
else
  ok "a missing input fails the replay"
fi
