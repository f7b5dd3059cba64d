import type { NodeOutcome } from "../engine/outcome";
import type { RunState } from "../engine/state";
import { type ErrorData, errorData, SignalboxError, toErrorData } from "../errors";
import { type BlobRef, fileRefsIn, isBlobRef, refHash, refsOf, storedValueSize } from "../lib/blob-ref";
import { deepFreeze, type Json, type JsonObject } from "../lib/json";
import { hasSealed, isSealed, type Keyring, openAll, openKnown, redact, type Sealed, sealedId } from "../security/seal";
import { isEmptyPolicy, type SensitivePolicy, sealPatch } from "../security/sensitive";
import { copyBlob } from "../store/blobs";
import {
  BlobCache,
  type ContextLimits,
  type OffloadResult,
  offloadOutput,
  resolveContext,
  resolveRef,
} from "./context-store";
import type { ReplayStart } from "./operations";
import type { RunStorage } from "./run-storage";

/**
 * A run object's resolved ("live") context, beside the stored one that holds references. Every
 * patch updates it with the values the node actually produced (the offload leaves them in the
 * cache), so a step pays nothing for a large value it does not touch; only after a restart are
 * references fetched, once, before the first node reads the context.
 */
export class LiveContext {
  private runId = "";
  private live: JsonObject = Object.freeze({});
  /** The context as stored (references, sealed values), beside the live one. */
  private stored: JsonObject = Object.freeze({});
  /** Keys whose value is still a reference (after a restart, until `resolved()`). */
  private readonly unresolved = new Set<string>();
  private readonly sizes = new Map<string, number>();
  /** Hashes this run holds in R2, so a repeated value costs neither a `head` nor a `put`. */
  private readonly known = new Set<string>();
  private readonly cache = new BlobCache();
  private resolving: Promise<JsonObject> | undefined;
  /** What the run's workflow marks sensitive and the keys to seal it with (a problem when DATA_KEYS is unusable). */
  private sealer: { policy: SensitivePolicy; ring: Keyring | { problem: string } } | undefined;
  /** Whether the stored context has held a sealed value (else the redacted view is the live one). */
  private holdsSealed = false;
  /** Plain values of the sealed values this object sealed or opened, by ciphertext. */
  private readonly opened = new Map<string, Json>();
  /** Sizes measured while offloading, by the stored output they belong to: `apply` need not serialize again. */
  private readonly measured = new WeakMap<JsonObject, Map<string, number>>();
  private readonly bucket: () => R2Bucket;
  readonly limits: ContextLimits;

  constructor(bucket: () => R2Bucket, limits: ContextLimits) {
    this.bucket = bucket;
    this.limits = limits;
  }

  /** Takes on a whole stored context: a run's start, its load after a restart, a replay's start. */
  reset(runId: string, stored: JsonObject): void {
    this.runId = runId;
    this.live = Object.freeze({});
    this.stored = Object.freeze({});
    this.holdsSealed = false;
    this.unresolved.clear();
    this.sizes.clear();
    this.apply(stored);
  }

  /** The run was deleted: its blobs are gone, so none may be taken as held. */
  forget(): void {
    this.known.clear();
    this.opened.clear();
    this.reset("", {});
  }

  /**
   * The run's workflow marks `policy` sensitive: from now on `offload` seals it with `ring`. A
   * ring that is a problem (DATA_KEYS unset or malformed) makes every seal and open fail: a
   * sensitive value is never stored in plain text instead.
   */
  protect(
    policy: SensitivePolicy | undefined,
    ring: () => Keyring | { problem: string },
    writes: (nodeId: string) => readonly string[] = () => [],
  ): void {
    this.sealer = isEmptyPolicy(policy) ? undefined : { policy: policy as SensitivePolicy, ring: ring() };
    this.ringOf = ring;
    this.writesOf = writes;
  }

  private writesOf: (nodeId: string) => readonly string[] = () => [];

  private ringOf: () => Keyring | { problem: string } = () => ({ problem: "DATA_KEYS is not set" });

