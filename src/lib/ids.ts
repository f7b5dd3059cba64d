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

/**
 * A time-sortable id in the same shape as `sortableId`, but with its tail derived from `seed`
 * (SHA-256): the same seed and time always give the same id. A schedule tick's run id is one,
 * so every path that fires the tick names the same run.
 */
export async function derivedId(prefix: string, time: number, seed: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(seed)));
  const head = sortableId(prefix, time).slice(prefix.length + 1, prefix.length + 11);
  let tail = "";
  for (const byte of digest.subarray(0, 16)) tail += alphabet[byte % 32];
  return `${prefix}_${head}${tail}`;
}

/**
 * Run ids: `run_` and 26 characters for a run a trigger started; a child run (map item, loop
 * iteration, subworkflow call) appends `.<nodeId>.<attempt>.<index>` to its parent's id, once
 * per level, so starting the same child twice names the same run.
 */
const runIdPattern = /^run_[0-9a-z]{26}(\.[A-Za-z][A-Za-z0-9_-]{0,63}\.[0-9]{1,4}\.[0-9]{1,5}){0,5}$/;

export function isRunId(runId: string): boolean {
  return runIdPattern.test(runId);
}

export function childRunId(parentRunId: string, nodeId: string, attempt: number, index: number): string {
  return `${parentRunId}.${nodeId}.${attempt}.${index}`;
}

/**
 * Every run below `runId` (its children, theirs, ...) has an id that starts with `<runId>.`: the
 * ids between the two bounds ('/' follows '.'), and the keys under the first as a prefix.
 */
export function descendantRange(runId: string): [from: string, to: string] {
  return [`${runId}.`, `${runId}/`];
}
