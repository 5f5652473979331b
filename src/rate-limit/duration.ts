// Windows are written as `30s`, `1m`, `15m`, `1h`, `1d`: unambiguous in a YAML file,
// where a bare `60` could be read as seconds or minutes.

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const DURATION_PATTERN = /^([1-9][0-9]*)(s|m|h|d)$/;

/** The longest window accepted: beyond a week, a limit is a quota, not a rate limit. */
export const MAX_WINDOW_SECONDS = 7 * 86_400;

/** Whole seconds, or null when `text` is not a duration of the accepted form. */
export function parseDurationSeconds(text: string): number | null {
  const match = DURATION_PATTERN.exec(text);
  if (match === null) return null;
  const [, amount, unit] = match;
  if (amount === undefined || unit === undefined) return null;
  return Number(amount) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS];
}