  private keyring(): Keyring {
    const ring = this.sealer?.ring ?? this.ringOf();
    if ("problem" in ring) {
      throw new SignalboxError(
        errorData("context.unavailable", `sensitive values cannot be sealed or opened: ${ring.problem}`, {
          retryable: true,
        }),
      );
    }
    return ring;
  }

  private readonly knownOpen = (sealed: Sealed): Json | undefined => this.opened.get(sealedId(sealed));

  private remember(sealed: Sealed, plain: Json): void {
    if (this.opened.size >= 10_000) this.opened.clear();
    this.opened.set(sealedId(sealed), plain);
  }

  /** A stored patch the run wrote; references to values offloaded here resolve from the cache. */
  apply(patch: JsonObject): void {
    this.stored = Object.freeze({ ...this.stored, ...patch });
    const next: JsonObject = { ...this.live };
    const measured = this.measured.get(patch);
    for (const [key, value] of Object.entries(patch)) {
      this.sizes.set(key, measured?.get(key) ?? storedValueSize(value));
      let stored: Json | undefined = value;
      if (isBlobRef(value)) {
        const hash = refHash(value);
        this.known.add(hash);
        stored = this.cache.get(hash);
      }
      // Sealed values this object sealed (or opened before) are known in plain; others wait for `resolved`.
      const plain = stored === undefined ? undefined : openKnown(stored, this.knownOpen);
      if (plain !== stored) this.holdsSealed = true;
      if (plain !== undefined) {
        next[key] = deepFreeze(plain);
        this.unresolved.delete(key);
      } else {
        next[key] = deepFreeze(value);
        this.unresolved.add(key);
      }
    }
    this.live = Object.freeze(next);
  }

  /** The context nodes read, every value real. */
  resolved(): Promise<JsonObject> {
    if (this.unresolved.size === 0) return Promise.resolve(this.live);
    this.resolving ??= this.fetchUnresolved().finally(() => {
      this.resolving = undefined;
    });
    return this.resolving;
  }

  /** Without waiting: values where known, references where not yet fetched (event matching). */
  view(): JsonObject {
    return this.live;
  }

  /** Total bytes the context counts against its limit. */
  totalBytes(): number {
    let total = 0;
    for (const size of this.sizes.values()) total += size;
    return total;
  }

  /** A node's output as it will be stored; fails when the run's context would grow over its limit. */
  async offload(nodeId: string | null, output: JsonObject, enforceLimit = true): Promise<OffloadResult> {
    const sealed = this.sealer
      ? await sealPatch(output, this.sealer.policy, this.keyring(), (value, plain) => this.remember(value, plain))
      : output;
    const result = await offloadOutput({
      bucket: this.bucket(),
      runId: this.runId,
      output: sealed,
      limits: this.limits,
      nodeId,
      known: this.known,
      cache: this.cache,
      ...(enforceLimit ? { sizes: this.sizes } : {}),
    });
    if (result.ok) this.measured.set(result.stored, result.sizes);
    return result;
  }

  /**
   * The stored form of a new run's initial context (its limit is not the steps' to enforce). A
   * child run's input may name files of its parent (a map over an email's attachments): they
   * are copied under the child's prefix, where its nodes look for them.
   */
  async offloadInitial(runId: string, context: JsonObject): Promise<OffloadResult> {
    this.runId = runId;
    const run = context.run;
    const parentRunId = run && typeof run === "object" && !Array.isArray(run) ? run.parentRunId : undefined;
    if (typeof parentRunId === "string" && context.input !== undefined) {
      await this.copyFiles(parentRunId, runId, fileRefsIn(context.input));
    }
    return this.offload(null, context, false);
  }

  private async copyFiles(fromRunId: string, toRunId: string, refs: BlobRef[]): Promise<void> {
    const hashes = new Set(refs.map(refHash));
    await Promise.all(
      [...hashes].map(async (hash) => {
        if (!(await copyBlob(this.bucket(), fromRunId, toRunId, hash))) {
          throw new Error(`file sha256:${hash} of run ${fromRunId} is missing`);
        }
        this.known.add(hash);
      }),
    );
  }

