# Pipes that sox reads (issue 18, point 2): a recording to standard output
# is read by `sox -` (no type flag; the default is AU), `sox -t wav -` and
# `sox -t au -` with no warning, for finite and unbounded runs, and sox
# reads the same samples as libsndfile does.  A reader that goes away ends
# the run with a plain message.
. tests/sh/tap.sh
cli_setup   # PS, PL and $tmp (tests/sh/tap.sh)

if ! command -v sox >/dev/null; then
  fail "sox is installed (scripts/install-deps.sh installs it)"
  exit 0
fi


# finite runs: every type flag, float and 16-bit; sox reads them silently
n=0
for case in "|-" "-t au|-" "-t au|-t au -" "-t wav|-" "-t wav|-t wav -" \
            "-t wav -e pcm_16|-" "-t wav -e pcm_16|-t wav -" "-t au -e pcm_16|-t au -" \
            "-t wav -c1|-t wav -" "-t au -c1|-"; do
  n=$((n + 1))
  flags=${case%%|*}; reader=${case#*|}
  [ -z "$flags" ] && name="(no -t)" || name=$flags
  # shellcheck disable=SC2086
  $PS -q -D loopback -n 12000 $flags null - 2>"$tmp/pe" | tee "$tmp/raw$n" |
    sox $reader -t wav -e floating-point -b 32 "$tmp/sox$n.wav" 2>"$tmp/se"; rc=$?
  check_eq "$name | sox $reader: sox exits 0" "$rc" 0
  check_eq "$name | sox $reader: no warning from sox" "$(cat "$tmp/se")" ""
  check_eq "$name | sox $reader: no message from pastream" "$(cat "$tmp/pe")" ""
  check_eq "$name | sox $reader: 12000 frames" "$(soxi -s "$tmp/sox$n.wav" 2>/dev/null)" 12000
  # what sox read is what libsndfile reads from the same bytes (for AU
  # and WAV alike: the mended headers point at the same samples)
  case $flags in *au*|"") ext=au ;; *) ext=wav ;; esac
  cp "$tmp/raw$n" "$tmp/raw$n.$ext"
  check_eq "$name | sox $reader: sox reads the samples libsndfile reads" \
    "$($PL tests/sh/same.lua "$tmp/raw$n.$ext" "$tmp/sox$n.wav")" same
done

# a run with no end: sox takes half a second and goes; pastream says so
for flags in "" "-t wav"; do
  # shellcheck disable=SC2086
  $PS -D loopback $flags null - 2>"$tmp/pe" | sox - "$tmp/u.flac" trim 0 0.5 2>"$tmp/se"; rc=$?
  check_eq "unbounded ${flags:-(no -t)} | sox - ... trim 0 0.5: sox exits 0" "$rc" 0
  check_eq "... no warning from sox" "$(cat "$tmp/se")" ""
  check_eq "... half a second" "$(soxi -s "$tmp/u.flac" 2>/dev/null)" 24000
  check "... pastream says the reader went away" \
    grep -q "^pastream: the reader of standard output went away after [0-9]* frames$" "$tmp/pe"
  check "... not libsndfile's words" sh -c "! grep -q 'Broken pipe\|No Error' '$tmp/pe'"
done

# a reader that stops early in a finite run, too
$PS -D loopback -d 5 null - 2>"$tmp/pe" | head -c 1000 >/dev/null
check "-d 5 | head -c 1000: the reader went away, said plainly" \
  grep -q "^pastream: the reader of standard output went away after [0-9]* frames$" "$tmp/pe"

# no samples at all: the header still comes out (sox itself then says
# "premature EOF", for its own empty AU as well)
$PS -q -D loopback -n 0 null - 2>"$tmp/pe" >"$tmp/empty.au"; rc=$?
check_eq "-n 0 to a pipe: exit 0" "$rc" 0
$PS -q -D loopback -n 0 null - 2>"$tmp/pe" | cat >"$tmp/empty.au"
check_eq "-n 0 to a pipe: the 32-byte AU header still comes out" "$(wc -c <"$tmp/empty.au" | tr -d ' ')" 32
check_eq "... starting .snd" "$(head -c 4 "$tmp/empty.au")" ".snd"

echo "# $tap_n checks"
