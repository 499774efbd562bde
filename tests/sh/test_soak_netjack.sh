# The 10-minute soak (tests/sh/paths_soak.sh) on the netjack rig at 384 kHz.
. tests/sh/paths_soak.sh
soak_on netjack