  /**
   * Any stored context of this run with its references resolved; sensitive values stay sealed
   * (what answers show, redacted or revealed by the route).
   */
  inline(stored: JsonObject): Promise<JsonObject> {
    return resolveContext(this.bucket(), this.runId, stored, this.cache);
  }

  /**
   * A failure (or escalation) that carries what the node got back: the output it proposed (an
   * llm answer under review, in `error.details.output`, its raw text in `details.answer`) or a
   * response body (an http status it did not expect, `details.body`). The proposed output's
   * sensitive keys are sealed as a success's would be; the raw answer and the body are sealed
   * whole when the node's output is marked (or any proposed key was).
   */
  async sealProposed<T extends Extract<NodeOutcome, { type: "failure" | "escalate" }>>(
    nodeId: string,
    outcome: T,
  ): Promise<NodeOutcome> {
    const details = outcome.error.details;
    if (!this.sealer || !details || typeof details !== "object" || Array.isArray(details)) return outcome;
    const { output, answer, body } = details as JsonObject;
    const hasOutput = output !== null && typeof output === "object" && !Array.isArray(output);
    if (!hasOutput && answer === undefined && body === undefined) return outcome;
    try {
      const ring = this.keyring();
      const remember = (value: Sealed, plain: Json) => this.remember(value, plain);
      const next: JsonObject = { ...(details as JsonObject) };
      if (hasOutput) next.output = await sealPatch(output as JsonObject, this.sealer.policy, ring, remember);
      const marked = this.marks(this.writesOf(nodeId)) || (hasOutput && hasSealed(next.output));
      if (answer !== undefined && (marked || !hasOutput)) next.answer = await ring.seal(answer);
      if (body !== undefined && marked) next.body = await ring.seal(body);
      return { ...outcome, error: { ...outcome.error, details: next } };
    } catch (thrown) {
      return { type: "failure", error: contextUnavailable(thrown) };
    }
  }

  /** Whether any of these context keys is sealed in this run. */
  marks(keys: readonly string[]): boolean {
    const policy = this.sealer?.policy;
    return policy !== undefined && (policy.all === true || keys.some((key) => policy.keys.has(key)));
  }

  /** Whether this run seals anything. */
  sensitive(): boolean {
    return this.sealer !== undefined;
  }

  /** A whole value sealed when the run seals anything (a child's output to its parent, a report's output). */
  async sealValue(value: Json): Promise<Json> {
    if (!this.sealer || isSealed(value)) return value;
    const sealed = await this.keyring().seal(value);
    this.remember(sealed, value);
    return sealed;
  }

  /** The context with large values resolved and sensitive ones redacted: what nodes that show it to people read. */
  async redacted(): Promise<JsonObject> {
    if (!this.holdsSealed && this.unresolved.size === 0) return this.live;
    return redact(await resolveContext(this.bucket(), this.runId, this.stored, this.cache));
  }

  /** A stored value (an older version's, an event's) opened for a node: sealed values in plain. */
  open<T>(stored: T): Promise<T> {
    if (!hasSealed(stored)) return Promise.resolve(stored);
    return openAll(stored, this.keyring(), this.knownOpen);
  }

  /**
   * A replay takes over references into its original: the blobs are copied under its own prefix,
   * the files its values refer to (an email's attachments in its input) as well.
   */
  async adopt(fromRunId: string, toRunId: string, stored: JsonObject): Promise<void> {
    const hashes = new Set(refsOf(stored).map(refHash));
    for (const value of Object.values(stored)) {
      const inner = isBlobRef(value) ? await resolveRef(this.bucket(), fromRunId, value) : value;
      for (const ref of fileRefsIn(inner)) hashes.add(refHash(ref));
    }
    await Promise.all(
      [...hashes].map(async (hash) => {
        if (!(await copyBlob(this.bucket(), fromRunId, toRunId, hash))) {
          throw new Error(`context value sha256:${hash} of run ${fromRunId} is missing`);
        }
        this.known.add(hash);
      }),
    );
  }

