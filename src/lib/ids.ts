const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";

/** Time-sortable id: 10 chars of millisecond time then 16 random chars (Crockford base32). */
export function sortableId(prefix: string, now: number = Date.now()): string {
  let time = "";
  let rest = now;
  for (let index = 0; index < 10; index++) {
    time = alphabet[rest % 32] + time;
    rest = Math.floor(rest / 32);
  }
  const random = crypto.getRandomValues(new Uint8Array(16));
  let tail = "";
  for (const byte of random) tail += alphabet[byte % 32];
  return `${prefix}_${time}${tail}`;
}
