# The other audio paths in make check, briefly (about 40 s): on the ALSA
# (JACK PCM plugin), netjack2 and PipeWire rigs, loopback-check.lua (2 s,
# every frame bit-exact) and a 2 s frame-counter playrec (every frame
# checked, damage accounted for by reported xruns) with their delays
# compared, the measured round trip against that delay, playrec.lua --align
# (its recording the file played, every sample), and on PipeWire the start
# with no silence first.  tests/sh/test_paths.sh with PATHS_QUICK=1; the
# whole of it (split and file runs, device queries, the soaks: about 2
# minutes) is make check-paths.
PATHS_QUICK=1
. tests/sh/test_paths.sh
