# A file is what its name says, or nothing is written (issue 18, point 1):
# every extension libsndfile has a type for is recorded as that type (MP3
# and Opus included, where this libsndfile writes them); any other
# extension exits 2 before anything plays, listing the writable types; a
# name with no extension is WAV, as the help says.
. tests/sh/tap.sh
cli_setup   # PS, PL and $tmp (tests/sh/tap.sh)

# type.lua FILE: "type subtype frames", or "unreadable"
cat >"$tmp/type.lua" <<'LUA'
local i = require("pastream").file_info(arg[1])
print(i and string.format("%s %s %d", i.type, i.subtype, i.frames) or "unreadable")
LUA
# can.lua TYPE [SUBTYPE]: "yes" when this libsndfile writes it
cat >"$tmp/can.lua" <<'LUA'
local subs = require("pastream").formats()[arg[1]]
local ok = subs ~= nil
if ok and arg[2] then
  ok = false
  for _, s in ipairs(subs) do if s == arg[2] then ok = true end end
end
print(ok and "yes" or "no")
LUA

is_wav() { [ "$(head -c 4 "$1")" = RIFF ] && [ "$(tail -c +9 "$1" | head -c 4)" = WAVE ]; }

# extension -> the type (and encoding, where the name implies one) inside
for pair in wav:wav aiff:aiff aif:aiff aifc:aiff au:au snd:au raw:raw paf:paf svx:svx \
            nist:nist voc:voc ircam:ircam w64:w64 mat4:mat4 mat5:mat5 pvf:pvf xi:xi htk:htk \
            sds:sds avr:avr wavex:wavex sd2:sd2 flac:flac caf:caf wve:wve ogg:ogg:vorbis \
            oga:ogg:vorbis opus:ogg:opus mpc2k:mpc2k rf64:rf64 mp3:mpeg:mpeg_layer_iii \
            WAV:wav Flac:flac; do
  ext=${pair%%:*}; rest=${pair#*:}; want=${rest%%:*}; sub=
  [ "$rest" != "$want" ] && sub=${rest#*:}
  f="$tmp/take.$ext"
  $PS -q -D loopback -c1 -n 4800 null "$f" >"$tmp/o" 2>"$tmp/e"; rc=$?
  if [ "$($PL "$tmp/can.lua" "$want" $sub)" = yes ]; then
    got=$($PL "$tmp/type.lua" "$f")
    # float WAV is written WAVE_FORMAT_EXTENSIBLE (a RIFF/WAVE file still);
    # RAW has no header to read back: 4800 float frames are 19200 bytes
    case "$want:$got" in wav:wavex*) got="wav${got#wavex}" ;; esac
    [ "$want" = raw ] && [ "$(wc -c <"$f")" = 19200 ] && got="raw float 4800"
    if [ "$rc" = 0 ] && [ "${got%% *}" = "$want" ] && { [ -z "$sub" ] || [ "$(echo "$got" | cut -d' ' -f2)" = "$sub" ]; }; then
      ok ".$ext is written as $want${sub:+ ($sub)}"
    else
      fail ".$ext is written as $want${sub:+ ($sub)}" "exit $rc, file: $got, $(head -n1 "$tmp/e")"
    fi
  else
    check_eq ".$ext: this libsndfile cannot write $want${sub:+ $sub}: exit 2" "$rc" 2
    check ".$ext: ... and nothing is written" test ! -e "$f"
  fi
done
check_eq "this libsndfile (Debian's) writes MP3" "$($PL "$tmp/can.lua" mpeg mpeg_layer_iii)" yes
check_eq "... and Opus" "$($PL "$tmp/can.lua" ogg opus)" yes

# Extensions that name no type: exit 2, nothing plays, nothing written.
for ext in m4a aac wv txt mp3x; do
  f="$tmp/take.$ext"
  $PS -D loopback -d 0.2 null "$f" >"$tmp/o" 2>"$tmp/e"; rc=$?
  check_eq ".$ext: exit 2" "$rc" 2
  check ".$ext: says it cannot write it, and what it can" \
    grep -q "^pastream: output file '.*take\.$ext': this libsndfile cannot write '\.$ext' files; it writes .*flac.* wav" "$tmp/e"
  check ".$ext: nothing is written" test ! -e "$f"
  check ".$ext: nothing played (no summary)" sh -c "! grep -q frames '$tmp/e'"
done
# a play-and-record run refuses before anything plays
echo 'local ps = require "pastream" assert(ps.save(arg[1], ps.Buffer(4800, 2), 48000))' >"$tmp/mk.lua"
$PL "$tmp/mk.lua" "$tmp/in.wav"
$PS -D loopback "$tmp/in.wav" "$tmp/out.m4a" >"$tmp/o" 2>"$tmp/e"; rc=$?
check_eq "in.wav out.m4a: exit 2 before anything plays" "$rc" 2
check "... no summary: nothing played" sh -c "! grep -q frames '$tmp/e'"

# A name without an extension is WAV, and the help says so.
$PS -q -D loopback -n 4800 null "$tmp/take" 2>"$tmp/e"; rc=$?
check_eq "a name with no extension: exit 0" "$rc" 0
check "... is a RIFF/WAVE file" is_wav "$tmp/take"
check "the help says a name with no extension is WAV" contains "$($PS -h)" "and a name without one is wav"

# -t names: mp3 and opus as well as the type names.
$PS -q -D loopback -n 4800 -t mp3 null "$tmp/t1.bin" 2>"$tmp/e"; rc=$?
check_eq "-t mp3: exit 0" "$rc" 0
check_eq "-t mp3 writes MPEG Layer III" "$($PL "$tmp/type.lua" "$tmp/t1.bin" | cut -d' ' -f1,2)" "mpeg mpeg_layer_iii"
$PS -q -D loopback -n 4800 -t opus null "$tmp/t2.bin" 2>"$tmp/e"; rc=$?
check_eq "-t opus writes Ogg Opus" "$($PL "$tmp/type.lua" "$tmp/t2.bin" | cut -d' ' -f1,2)" "ogg opus"
$PS -q -D loopback -n 4800 -t wav null "$tmp/t3.mp3" 2>"$tmp/e"; rc=$?
check "-t wav out.mp3: -t decides" is_wav "$tmp/t3.mp3"

echo "# $tap_n checks"
