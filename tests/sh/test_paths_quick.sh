# The other audio paths in make check, briefly (about 50 s): on the ALSA
# (JACK PCM plugin), netjack2 and PipeWire rigs, loopback-check.lua (2 s,
# every frame bit-exact), a 2 s frame-counter playrec and a 2 s recording
# while another stream plays (every frame checked, damage accounted for by
# reported xruns), the playrec's delay compared with loopback-check's, the
# measured round trip against that delay, playrec.lua --align (its
# recording the file played, every sample), and on PipeWire the start with
# no silence first.  tests/sh/test_paths.sh with PATHS_QUICK=1; the whole
# of it (file runs, device queries, longer runs: about 2 minutes) is make
# check-paths.  The 10-minute soaks on these paths are
# tests/sh/test_soak_{alsa,netjack,pipewire}.sh.
PATHS_QUICK=1
. tests/sh/test_paths.sh
