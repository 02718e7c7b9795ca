/** Written into the run's scratch directory when the image warm-up has ended, either way. */
export const WARM_UP_FILE = "images-warm.json";

export type WarmUpState = { ok: true } | { ok: false; error: string };
