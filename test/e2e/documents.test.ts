import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docx, textPdf } from "../support/documents";
import { fakeEmbedding } from "../support/fake-embedding";
import { type LlmServer, startLlmServer } from "../support/llm-server";
import { type Harness, registerWorkflow, startHarness, uniqueId, waitFor, waitForRunEnd } from "./harness";

/**
 * Documents in the bundle wrangler builds, as a user runs it: an upload starts an r2-triggered
 * run that extracts the file's text in chunks and embeds them on the OpenAI-compatible test
 * server. The workers tests prove the nodes; this proves pdf.js and mammoth survive wrangler's
 * bundler and run in workerd under `wrangler dev`.
 */

let harness: Harness;
let llm: LlmServer;

beforeAll(async () => {
  llm = await startLlmServer();
  harness = await startHarness({ vars: { LLM_BASE_URL: `${llm.url}/v1`, LLM_MODEL: "unused-chat-model" } });
});

afterAll(async () => {
  await harness?.stop();
  await llm?.close();
});

function pipeline(id: string, model: string) {
  return {
    id,
    name: id,
    triggers: [{ type: "r2", prefix: `${id}/` }],
    nodes: [
      { id: "read", type: "extract", config: { file: "input", output: "doc", chunk: { size: 200, overlap: 20 } } },
      { id: "vectors", type: "embed", config: { model, input: "doc.chunks", output: "index", batchSize: 4 } },
    ],
    edges: [{ from: "read", to: "vectors" }],
  };
}

async function runFor(workflowId: string, file: string, body: Uint8Array, contentType: string) {
  const put = await harness.api(`/api/files/${workflowId}/${file}`, {
    method: "PUT",
    headers: { "content-type": contentType },
    body: body.slice(),
  });
  expect(put.status).toBe(201);
  const runId = await waitFor(
    `a run of ${workflowId}`,
    async () => {
      const response = await harness.api(`/api/runs?workflow=${workflowId}`);
      return ((await response.json()) as { runs: { runId: string }[] }).runs[0]?.runId;
    },
    { harness },
  );
  return waitForRunEnd(harness, runId);
}

describe("documents under wrangler dev", () => {
  it("an uploaded PDF is extracted page by page, chunked and embedded", async () => {
    const id = uniqueId("e2e-pdf");
    const model = `${id}-embed`;
    await registerWorkflow(harness, pipeline(id, model));
    const lines = Array.from({ length: 12 }, (_, index) => `Line ${index + 1} of the supplier contract.`);
    const report = await runFor(id, "contract.pdf", textPdf([lines.slice(0, 6), lines.slice(6)]), "application/pdf");
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    const doc = report.context.doc as { text: string; pages: number; chunks: { text: string; page: number }[] };
    expect(doc.pages).toBe(2);
    expect(doc.text).toContain("Line 12 of the supplier contract.");
    expect(doc.chunks.at(-1)?.page).toBe(2);
    const index = report.context.index as { vectors: number[][] };
    expect(index.vectors).toEqual(doc.chunks.map((chunk) => fakeEmbedding(chunk.text)));
    const requests = llm.requests.filter((request) => request.model === model);
    expect(requests).toHaveLength(Math.ceil(doc.chunks.length / 4));
  });

  it("an uploaded Word document is extracted and embedded", async () => {
    const id = uniqueId("e2e-docx");
    const model = `${id}-embed`;
    await registerWorkflow(harness, pipeline(id, model));
    const report = await runFor(
      id,
      "memo.docx",
      await docx(["The office closes at noon on Friday."], "Memo"),
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    );
    expect(report.status, JSON.stringify(report.error)).toBe("success");
    expect(report.context.doc).toMatchObject({
      text: "Memo\n\nThe office closes at noon on Friday.",
      metadata: { type: "docx" },
      chunks: [{ index: 0, text: "Memo\n\nThe office closes at noon on Friday." }],
    });
    expect(report.context.index).toMatchObject({
      vectors: [fakeEmbedding("Memo\n\nThe office closes at noon on Friday.")],
    });
  });
});
