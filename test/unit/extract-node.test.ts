import { describe, expect, it } from "vitest";
import { deepFreeze, type JsonObject } from "../../src/lib/json";
import { extractNode, fileTarget } from "../../src/nodes/extract";
import type { FilePort, NodeContext } from "../../src/nodes/types";

function context(files: FilePort | undefined, input: JsonObject): NodeContext {
  return {
    runId: "run-1",
    workflowId: "wf",
    nodeId: "read",
    attempt: 1,
    idempotencyKey: "run-1:read:1",
    context: deepFreeze({ input }),
    now: 0,
    signal: new AbortController().signal,
    ports: { fetch: () => Promise.reject(new Error("no fetch")), log: () => {}, ...(files ? { files } : {}) },
  };
}

const config = extractNode.config.parse({ file: "input.file", output: "doc" });

describe("extract node", () => {
  it("retries a storage read that threw, and only that", async () => {
    const flaky: FilePort = { read: () => Promise.reject(new Error("R2 answered 503")) };
    const outcome = await extractNode.execute(config, context(flaky, { file: "a.pdf" }));
    expect(outcome).toMatchObject({ type: "failure", error: { code: "extract.read_failed", retryable: true } });
    const gone: FilePort = { read: async () => ({ ok: false, reason: "not_found" }) };
    const missing = await extractNode.execute(config, context(gone, { file: "a.pdf" }));
    expect(missing).toMatchObject({ type: "failure", error: { code: "extract.not_found", retryable: false } });
  });

  it("reads what each source of files hands a run", () => {
    expect(fileTarget("r2://signalbox-files/inbox/a.pdf")).toMatchObject({
      location: { bucket: "signalbox-files", key: "inbox/a.pdf" },
    });
    expect(fileTarget("inbox/a.pdf")).toMatchObject({ location: { key: "inbox/a.pdf" } });
    expect(fileTarget({ ref: "r2://b/k", bucket: "b", key: "k", size: 3 })).toMatchObject({
      location: { bucket: "b", key: "k" },
    });
    expect(
      fileTarget({ filename: "inv.pdf", contentType: "application/pdf", size: 9, ref: "r2://signalbox-files/mail/x" }),
    ).toEqual({
      location: { bucket: "signalbox-files", key: "mail/x" },
      name: "r2://signalbox-files/mail/x",
      filename: "inv.pdf",
      contentType: "application/pdf",
    });
    const hash = "ab".repeat(32);
    expect(fileTarget({ "$signalbox.blob": `sha256:${hash}`, size: 10, type: "string" })).toMatchObject({
      location: { blob: hash },
    });
    for (const nothing of [undefined, null, "", "r2://", [], {}, { size: 3 }, 42]) {
      expect(fileTarget(nothing), JSON.stringify(nothing)).toBeUndefined();
    }
  });
});
