import { describe, expect, it } from "vitest";
import { settle } from "./helpers";
import { linkFor, openLink } from "./human-helpers";
import { llmServer, runLlm, uniqueModel } from "./llm-helpers";

const schema = {
  type: "object",
  required: ["label", "confidence"],
  properties: { label: { type: "string" }, confidence: { type: "number" } },
};

const entities: Record<string, string> = { "&quot;": '"', "&#39;": "'", "&lt;": "<", "&gt;": ">", "&amp;": "&" };

/** What the review page's "skip with this output" field starts with, parsed. */
async function skipOutputOn(runId: string, reviewer: string): Promise<unknown> {
  const page = await openLink(await linkFor(runId, reviewer));
  expect(page.status).toBe(200);
  const match = /<textarea id="output" name="output">([\s\S]*?)<\/textarea>/.exec(await page.text());
  if (match?.[1] === undefined) throw new Error("no output field on the review page");
  return JSON.parse(match[1].replace(/&quot;|&#39;|&lt;|&gt;|&amp;/g, (entity) => entities[entity] ?? entity));
}

describe("an llm step's review page", () => {
  it("starts the skip output with a low-confidence answer, as the keys the step writes", async () => {
    const model = uniqueModel("proposal");
    await llmServer.script(model, [{ json: { label: "refund", confidence: 0.4 } }]);
    const config = { model, prompt: "classify", schema, output: "verdict", fields: { label: "label" } };
    const { runId } = await runLlm(
      [{ id: "classify", config: { ...config, confidence: { field: "confidence", threshold: 0.7 } } }],
      {
        extra: { reviewers: ["lead@example.com"] },
      },
    );
    expect((await settle(runId)).status).toBe("needs_review");
    expect(await skipOutputOn(runId, "lead@example.com")).toEqual({
      verdict: { label: "refund", confidence: 0.4 },
      label: "refund",
    });
  });

  it("starts it with an answer that did not fit the schema, for the reviewer to fix", async () => {
    const model = uniqueModel("misfit");
    await llmServer.script(model, [{ json: { label: "refund" } }]);
    const { runId } = await runLlm(
      [
        {
          id: "classify",
          config: { model, prompt: "classify", schema, output: "verdict", repairs: 0 },
          retry: { escalateAfter: 1 },
        },
      ],
      { extra: { reviewers: ["fixer@example.com"] } },
    );
    const report = await settle(runId);
    expect(report.status).toBe("needs_review");
    expect(report.steps[0]?.error).toMatchObject({ code: "llm.output_invalid" });
    expect(await skipOutputOn(runId, "fixer@example.com")).toEqual({ verdict: { label: "refund" } });
  });

  it("starts it empty when the model proposed nothing", async () => {
    const model = uniqueModel("prose");
    await llmServer.script(model, [{ content: "not json at all" }]);
    const { runId } = await runLlm(
      [
        {
          id: "classify",
          config: { model, prompt: "classify", schema, output: "verdict", repairs: 0 },
          retry: { escalateAfter: 1 },
        },
      ],
      { extra: { reviewers: ["fixer@example.com"] } },
    );
    expect((await settle(runId)).status).toBe("needs_review");
    expect(await skipOutputOn(runId, "fixer@example.com")).toEqual({});
  });
});
