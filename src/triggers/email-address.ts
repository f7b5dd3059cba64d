/**
 * Address matching for the email trigger. Envelope addresses are compared without case: the
 * local part is case-sensitive in principle, but no mail system in use treats it so, and
 * Email Routing's own rules do not.
 */

export function normalizeAddress(address: string): string {
  return address.trim().toLowerCase();
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf("@");
  return at < 0 ? "" : address.slice(at + 1).toLowerCase();
}

/** Whether `address` is `pattern`, or is at its domain when the pattern is `*@domain`. */
export function addressMatches(pattern: string, address: string): boolean {
  const wanted = normalizeAddress(pattern);
  const actual = normalizeAddress(address);
  if (wanted.startsWith("*@")) return domainOf(actual) === wanted.slice(2) && actual.indexOf("@") > 0;
  return wanted === actual;
}

/** A sender passes when there is no allow-list or it matches one of its entries. */
export function senderAllowed(allowFrom: readonly string[] | undefined, sender: string): boolean {
  return allowFrom === undefined || allowFrom.some((pattern) => addressMatches(pattern, sender));
}
