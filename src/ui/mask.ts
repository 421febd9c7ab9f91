/**
 * Defensive masking for the detail pane. The server already masks headers; the UI masks again so a
 * signature, session token or cookie can never reach the screen.
 */

const SECRET_HEADERS = new Set(["authorization", "x-amz-security-token", "cookie", "x-amz-signature"]);
const MASK = "****";

export function maskHeaderValue(name: string, value: string): string {
  const lower = name.toLowerCase();
  if (lower === "authorization") {
    // keep the scheme, credential scope and signed headers: they are what one debugs
    if (/Signature=/i.test(value)) return maskSignatures(value);
    const scheme = /^(\S+)\s/.exec(value);
    return scheme ? `${scheme[1]} ${MASK}` : MASK;
  }
  if (SECRET_HEADERS.has(lower)) return MASK;
  return maskSignatures(value);
}

export function maskedHeaderEntries(headers: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(headers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => [name, maskHeaderValue(name, value)]);
}

/** `Signature=…` (header form) and `X-Amz-Signature=…` (query form) → `****`. */
export function maskSignatures(text: string): string {
  return text
    .replace(/(X-Amz-Signature=)[^&\s,]+/gi, `$1${MASK}`)
    .replace(/(^|[\s,])(Signature=)[^&\s,]+/g, `$1$2${MASK}`)
    .replace(/^(x-amz-security-token:).*$/gim, `$1${MASK}`);
}
