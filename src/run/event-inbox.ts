import type { RunEvent } from "../engine/events";
import type { Plan } from "../engine/plan";
import { isTerminalRun, type RunEventRecord, type RunState, type StepState } from "../engine/state";
import { type ErrorData, errorData, toErrorData } from "../errors";
import { evaluate, truthy } from "../expr/jsonata";
import { sortableId } from "../lib/ids";
import type { Json, JsonObject } from "../lib/json";
import type { EventDelivery } from "./human-loop-api";

export interface InboxRow {
  seq: number;
  record: RunEventRecord;
  consumedBy: string | null;
}

/**
 * Events delivered to a run, in arrival order. An event no step is waiting for stays here
 * until a wait for its name (and match) comes along; a consumed event stays too, so a
 * redelivery with the same id is recognized.
 */
export class EventInbox {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
  }

  find(id: string): InboxRow | undefined {
    return this.rows("SELECT * FROM events WHERE id = ?", id)[0];
  }

  add(record: RunEventRecord): InboxRow {
    const row = this.sql
      .exec<{ seq: number }>(
        "INSERT INTO events (id, name, payload, received_at) VALUES (?, ?, ?, ?) RETURNING seq",
        record.id,
        record.name,
        JSON.stringify(record.payload),
        record.receivedAt,
      )
      .one();
    return { seq: row.seq, record, consumedBy: null };
  }

  /** Unconsumed events of one name, oldest first. */
  waiting(name: string): InboxRow[] {
    return this.rows("SELECT * FROM events WHERE name = ? AND consumed_by IS NULL ORDER BY seq", name);
  }

  isUnconsumed(seq: number): boolean {
    return this.sql.exec("SELECT 1 FROM events WHERE seq = ? AND consumed_by IS NULL", seq).toArray().length > 0;
  }

  consume(seq: number, nodeId: string): void {
    this.sql.exec("UPDATE events SET consumed_by = ? WHERE seq = ?", nodeId, seq);
  }

  buffered(): number {
    return this.sql.exec<{ count: number }>("SELECT COUNT(*) AS count FROM events WHERE consumed_by IS NULL").one()
      .count;
  }

  private rows(query: string, ...bindings: (string | number)[]): InboxRow[] {
    return this.sql
      .exec<{
        seq: number;
        id: string;
        name: string;
        payload: string;
        received_at: number;
        consumed_by: string | null;
      }>(query, ...bindings)
      .toArray()
      .map((row) => ({
        seq: row.seq,
        record: {
          id: row.id,
          name: row.name,
          payload: JSON.parse(row.payload) as Json,
          receivedAt: row.received_at,
        },
        consumedBy: row.consumed_by,
      }));
  }
}

/** Whether a waiting step takes this event: its name, then its JSONata match over `{...context, event}`. */
export async function eventMatches(step: StepState, record: RunEventRecord, context: JsonObject): Promise<boolean> {
  const wait = step.eventWait;
  if (step.status !== "waiting" || !wait || wait.name !== record.name) return false;
  if (!wait.match) return true;
  const value = await evaluate(wait.match, { ...context, event: record });
  return truthy(value);
}

export interface EventWaitsHost {
  state(): RunState | undefined;
  plan(): Plan | undefined;
  context(): JsonObject;
  /**
   * Sensitive data: a run that seals anything keeps buffered payloads sealed; a payload is
   * opened to be matched, and stays sealed into the context when the waiting node's output is marked.
   */
  sealPayload(payload: Json): Promise<Json>;
  openPayload(payload: Json): Promise<Json>;
  sealsOutputOf(nodeId: string): boolean;
  dispatch(event: RunEvent): void;
  drive(): void;
  track(key: string, task: Promise<void>): void;
  /** The step's wait already has its event, held until the run may go on (src/flow/run-gates.ts). */
  held(nodeId: string, attempt: number): boolean;
}

/** Matches delivered events with waiting steps, in arrival order, for the run object. */
export class EventWaits {
  private readonly inbox: EventInbox;
  private readonly host: EventWaitsHost;

  constructor(inbox: EventInbox, host: EventWaitsHost) {
    this.inbox = inbox;
    this.host = host;
  }

  /**
   * A waiting step whose name and match fit takes the event at once; otherwise it is buffered
   * for a wait that comes later. An id seen before is a duplicate and changes nothing.
   */
  async deliver(input: {
    name: string;
    id?: string;
    payload: Json;
    receivedAt: number;
  }): Promise<EventDelivery | { error: ErrorData } | null> {
    if (!this.host.state()) return null;
    // Sealed before the checks below: nothing may come between them and the row they guard.
    const payload = await this.host.sealPayload(input.payload);
    const state = this.host.state();
    if (!state) return null;
    const id = input.id ?? sortableId("evt", input.receivedAt);
    const seen = this.inbox.find(id);
    if (seen) return { status: "duplicate", eventId: id, nodeId: seen.consumedBy };
    if (isTerminalRun(state.status)) return { error: errorData("run.not_active", `run is already ${state.status}`) };
    const record: RunEventRecord = { name: input.name, id, payload, receivedAt: input.receivedAt };
    const row = this.inbox.add(record);
    for (const nodeId of this.host.plan()?.order ?? []) {
      const step = this.host.state()?.steps[nodeId];
      if (step?.status !== "waiting" || step.eventWait?.name !== record.name) continue;
      if (await this.offer(nodeId, step.attempts, row.seq, record)) {
        return { status: "consumed", eventId: id, nodeId };
      }
    }
    return { status: "buffered", eventId: id };
  }

  /** A step has just started waiting: the earliest buffered event that fits completes it. */
  scan(nodeId: string, attempt: number): void {
    const name = this.host.state()?.steps[nodeId]?.eventWait?.name;
    if (!name) return;
    const scan = async () => {
      for (const row of this.inbox.waiting(name)) {
        if (await this.offer(nodeId, attempt, row.seq, row.record)) return;
      }
    };
    this.host.track(`scan:${nodeId}#${attempt}`, scan());
  }

  /** Evaluates the step's match; on a fit, consumes the event and completes the wait in one commit. */
  private async offer(nodeId: string, attempt: number, seq: number, record: RunEventRecord): Promise<boolean> {
    const step = this.host.state()?.steps[nodeId];
    if (!step || step.attempts !== attempt || this.host.held(nodeId, attempt)) return false;
    let fits = false;
    let plain = record;
    try {
      plain = { ...record, payload: await this.host.openPayload(record.payload) };
      fits = await eventMatches(step, plain, this.host.context());
    } catch (thrown) {
      console.log(
        JSON.stringify({
          level: "warn",
          message: "event match failed",
          runId: this.host.state()?.runId,
          nodeId,
          event: record.id,
          error: toErrorData(thrown),
        }),
      );
      return false;
    }
    if (!fits) return false;
    // The payload stays sealed into the context when the waiting node's output is marked.
    const event = this.host.sealsOutputOf(nodeId)
      ? { ...record, payload: await this.host.sealPayload(plain.payload) }
      : plain;
    // Read again after the awaits: the step or the event may have moved on meanwhile.
    const current = this.host.state()?.steps[nodeId];
    const taken = this.host.held(nodeId, attempt) || !this.inbox.isUnconsumed(seq);
    if (current?.status !== "waiting" || current.attempts !== attempt || taken) {
      return false;
    }
    this.inbox.consume(seq, nodeId);
    this.host.dispatch({ type: "event", nodeId, attempt, event });
    this.host.drive();
    return true;
  }
}
