import { defaultEmailFrom, type EmailPort } from "../adapters/email";
import type { Command, RunEvent } from "../engine/events";
import type { ReviewRequest } from "../engine/outcome";
import { exponentialBackoff } from "../engine/retry";
import { undecided } from "../engine/review";
import { isTerminalRun, type RunState } from "../engine/state";
import type { Env } from "../env";
import { type ErrorData, errorData, toErrorData } from "../errors";
import { sortableId } from "../lib/ids";
import { publicUrl } from "../lib/public-url";
import { hashToken, newToken } from "../lib/tokens";
import { insertApproval } from "../store/approvals";
import { database } from "../store/db";
import { markEmailFailed, recordEmail } from "../store/outbox";
import { JobPump } from "./job-pump";
import { composeReviewMail } from "./review-mail";
import type { ShellTimer } from "./run-storage";

/** One email to one approver, with the token its link carries until it has been sent. */
export interface MailJob {
  id: string;
  runId: string;
  workflowId: string;
  nodeId: string;
  attempt: number;
  round: number;
  kind: "approval" | "escalation";
  purpose: "request" | "reminder" | "escalation";
  approver: string;
  token: string;
  expiresAt: number;
  createdAt: number;
  attempts: number;
}

export interface MailerDeps {
  sql: SqlStorage;
  env: Env;
  port: () => EmailPort;
  /** The request to mail, while the review this job belongs to is still open for its approver. */
  openRequest(job: MailJob): ReviewRequest | undefined;
  setTimer(timer: ShellTimer): void;
  deleteTimer(id: string): void;
  /** The job is given up: the engine records the failed delivery on the step. */
  gaveUp(job: MailJob, error: ErrorData): void;
  log(level: string, message: string, fields: Record<string, unknown>): void;
}

/** A send in progress holds its job this long; a crash mid-send is retried when it lapses. */
const leaseMs = 60_000;
export const maxSendAttempts = 5;
/** 5 s, 15 s, 45 s, 2 min 15 s between the attempts (the cap is never reached before giving up). */
export function mailBackoffMs(attempts: number): number {
  return exponentialBackoff(attempts, { initialMs: 5_000, factor: 3, maxMs: 5 * 60_000 });
}

export function mailTimerId(jobId: string): string {
  return `mail:${jobId}`;
}

/**
 * Durable email delivery for a run. A `request-review` command becomes one job per approver,
 * written in the same commit as the transition that asked for it, so no request is lost on a
 * crash. Jobs are sent behind the run: the approval row (token hash only) and the outbox record
 * go to D1 first, then the adapter sends; a failure is retried with backoff on the run's alarm,
 * and after `maxSendAttempts` the engine hears about it.
 */
export class Mailer {
  private readonly deps: MailerDeps;
  private readonly pump: JobPump<MailJob>;

  constructor(deps: MailerDeps) {
    this.deps = deps;
    this.pump = new JobPump<MailJob>({
      due: (dueBy) =>
        deps.sql
          .exec<{ body: string }>("SELECT body FROM mail WHERE at <= ? ORDER BY at LIMIT 50", dueBy)
          .toArray()
          .map((row) => JSON.parse(row.body) as MailJob),
      // One at a time: each send reschedules its own job (lease, backoff) before it goes.
      send: async (jobs) => {
        for (const job of jobs) await this.sendOne(job);
      },
    });
  }

  /** Synchronous: part of the transition's commit. */
  enqueue(command: Extract<Command, { type: "request-review" }>, state: RunState, now: number): void {
    const step = state.steps[command.nodeId];
    const kind = step?.review?.kind ?? "approval";
    for (const approver of command.approvers) {
      const job: MailJob = {
        id: sortableId("mail", now),
        runId: state.runId,
        workflowId: state.workflowId,
        nodeId: command.nodeId,
        attempt: command.attempt,
        round: command.round,
        kind,
        purpose: command.purpose,
        approver,
        token: newToken(),
        expiresAt: command.expiresAt,
        createdAt: now,
        attempts: 0,
      };
      this.deps.sql.exec("INSERT INTO mail (id, at, body) VALUES (?, ?, ?)", job.id, now, JSON.stringify(job));
      this.deps.setTimer({ id: mailTimerId(job.id), at: now + leaseMs, kind: "mail" });
    }
  }

  pending(): number {
    return this.deps.sql.exec<{ count: number }>("SELECT COUNT(*) AS count FROM mail").one().count;
  }

  /** Sends every job due by `dueBy`; concurrent calls join the running pass. */
  kick(dueBy: number = Date.now()): Promise<void> {
    return this.pump.kick(dueBy);
  }

