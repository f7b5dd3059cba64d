import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { triggerQueues } from "../../src/triggers/queue";
import { api, register, settle } from "./helpers";
import { expectError } from "./support";
import { definition, deliver, runIdsOf } from "./trigger-support";

/** The message body R2 event notifications deliver (the example in Cloudflare's R2 docs). */
function notification(key: string, overrides: Record<string, unknown> = {}) {
  return {
    account: "3f4b7e3dcab231cbfdaa90a6a28bd548",
    action: "PutObject",
    bucket: "signalbox-files",
    object: { key, size: 65536, eTag: "c846ff7a18f28c2e262116d6e8719ef0" },
    eventTime: "2024-05-24T19:36:44.379Z",
    ...overrides,
  };
}

async function runsOf(workflowId: string, count = 1): Promise<string[]> {
  return vi.waitFor(
    async () => {
      const ids = await runIdsOf(workflowId);
      if (ids.length < count) throw new Error(`${ids.length} of ${count} runs so far`);
      return ids;
    },
    { timeout: 10_000, interval: 50 },
  );
}

describe("r2 triggers", () => {
  it("starts a run from an R2 event notification with a reference to the object", async () => {
    await register(definition("r2-invoices", [{ type: "r2", prefix: "invoices/", suffix: ".pdf" }]));
    const result = await deliver(triggerQueues.r2Events, [{ id: "n-1", body: notification("invoices/2024/42.pdf") }]);
    expect(result.explicitAcks).toEqual(["n-1"]);
    const [runId] = await runsOf("r2-invoices");
    const report = await settle(runId as string);
    expect(report.status).toBe("success");
    expect(report.input).toEqual({
      ref: "r2://signalbox-files/invoices/2024/42.pdf",
      bucket: "signalbox-files",
      key: "invoices/2024/42.pdf",
      size: 65536,
      etag: "c846ff7a18f28c2e262116d6e8719ef0",
      action: "PutObject",
      eventTime: "2024-05-24T19:36:44.379Z",
    });
    expect(report.trigger).toMatchObject({ type: "r2", bucket: "signalbox-files", key: "invoices/2024/42.pdf" });

    // The same notification delivered again starts nothing new.
    await deliver(triggerQueues.r2Events, [{ id: "n-1", body: notification("invoices/2024/42.pdf"), attempts: 2 }]);
    await settle(runId as string);
    expect(await runIdsOf("r2-invoices")).toEqual([runId]);
  });

  it("filters on prefix, suffix, bucket and action", async () => {
    await register(definition("r2-filtered", [{ type: "r2", prefix: "in/", suffix: ".csv" }]));
    await register(definition("r2-deletes", [{ type: "r2", actions: ["DeleteObject"], prefix: "in/" }]));
    await register(definition("r2-other-bucket", [{ type: "r2", bucket: "archive" }]));
    await deliver(triggerQueues.r2Events, [
      { id: "f-1", body: notification("out/a.csv") },
      { id: "f-2", body: notification("in/a.json") },
      { id: "f-3", body: notification("in/a.csv", { bucket: "archive" }) },
      { id: "f-4", body: notification("in/b.csv", { action: "DeleteObject", object: { key: "in/b.csv" } }) },
      { id: "f-5", body: notification("in/c.csv", { action: "CopyObject", copySource: { bucket: "x", object: "y" } }) },
    ]);
    const [copied] = await runsOf("r2-filtered");
    expect((await settle(copied as string)).input).toMatchObject({
      key: "in/c.csv",
      action: "CopyObject",
      copySource: { bucket: "x", object: "y" },
    });
    const [deleted] = await runsOf("r2-deletes");
    expect((await settle(deleted as string)).input).toMatchObject({ key: "in/b.csv", size: null, etag: null });
    const [archived] = await runsOf("r2-other-bucket");
    expect((await settle(archived as string)).input).toMatchObject({ bucket: "archive", key: "in/a.csv" });
    expect(await runIdsOf("r2-filtered")).toHaveLength(1);
    expect(await runIdsOf("r2-deletes")).toHaveLength(1);
    expect(await runIdsOf("r2-other-bucket")).toHaveLength(1);
  });

  it("drops a message that is not an R2 notification", async () => {
    const result = await deliver(triggerQueues.r2Events, [
      { id: "bad-1", body: { hello: "world" } },
      { id: "bad-2", body: notification("x", { action: "Explode" }) },
    ]);
    expect(result.explicitAcks.sort()).toEqual(["bad-1", "bad-2"]);
    expect(result.retryMessages).toEqual([]);
  });

  it("uploads through PUT /api/files/:key, which emits the same notification", async () => {
    await register(definition("r2-upload", [{ type: "r2", prefix: "uploads/" }]));
    const response = await api("/api/files/uploads/report%20q1.txt", {
      method: "PUT",
      body: "hello, files",
      headers: { "content-type": "text/plain" },
    });
    expect(response.status).toBe(201);
    const uploaded = (await response.json()) as { key: string; size: number; etag: string; notified: boolean };
    expect(uploaded).toMatchObject({
      key: "uploads/report q1.txt",
      size: 12,
      notified: true,
      bucket: "signalbox-files",
    });
    expect((await env.FILES.head("uploads/report q1.txt"))?.etag).toBe(uploaded.etag);

    // The run gets the reference; the bytes stay in R2 and are read back through the API.
    const [runId] = await runsOf("r2-upload");
    const report = await settle(runId as string);
    expect(report.input).toMatchObject({
      key: "uploads/report q1.txt",
      size: 12,
      etag: uploaded.etag,
      action: "PutObject",
    });
    const read = await api("/api/files/uploads/report%20q1.txt");
    expect([read.status, read.headers.get("content-type"), await read.text()]).toEqual([
      200,
      "text/plain",
      "hello, files",
    ]);
  });

  it("answers 404 for a missing file and 400 for a bad key, and needs the API token", async () => {
    await expectError(await api("/api/files/nothing/here"), 404, "file.not_found");
    // URLs resolve a literal ../ before the Worker sees them; an encoded one reaches the key check.
    await expectError(await api("/api/files/a%2F..%2Fb", { method: "PUT", body: "x" }), 400, "request.invalid");
    await expectError(await api("/api/files/%E0%A4%A", { method: "PUT", body: "x" }), 400, "request.invalid");
    await expectError(
      await api("/api/files/x.txt", { method: "PUT", body: "x", headers: { authorization: "Bearer nope" } }),
      401,
      "auth.invalid_token",
    );
    expect(await env.FILES.head("x.txt")).toBeNull();
  });
});
