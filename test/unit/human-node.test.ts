import { describe, expect, it } from "vitest";
import { validateDefinition } from "../../src/definition/validate";
import type { NodeOutcome } from "../../src/engine/outcome";
import type { JsonObject } from "../../src/lib/json";
import { humanNode } from "../../src/nodes/human";
import type { NodeContext } from "../../src/nodes/types";

function context(data: JsonObject): NodeContext {
  return {
    runId: "run-1",
    workflowId: "wf",
    nodeId: "ask",
    attempt: 1,
    idempotencyKey: "run-1:ask:1",
    context: data,
    now: 1_000,
    signal: new AbortController().signal,
    ports: { fetch: () => Promise.reject(new Error("no network")), log: () => undefined },
  };
}

function run(config: Record<string, unknown>, data: JsonObject = {}): Promise<NodeOutcome> {
  const parsed = humanNode.config.parse(config);
  return humanNode.execute(parsed, context(data));
}

const base = { to: ["ann@example.com"], subject: "Approve {{ input.item }}", body: "Buy {{ input.item }}?" };

describe("the human node", () => {
  it("renders the request and fills in the defaults", async () => {
    const outcome = await run(
      { ...base, summary: { Item: "input.item", Price: "input.price" }, remind: ["1d"] },
      { input: { item: "a chair", price: 40 } },
    );
    expect(outcome).toEqual({
      type: "await-review",
      review: {
        approvers: ["ann@example.com"],
        require: "any",
        expiresAt: 1_000 + 7 * 86_400_000,
        remindBeforeMs: [86_400_000],
        onExpire: { type: "reject" },
        output: "approval",
        request: {
          subject: "Approve a chair",
          text: "Buy a chair?",
          summary: [
            { label: "Item", value: "a chair" },
            { label: "Price", value: "40" },
          ],
          decisions: ["approve", "reject"],
        },
      },
    });
  });

  it.each([
    { name: "a list", to: ["a@example.com", "b@example.com"], data: {}, approvers: ["a@example.com", "b@example.com"] },
    { name: "one address", to: "solo@example.com", data: {}, approvers: ["solo@example.com"] },
    {
      name: "an expression",
      to: "input.team",
      data: { input: { team: ["x@example.com", "x@example.com"] } },
      approvers: ["x@example.com"],
    },
  ])("takes approvers as $name", async ({ to, data, approvers }) => {
    const outcome = await run({ ...base, to }, data as JsonObject);
    expect(outcome.type === "await-review" && outcome.review.approvers).toEqual(approvers);
  });

  it.each([
    { name: "not an address", data: { input: { team: "nobody" } } },
    { name: "nobody", data: { input: { team: [] } } },
  ])("fails when the expression gives $name", async ({ data }) => {
    const outcome = await run({ ...base, to: "input.team" }, data as JsonObject);
    expect(outcome).toMatchObject({ type: "failure", error: { code: "node.failed" } });
  });

  it("escapes what an HTML template interpolates, and keeps the subject on one line", async () => {
    const outcome = await run(
      { ...base, subject: "Re: {{ input.item }}", html: "<p>Buy <b>{{ input.item }}</b>?</p>" },
      { input: { item: '<script>x</script>\r\nBcc: "eve"' } },
    );
    if (outcome.type !== "await-review") throw new Error(outcome.type);
    expect(outcome.review.request.html).toBe(
      "<p>Buy <b>&lt;script&gt;x&lt;/script&gt;\r\nBcc: &quot;eve&quot;</b>?</p>",
    );
    expect(outcome.review.request.subject).toBe('Re: <script>x</script> Bcc: "eve"');
  });

  it("resolves escalation approvers and edit values", async () => {
    const outcome = await run(
      {
        ...base,
        expiresIn: "2h",
        onExpire: { escalate: "input.boss", expiresIn: "1h" },
        edit: {
          schema: { type: "object", properties: { price: { type: "number" } } },
          values: { price: "input.price" },
        },
      },
      { input: { boss: "boss@example.com", price: 9 } },
    );
    if (outcome.type !== "await-review") throw new Error(outcome.type);
    expect(outcome.review.onExpire).toEqual({
      type: "escalate",
      approvers: ["boss@example.com"],
      expiresInMs: 3_600_000,
      fallback: "fail",
    });
    expect(outcome.review.request.edit?.values).toEqual({ price: 9 });
  });
});

describe("human and wait definitions", () => {
  const workflow = (nodes: unknown[], edges: unknown[] = []) => ({ id: "wf", name: "wf", nodes, edges });

  it.each([
    { name: "a bad approver list", config: { ...base, to: ["not-an-address"] }, path: ["nodes", 0, "config", "to", 0] },
    { name: "a bad approver expression", config: { ...base, to: "input.(" }, path: ["nodes", 0, "config", "to"] },
    {
      name: "an edit schema that is not an object schema",
      config: { ...base, edit: { schema: { type: "string" } } },
      path: ["nodes", 0, "config", "edit", "schema"],
    },
    {
      name: "an unknown decision",
      config: { ...base, decisions: ["maybe"] },
      path: ["nodes", 0, "config", "decisions", 0],
    },
  ])("rejects $name", ({ config, path }) => {
    const result = validateDefinition(workflow([{ id: "ask", type: "human", config }]));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.path).toEqual(path);
  });

  it("accepts a human node and a wait for an event with a timeout path", () => {
    const result = validateDefinition(
      workflow(
        [
          { id: "ask", type: "human", config: base },
          {
            id: "hold",
            type: "wait",
            config: { event: "paid", timeout: "1d", timeoutTo: "late", match: "event.payload.ok" },
          },
          { id: "ok", type: "log", config: { message: "paid" } },
          { id: "late", type: "log", config: { message: "late" } },
        ],
        [
          { from: "ask", to: "hold" },
          { from: "hold", to: "ok" },
          { from: "hold", to: "late" },
        ],
      ),
    );
    expect(result.ok, JSON.stringify(!result.ok && result.issues)).toBe(true);
  });
});
