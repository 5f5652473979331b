// Time is injected (a Clock), never read from Date.now() in the domain, so that
// tests can freeze or advance it; stored as RFC 3339 UTC strings with milliseconds.
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : iso(ms);
}