  private reschedule(job: MailJob, at: number): void {
    this.deps.sql.exec("UPDATE mail SET at = ?, body = ? WHERE id = ?", at, JSON.stringify(job), job.id);
    this.deps.setTimer({ id: mailTimerId(job.id), at, kind: "mail" });
  }

  private drop(job: MailJob): void {
    this.deps.sql.exec("DELETE FROM mail WHERE id = ?", job.id);
    this.deps.deleteTimer(mailTimerId(job.id));
  }

  private async sendOne(job: MailJob): Promise<void> {
    const request = this.deps.openRequest(job);
    // The review closed (decided, expired, cancelled): nobody needs this email any more.
    if (!request) {
      this.drop(job);
      return;
    }
    const now = Date.now();
    this.reschedule(job, now + leaseMs);
    const { env } = this.deps;
    const port = this.deps.port();
    const base = publicUrl(env);
    const link = `${base}/approvals/${job.token}`;
    const from = env.EMAIL_FROM ?? defaultEmailFrom;
    const email = composeReviewMail({ ...job, from, to: job.approver, request, link });
    // Only the outbox adapter keeps links: with real delivery the token lives in the email alone.
    const keepsLinks = port.name === "outbox";
    const record = {
      id: job.id,
      runId: job.runId,
      nodeId: job.nodeId,
      purpose: job.purpose,
      from,
      to: job.approver,
      subject: email.subject,
      links: JSON.stringify(keepsLinks ? [link] : [`${base}/approvals/<redacted>`]),
      text: keepsLinks ? email.text : null,
      html: keepsLinks ? email.html : null,
      adapter: port.name,
      attempts: job.attempts + 1,
      createdAt: job.createdAt,
    };
    const db = database(env.DB);
    try {
      const tokenHash = await hashToken(job.token);
      await db.batch([
        insertApproval(db, {
          id: `apr_${job.id.slice(5)}`,
          tokenHash,
          runId: job.runId,
          workflowId: job.workflowId,
          nodeId: job.nodeId,
          attempt: job.attempt,
          round: job.round,
          kind: job.kind,
          purpose: job.purpose,
          approver: job.approver,
          createdAt: job.createdAt,
          expiresAt: job.expiresAt,
        }),
        recordEmail(db, { ...record, status: "sending", error: null, sentAt: null }),
      ]);
    } catch (thrown) {
      await this.failed(
        job,
        errorData("email.delivery_failed", `recording the link failed: ${String(thrown)}`, {
          retryable: true,
        }),
      );
      return;
    }
    const result = await port.send(email).catch((thrown): { ok: false; error: ErrorData } => ({
      ok: false,
      error: toErrorData(thrown, "email.delivery_failed"),
    }));
    if (!result.ok) {
      await recordEmail(db, { ...record, status: "retrying", error: result.error.message, sentAt: null }).catch(
        () => undefined,
      );
      await this.failed(job, result.error);
      return;
    }
    // Sent: the raw token leaves this object's storage with the job.
    this.drop(job);
    await recordEmail(db, { ...record, status: "sent", error: null, sentAt: Date.now() }).catch((thrown) =>
      this.deps.log("warn", "outbox update failed", { runId: job.runId, mailId: job.id, error: String(thrown) }),
    );
  }

  private async failed(job: MailJob, error: ErrorData): Promise<void> {
    const attempts = job.attempts + 1;
    this.deps.log("warn", "email send failed", {
      runId: job.runId,
      nodeId: job.nodeId,
      mailId: job.id,
      to: job.approver,
      attempts,
      error,
    });
    if (attempts < maxSendAttempts && error.retryable) {
      this.reschedule({ ...job, attempts }, Date.now() + mailBackoffMs(attempts));
      return;
    }
    this.drop(job);
    await markEmailFailed(database(this.deps.env.DB), job.id, attempts, error.message).catch(() => undefined);
    this.deps.gaveUp(job, error);
  }
}

/** The request a job mails, while its review is still open to its approver; undefined once it closed. */
export function openRequestOf(state: RunState | undefined, job: MailJob): ReviewRequest | undefined {
  const step = state?.steps[job.nodeId];
  const review = step?.review;
  if (!state || isTerminalRun(state.status) || !step || !review) return undefined;
  const open =
    step.status === "needs_review" &&
    step.attempts === job.attempt &&
    review.round === job.round &&
    undecided(review).includes(job.approver);
  return open ? review.request : undefined;
}

export function deliveryFailed(job: MailJob, error: ErrorData): RunEvent {
  return {
    type: "delivery-failed",
    nodeId: job.nodeId,
    attempt: job.attempt,
    round: job.round,
    approver: job.approver,
    error: { ...error, code: "email.delivery_failed", retryable: false },
  };
}
