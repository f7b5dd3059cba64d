import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { blockedFor, clientAddress, countFailure } from "../auth/rate-limit";
import type { Env } from "../env";
import { type ErrorCode, errorData, errorStatus, toErrorData } from "../errors";
import type { Json } from "../lib/json";
import { csrfToken, hashToken, isTokenShape, sameSecret } from "../lib/tokens";
import { humanLoopStub } from "../run/human-loop-api";
import type { ClosedReason, ReviewInfo } from "../run/reviews";
import { type ApprovalRow, findApproval, recordAudit } from "../store/approvals";
import { database } from "../store/db";
import { type ApprovalFormValues, ApprovalPage } from "../ui/approval-page";
import { MessagePage } from "../ui/message-page";
import { closedMessages, decideOnLink } from "./approval-decision";
import { type DecisionInput, parseDecision } from "./approval-input";
import { noteAudit } from "./audit-trail";
import { errorResponse } from "./http-errors";
import { errors, json, spec } from "./openapi-spec";
import { isObject, limitBody, readForm, readJson } from "./request";

/**
 * Approval links. `GET` shows the request and the decision form and changes nothing: mail
 * scanners and link previews fetch links. `POST` decides, once: the link is claimed in D1 with
 * one conditional UPDATE, then the run's object checks again that the step still waits for it.
 */
export const approvalRoutes = new Hono<{ Bindings: Env }>();

type Problem = { code: ErrorCode; title: string; message: string; outcome: string };

const problems = {
  notFound: {
    code: "approval.not_found",
    title: "Link not recognized",
    message: "This approval link is not valid. Check that you opened the whole link from the email.",
    outcome: "not_found",
  },
  used: {
    code: "approval.used",
    title: "Link already used",
    message: "A decision was already made with this link. Each link works once.",
    outcome: "used",
  },
  expired: {
    code: "approval.expired",
    title: "Link expired",
    message: "This request expired before a decision was made with this link.",
    outcome: "expired",
  },
  csrf: {
    code: "approval.csrf_invalid",
    title: "Form expired or forged",
    message: "The form you sent did not come from this approval page. Open the link again and decide there.",
    outcome: "csrf_invalid",
  },
} as const satisfies Record<string, Problem>;

/** A body the route cannot parse is answered (and audited) like the link's other problems. */
function unreadable(thrown: unknown): Problem {
  const error = toErrorData(thrown);
  if (errorStatus[error.code] >= 500) throw thrown;
  return { code: error.code, title: "Request not readable", message: error.message, outcome: "unreadable" };
}

/** 429 with Retry-After: too many links that matched nothing, from this address. */
function tooManyGuesses(c: Context<{ Bindings: Env }>, waitMs: number): Problem {
  c.header("Retry-After", String(Math.ceil(waitMs / 1000)));
  return {
    code: "auth.rate_limited",
    title: "Too many attempts",
    message: `Too many approval links from your address did not match. Try again in ${Math.ceil(waitMs / 1000)} seconds.`,
    outcome: "rate_limited",
  };
}

function closedProblem(reason: ClosedReason, info: ReviewInfo): Problem {
  if (reason === "expired") return problems.expired;
  const detail = reason === "run_ended" ? ` (the run is ${info.runStatus})` : "";
  return {
    code: "approval.closed",
    title: "Request closed",
    message: `${closedMessages[reason]}${detail}`,
    outcome: `closed:${reason}`,
  };
}

