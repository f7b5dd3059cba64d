import { SELF } from "cloudflare:test";
import { expect } from "vitest";
import { api } from "./helpers";

export const origin = "http://signalbox.test";

export interface OutboxMessage {
  id: string;
  runId: string;
  nodeId: string;
  purpose: string;
  to: string;
  subject: string;
  links: string[];
  text: string | null;
  html: string | null;
  adapter: string;
  status: string;
  attempts: number;
  error: string | null;
}

/** The run's emails, oldest first. */
export async function outbox(runId: string): Promise<OutboxMessage[]> {
  const response = await api(`/api/outbox?run=${runId}`);
  expect(response.status).toBe(200);
  const { messages } = (await response.json()) as { messages: OutboxMessage[] };
  return messages.reverse();
}

/** The one link of the one message to `to` (the latest when there are several). */
export async function linkFor(runId: string, to: string, purpose?: string): Promise<string> {
  const messages = (await outbox(runId)).filter(
    (message) => message.to === to && (purpose === undefined || message.purpose === purpose),
  );
  const link = messages.at(-1)?.links[0];
  if (!link) throw new Error(`no email to ${to} for ${runId}`);
  return link;
}

export function pathOf(link: string): string {
  return new URL(link).pathname;
}

export function openLink(link: string, init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`${origin}${pathOf(link)}`, init);
}

export function csrfFrom(html: string): string {
  const match = /name="csrf" value="([0-9a-f]{64})"/.exec(html);
  if (!match?.[1]) throw new Error("no csrf field in the page");
  return match[1];
}

/** Loads the page (as a browser would) and submits its form with these fields. */
export async function decide(
  link: string,
  fields: Record<string, string>,
  options: { origin?: string | null; csrf?: string | null } = {},
): Promise<Response> {
  let csrf = options.csrf;
  if (csrf === undefined) {
    const page = await openLink(link);
    expect(page.status, "the approval page").toBe(200);
    csrf = csrfFrom(await page.text());
  }
  const body = new URLSearchParams(fields);
  if (csrf !== null) body.set("csrf", csrf);
  const headers = new Headers({ "content-type": "application/x-www-form-urlencoded" });
  const from = options.origin === undefined ? origin : options.origin;
  if (from !== null) headers.set("origin", from);
  return SELF.fetch(`${origin}${pathOf(link)}`, { method: "POST", headers, body });
}

export function approvalWorkflow(id: string, human: Record<string, unknown> = {}) {
  return {
    id,
    name: `approval ${id}`,
    triggers: [{ type: "manual" }],
    nodes: [
      { id: "prep", type: "transform", config: { set: { amount: "input.amount" } } },
      {
        id: "ask",
        type: "human",
        config: {
          to: ["ann@example.com"],
          subject: "Approve {{ input.item }}",
          body: "Please approve buying {{ input.item }} for {{ amount }}.",
          summary: { Item: "input.item", Amount: "amount" },
          expiresIn: "2d",
          remind: ["1d"],
          ...human,
        },
      },
      {
        id: "route",
        type: "branch",
        config: { cases: [{ when: "approval.decision = 'approve'", to: "yes" }], default: "no" },
      },
      { id: "yes", type: "transform", config: { set: { outcome: "'bought'" } } },
      { id: "no", type: "transform", config: { set: { outcome: "'declined'" } } },
    ],
    edges: [
      { from: "prep", to: "ask" },
      { from: "ask", to: "route" },
      { from: "route", to: "yes" },
      { from: "route", to: "no" },
    ],
  };
}
