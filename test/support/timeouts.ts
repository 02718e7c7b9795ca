/**
 * One CLI run on the images the integration tier's global setup warmed (test/support/warm-entries.ts):
 * a minute or two on this 2-core machine, so ten leave room for a busy one. Runs that build
 * what they test (git, engine sources, bisect steps, VMs) keep their own, longer timeouts.
 */
export const WARM_RUN_MS = 10 * 60_000;

/** A test or hook around one such run (or several at once), with room to read the results. */
export const WARM_RUN_TEST_MS = WARM_RUN_MS + 2 * 60_000;