const pageHeaders = {
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Robots-Tag": "noindex, nofollow",
  "X-Frame-Options": "DENY",
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

function secret(env: Env): string {
  return env.APPROVAL_SECRET ?? `signalbox-approval:${env.API_TOKEN ?? "local"}`;
}

function status(code: ErrorCode): ContentfulStatusCode {
  return errorStatus[code] as ContentfulStatusCode;
}

function problemPage(c: Context<{ Bindings: Env }>, problem: Problem): Response | Promise<Response> {
  return c.html(
    <MessagePage title={problem.title} message={problem.message} code={problem.code} />,
    status(problem.code),
    pageHeaders,
  );
}

interface Link {
  token: string;
  tokenHash: string;
  row: ApprovalRow;
}

/** The link's row, or the problem that makes it unusable without asking the run. */
async function findLink(
  c: Context<{ Bindings: Env }>,
): Promise<Link | { problem: Problem; tokenHash?: string; row?: ApprovalRow }> {
  const token = c.req.param("token") ?? "";
  const now = Date.now();
  const address = clientAddress(c);
  const wait = blockedFor("approval", address, now);
  if (wait !== undefined) return { problem: tooManyGuesses(c, wait) };
  /** A link that matches nothing is a guess: it spends the address's budget. */
  const guessed = async (tokenHash?: string) => {
    const over = await countFailure(c.env, "approval", address, now);
    return {
      problem: over === undefined ? problems.notFound : tooManyGuesses(c, over),
      ...(tokenHash ? { tokenHash } : {}),
    };
  };
  // Anything that cannot be a token we issued is not looked up at all.
  if (!isTokenShape(token)) return guessed();
  const tokenHash = await hashToken(token);
  const row = await findApproval(database(c.env.DB), tokenHash);
  if (!row) return guessed(tokenHash);
  if (row.status !== "pending") return { problem: problems.used, tokenHash, row };
  if (row.expiresAt <= Date.now()) return { problem: problems.expired, tokenHash, row };
  return { token, tokenHash, row };
}

/** The link's approver is who acted through it, on the link's run. */
function approverNote(row: ApprovalRow) {
  return { actor: { kind: "approver", id: row.approver, name: row.approver } as const, runId: row.runId };
}

function query(row: ApprovalRow) {
  return { runId: row.runId, nodeId: row.nodeId, attempt: row.attempt, round: row.round, approver: row.approver };
}

async function reviewOf(c: Context<{ Bindings: Env }>, row: ApprovalRow) {
  const info = await humanLoopStub(c.env, row.runId).reviewInfo(query(row));
  if (!info) return { problem: problems.notFound };
  if (!info.open) return { problem: closedProblem(info.closed ?? "decided", info), info };
  return { info };
}

approvalRoutes.get(
  "/:token",
  spec({
    summary: "Approval page: the request and the decision form. Changes nothing.",
    public: true,
    responses: {
      "200": { description: "the form (HTML)" },
      "404": { description: "unknown link (HTML)" },
      "409": { description: "the request closed: decided, superseded, or the run ended (HTML)" },
      "410": { description: "the link was used or expired (HTML)" },
    },
  }),
  async (c) => {
    const link = await findLink(c);
    if ("problem" in link) return problemPage(c, link.problem);
    const review = await reviewOf(c, link.row);
    if (review.problem) return problemPage(c, review.problem);
    const csrf = await csrfToken(secret(c.env), link.tokenHash);
    return c.html(
      <ApprovalPage info={review.info} approver={link.row.approver} action={`/approvals/${link.token}`} csrf={csrf} />,
      200,
      pageHeaders,
    );
  },
);

/** A browser form must come from this origin (or PUBLIC_URL's) and carry the page's form token. */
async function formIsGenuine(c: Context<{ Bindings: Env }>, tokenHash: string, form: FormData): Promise<boolean> {
  const origins = new Set([new URL(c.req.url).origin]);
  if (c.env.PUBLIC_URL) origins.add(new URL(c.env.PUBLIC_URL).origin);
  const origin = c.req.header("origin");
  const sameSite = c.req.header("sec-fetch-site") === "same-origin";
  if (!sameSite && (origin === undefined || !origins.has(origin))) return false;
  const given = form.get("csrf");
  return typeof given === "string" && (await sameSecret(given, await csrfToken(secret(c.env), tokenHash)));
}

approvalRoutes.post(
  "/:token",
  spec({
    summary: "Decide, once: the page's form (with its form token) or JSON {decision, comment?, edits?, output?}",
    public: true,
    body: z.object({
      decision: z.enum(["approve", "reject", "retry", "skip", "fail"]),
      comment: z.string().max(2000).optional(),
      edits: z.record(z.string(), z.unknown()).optional(),
      output: z.record(z.string(), z.unknown()).optional(),
    }),
    responses: {
      "200": {
        description: "recorded",
        ...json(
          z.object({
            runId: z.string(),
            nodeId: z.string(),
            decision: z.string(),
            approver: z.string(),
            runStatus: z.string(),
            stepStatus: z.string(),
          }),
        ),
      },
      ...errors(400, 403, 404, 409, 410, 413, 415, 422),
    },
  }),
  limitBody,
  async (c) => {
    const db = database(c.env.DB);
    const type = c.req.header("content-type") ?? "";
    const isForm = /application\/x-www-form-urlencoded|multipart\/form-data/i.test(type);
    const isJson = /json/i.test(type);
    const now = Date.now();
    const audit = {
      ip: c.req.header("cf-connecting-ip") ?? c.req.header("x-forwarded-for")?.split(",")[0]?.trim() ?? null,
      userAgent: c.req.header("user-agent") ?? null,
      at: now,
    };
    /** Every POST is audited against the link it used (when it names one). */
    const auditOf = (row: ApprovalRow | undefined) => ({
      ...audit,
      approvalId: row?.id,
      runId: row?.runId,
      nodeId: row?.nodeId,
      approver: row?.approver,
    });
    const answer = async (problem: Problem, row?: ApprovalRow, decision?: string) => {
      noteAudit(c, { code: problem.code });
      await recordAudit(db, { ...auditOf(row), decision, outcome: problem.outcome }).catch(() => undefined);
      return isForm ? problemPage(c, problem) : errorResponse(c, errorData(problem.code, problem.message));
    };
    if (!isForm && !isJson) {
      return errorResponse(
        c,
        errorData(
          "request.unsupported_media_type",
          "send the decision as a form or as JSON {decision, comment?, edits?}",
        ),
      );
    }
    const link = await findLink(c);
    // A forged, used or expired link is refused as such, whatever the body says.
    if ("problem" in link) {
      if (link.row) noteAudit(c, approverNote(link.row));
      return answer(link.problem, link.row);
    }
    const { row } = link;
    noteAudit(c, approverNote(row));
    let sent: FormData | Json;
    try {
      sent = isForm ? await readForm(c) : await readJson(c);
    } catch (thrown) {
      return answer(unreadable(thrown), row);
    }
    const form = sent instanceof FormData ? sent : undefined;
    if (form && !(await formIsGenuine(c, link.tokenHash, form))) return answer(problems.csrf, row);
    const review = await reviewOf(c, row);
    if (review.problem) return answer(review.problem, row);
    const { info } = review;

    let input: DecisionInput;
    let values: ApprovalFormValues = {};
    try {
      const raw = form
        ? Object.fromEntries([...form.entries()].filter(([, value]) => typeof value === "string"))
        : sent;
      if (!isObject(raw)) throw new Error("expected a JSON object {decision, comment?, edits?}");
      const parsed = parseDecision(info, raw, Boolean(form));
      values = parsed.values;
      if ("error" in parsed) throw new Error(parsed.error);
      input = parsed.input;
    } catch (thrown) {
      const message = (thrown as Error).message;
      await recordAudit(db, { ...auditOf(row), outcome: "invalid", details: { message } }).catch(() => undefined);
      noteAudit(c, { code: "approval.invalid" });
      if (!form) return errorResponse(c, errorData("approval.invalid", message));
      const csrf = await csrfToken(secret(c.env), link.tokenHash);
      return c.html(
        <ApprovalPage
          info={info}
          approver={row.approver}
          action={`/approvals/${link.token}`}
          csrf={csrf}
          error={message}
          values={values}
        />,
        422,
        pageHeaders,
      );
    }

    const result = await decideOnLink(c.env, db, row, input, audit);
    if (!result.ok) {
      return answer(result.reason === "used" ? problems.used : closedProblem(result.reason, info), row, input.decision);
    }
    const body = {
      runId: row.runId,
      nodeId: row.nodeId,
      decision: input.decision,
      approver: row.approver,
      runStatus: result.runStatus,
      stepStatus: result.stepStatus,
    };
    if (!form) return c.json(body);
    const waiting = result.stepStatus === "needs_review";
    return c.html(
      <MessagePage
        title="Decision recorded"
        message={`Thank you: your decision (${input.decision}) on "${info.request.subject}" was recorded.`}
        detail={
          waiting
            ? "The request is still waiting for the other approvers."
            : "The run goes on from here. You can close this page."
        }
      />,
      200,
      pageHeaders,
    );
  },
);
