# The other audio paths in make check, briefly (about 25 s): on the ALSA
# (JACK PCM plugin), netjack2 and PipeWire rigs, a 2 s frame-counter
# playrec (every frame checked, damage accounted for by reported xruns),
# the measured round trip against the delay the audio shows, and
# playrec.lua --align (its recording the file played, every sample).
# tests/sh/test_paths.sh with PATHS_QUICK=1; the whole of it (loopback-check,
# split and file runs, device queries, the PipeWire start, the soaks: about
# 2 minutes) is make check-paths.
PATHS_QUICK=1
. tests/sh/test_paths.sh
