/* The second SIGINT/SIGTERM exits at once (the "press Ctrl-C again to
 * abort" of sox and friends).  The first is handled on the loop (luv's
 * watcher: stop the streams, finalize files, exit); a script busy in a loop
 * that never yields never lets the loop see it, so the second one exits
 * from the handler.  Used by the host (src/host.c) and, under plain lua5.4,
 * by the core (src/lcore.c); each has its own copy of this object. */
#ifndef PS_SIGCHAIN_H
#define PS_SIGCHAIN_H

/* Put the second-signal exit in front of the SIGINT/SIGTERM handlers
 * installed so far (luv's), which still run for the first signal.  Safe to
 * call again: a call also resets the count of signals seen, so the loop
 * calls it after it has handled a signal and stays alive (ps.on_signal),
 * and the next signal is a first one again.  Returns nothing. */
void ps_chain_signals(void);

#endif
