import { expect } from "vitest";
import { getReport, type Harness, type RunReport, waitFor } from "./harness";

export interface OutboxMessage {
  runId: string;
  nodeId: string;
  to: string;
  subject: string;
  purpose: string;
  links: string[];
  status: string;
}

/** Polls the run's report until it has this status. */
export function waitForStatus(harness: Harness, runId: string, status: string, timeoutMs = 30_000): Promise<RunReport> {
  return waitFor(
    `run ${runId} to be ${status}`,
    async () => {
      const report = await getReport(harness, runId);
      return report.status === status ? report : undefined;
    },
    { timeoutMs, harness },
  );
}

/** The approval emails of one run, as `GET /api/outbox` lists them (oldest first). */
export async function outboxOf(harness: Harness, runId: string): Promise<OutboxMessage[]> {
  const response = await harness.api(`/api/outbox?run=${runId}`);
  expect(response.status).toBe(200);
  const { messages } = (await response.json()) as { messages: OutboxMessage[] };
  return messages.reverse();
}

/** Waits for the run's email to `to` (sent behind the run) and returns its approval link. */
export function approvalLink(harness: Harness, runId: string, to: string): Promise<string> {
  return waitFor(
    `an approval email to ${to}`,
    async () => {
      const message = (await outboxOf(harness, runId)).find((entry) => entry.to === to && entry.status === "sent");
      return message?.links[0];
    },
    { harness },
  );
}

/** Decides the way a browser does: load the page, then post its form with the page's form token. */
export async function decideByForm(harness: Harness, link: string, fields: Record<string, string>): Promise<Response> {
  const page = await fetch(link);
  expect(page.status).toBe(200);
  const csrf = /name="csrf" value="([0-9a-f]{64})"/.exec(await page.text())?.[1];
  if (!csrf) throw new Error("the approval page has no form token");
  return fetch(link, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: harness.baseUrl },
    body: new URLSearchParams({ ...fields, csrf }),
  });
}
