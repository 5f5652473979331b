// How long each identity credential lives, and the clock skew tolerated when
// checking a token's times. Kept together because they depend on each other: a
// retired signing key and a revoked token id are kept for as long as a token
// could still be valid, which is the access-token lifetime plus the skew.
export const ACCESS_TOKEN_SECONDS = 60 * 60;
export const CLOCK_SKEW_SECONDS = 30;
export const REFRESH_TOKEN_SECONDS = 30 * 24 * 60 * 60;
export const AUTHORIZATION_CODE_SECONDS = 10 * 60;
export const BROWSER_SESSION_SECONDS = 30 * 60;

/** After this long, no access token issued (or signed) before it can still verify. */
export const ACCESS_TOKEN_AFTERLIFE_MS = (ACCESS_TOKEN_SECONDS + CLOCK_SKEW_SECONDS) * 1000;
