/** GitHub sends payloads of up to 25 MB. */
export const BODY_LIMIT_BYTES = 25 * 1024 * 1024;
