import { createMimeMessage } from "mimetext";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Harness, registerWorkflow, startHarness, uniqueId, waitFor, waitForRunEnd } from "./harness";

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness?.stop();
});

/** A raw message with a small attachment, as the README's curl sends one. */
function rawMessage(from: string, to: string, messageId: string): string {
  const mime = createMimeMessage();
  mime.setSender(from);
  mime.setRecipient(to);
  mime.setSubject("Invoice 7");
  mime.setHeader("Message-ID", messageId);
  mime.addMessage({ contentType: "text/plain", data: "Invoice attached." });
  mime.addAttachment({ filename: "invoice-7.txt", contentType: "text/plain", data: btoa("total: 120.00 EUR") });
  return mime.asRaw();
}

/** What `wrangler dev` serves for Email Routing: the raw message to the Worker's email() handler. */
function sendEmail(from: string, to: string, raw: string): Promise<Response> {
  const query = new URLSearchParams({ from, to });
  return fetch(`${harness.baseUrl}/cdn-cgi/local/email?${query}`, { method: "POST", body: raw });
}

async function runIds(workflowId: string): Promise<string[]> {
  const response = await harness.api(`/api/runs?workflow=${workflowId}`);
  return ((await response.json()) as { runs: { runId: string }[] }).runs.map((run) => run.runId);
}

describe("email trigger under wrangler dev", () => {
  it("a message posted to the local email endpoint starts a run; its redelivery starts none", async () => {
    const id = uniqueId("e2e-mail");
    const address = `${id}@invoices.test`;
    await registerWorkflow(harness, {
      id,
      name: id,
      triggers: [{ type: "email", address, allowFrom: ["*@vendor.test"] }],
      nodes: [{ id: "echo", type: "transform", config: { set: { files: "input.attachments.filename" } } }],
      edges: [],
    });
    const raw = rawMessage("ap@vendor.test", address, `<${id}@vendor.test>`);
    const accepted = await sendEmail("ap@vendor.test", address, raw);
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    const runId = await waitFor(`a run of ${id}`, async () => (await runIds(id))[0], { harness });
    const report = await waitForRunEnd(harness, runId);
    expect(report.status).toBe("success");
    expect(report.input).toMatchObject({
      from: "ap@vendor.test",
      to: address,
      subject: "Invoice 7",
      messageId: `<${id}@vendor.test>`,
      attachments: [{ filename: "invoice-7.txt", contentType: "text/plain", size: 17 }],
    });
    expect(report.context).toMatchObject({ files: "invoice-7.txt" });

    expect((await sendEmail("ap@vendor.test", address, raw)).status).toBe(200);
    expect(await runIds(id)).toEqual([runId]);

    // A sender the trigger does not allow is refused with the reason, and the refusal is listed.
    const refused = await sendEmail(
      "eve@elsewhere.test",
      address,
      rawMessage("eve@elsewhere.test", address, `<x-${id}@elsewhere.test>`),
    );
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain(`eve@elsewhere.test may not send to ${address}`);
    const listed = await harness.api(`/api/email/rejections?workflow=${id}`);
    const body = (await listed.json()) as { rejections: { code: string; from: string }[] };
    expect(body.rejections).toMatchObject([{ code: "email.sender_not_allowed", from: "eve@elsewhere.test" }]);
    expect(await runIds(id)).toEqual([runId]);
  });
});