  /**
   * A replay's start, its values in its own prefix: the seed's references point into the
   * original run, so its blobs are copied (deleting the original must not break the replay),
   * and large edits are offloaded.
   */
  async replayStart(input: ReplayStart): Promise<ReplayStart> {
    await this.adopt(input.seed.original.runId, input.runId, input.seed.context);
    if (!input.edits) return input;
    const offloaded = await this.offloadInitial(input.runId, input.edits);
    return offloaded.ok ? { ...input, edits: offloaded.stored } : input;
  }

  private async fetchUnresolved(): Promise<JsonObject> {
    const pending = [...this.unresolved].map((key) => [key, this.live[key] as Json] as const);
    const values = await Promise.all(
      pending.map(async ([, stored]) => {
        const value = isBlobRef(stored) ? await resolveRef(this.bucket(), this.runId, stored, this.cache) : stored;
        if (!hasSealed(value)) return value;
        return openAll(value, this.keyring(), (sealed) => this.knownOpen(sealed)).then((plain) => {
          return deepFreeze(plain);
        });
      }),
    );
    // Patches may have landed meanwhile: fill only keys that still hold the stored value read.
    const next: JsonObject = { ...this.live };
    pending.forEach(([key, stored], index) => {
      if (next[key] === stored) {
        next[key] = values[index] as Json;
        this.unresolved.delete(key);
      }
    });
    this.live = Object.freeze(next);
    return this.live;
  }
}

/**
 * A run's context at `version` (the latest when not given), as stored (large values as
 * references) or, with `inline`, with them resolved; an error for a version the run never had.
 */
export async function readContext(
  run: { state: RunState; latest: JsonObject; storage: RunStorage; blobs: LiveContext },
  version: number | undefined,
  options: { inline?: boolean },
): Promise<{ version: number; hash: string; context: JsonObject } | { error: ErrorData }> {
  const { state, storage, blobs } = run;
  const target = version ?? state.contextVersion;
  if (!Number.isInteger(target) || target < 0 || target > state.contextVersion) {
    return { error: errorData("run.context_version_not_found", `run has versions 0 to ${state.contextVersion}`) };
  }
  const latest = target === state.contextVersion;
  const stored = latest ? { context: run.latest, hash: storage.contextLog.hashAt(target) } : storage.contextAt(target);
  if (!options.inline) return { version: target, hash: stored.hash, context: stored.context };
  try {
    const context = await blobs.inline(stored.context);
    return { version: target, hash: stored.hash, context };
  } catch (thrown) {
    return { error: toErrorData(thrown) };
  }
}

/** An R2 failure while reading or writing context values: worth another attempt. */
export function contextUnavailable(thrown: unknown): ErrorData {
  const data = toErrorData(thrown, "context.unavailable");
  if (data.code !== "context.unavailable") return data;
  return errorData("context.unavailable", `context storage failed: ${data.message}`, { retryable: true });
}

/** A node's outcome as the engine takes it: a success's large values offloaded, or the failure to. */
/** `storedOutcome` for each of a queue consumer's results. */
export function storedResults<T extends { nodeId: string; outcome: NodeOutcome }>(
  blobs: LiveContext,
  results: readonly T[],
): Promise<T[]> {
  return Promise.all(
    results.map(async (result) => ({ ...result, outcome: await storedOutcome(blobs, result.nodeId, result.outcome) })),
  );
}

export async function storedOutcome(blobs: LiveContext, nodeId: string, outcome: NodeOutcome): Promise<NodeOutcome> {
  if (outcome.type === "failure" || outcome.type === "escalate") return blobs.sealProposed(nodeId, outcome);
  if (outcome.type !== "success") return outcome;
  try {
    const result = await blobs.offload(nodeId, outcome.output);
    if (!result.ok) return { type: "failure", error: result.error };
    return { ...outcome, output: result.stored };
  } catch (thrown) {
    return { type: "failure", error: contextUnavailable(thrown) };
  }
}
