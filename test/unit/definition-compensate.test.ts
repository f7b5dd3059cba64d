import { describe, expect, it } from "vitest";
import { compilePlan } from "../../src/definition/compile";
import { type Doc, edit, issuesOf, valid } from "./definition-fixture";

const undo = { method: "DELETE", url: "https://example.com/hooks/{{ output.body.id }}" };

function withUndo(change: (doc: Doc) => void = () => {}): Doc {
  return edit((doc) => {
    doc.nodes[2].compensate = { ...undo };
    change(doc);
  });
}

type Case = [name: string, raw: Doc, expected: [code: string, path: (string | number)[]][], message?: RegExp];

const cases: Case[] = [
  [
    "compensate on a log node",
    edit((d) => (d.nodes[3].compensate = undo)),
    [["definition.compensate_unsupported", ["nodes", 3, "compensate"]]],
    /a log node cannot have a compensate/,
  ],
  [
    "compensate on a transform node",
    edit((d) => (d.nodes[0].compensate = undo)),
    [["definition.compensate_unsupported", ["nodes", 0, "compensate"]]],
  ],
  [
    "onFailure compensate with no compensate anywhere",
    edit((d) => (d.onFailure = "compensate")),
    [["definition.nothing_to_compensate", ["onFailure"]]],
    /no node has a compensate/,
  ],
  [
    "onCancel compensate with no compensate anywhere",
    edit((d) => (d.onCancel = "compensate")),
    [["definition.nothing_to_compensate", ["onCancel"]]],
  ],
  ["onFailure of another word", withUndo((d) => (d.onFailure = "rollback")), [["definition.invalid", ["onFailure"]]]],
  [
    "compensate request without a url",
    withUndo((d) => delete d.nodes[2].compensate.url),
    [["definition.config_invalid", ["nodes", 2, "compensate", "url"]]],
  ],
  [
    "compensate request with an unknown key",
    withUndo((d) => (d.nodes[2].compensate.output = "x")),
    [["definition.config_invalid", ["nodes", 2, "compensate"]]],
  ],
  [
    "compensate timeout that is not a duration",
    withUndo((d) => (d.nodes[2].compensate.timeout = "soon")),
    [["definition.invalid", ["nodes", 2, "compensate", "timeout"]]],
  ],
  [
    "compensate retry with escalation",
    withUndo((d) => (d.nodes[2].compensate.retry = { escalateAfter: 2 })),
    [["definition.invalid", ["nodes", 2, "compensate", "retry"]]],
  ],
  [
    "compensate body that is not an expression",
    withUndo((d) => (d.nodes[2].compensate.body = "{ 'id': ")),
    [["definition.expression_invalid", ["nodes", 2, "compensate", "body"]]],
  ],
  [
    "compensate idempotency key template with a broken expression",
    withUndo((d) => (d.nodes[2].compensate.idempotencyKey = "undo-{{ run.id + }}")),
    [["definition.expression_invalid", ["nodes", 2, "compensate", "idempotencyKey"]]],
  ],
];

describe("validateDefinition: compensation", () => {
  it.each(cases)("%s", (_name, raw, expected, message) => {
    const issues = issuesOf(raw);
    expect(issues.map((issue) => [issue.code, issue.path])).toEqual(expected);
    if (message) expect(issues[0]?.message).toMatch(message);
  });

  it("accepts compensate on an http node with onFailure and onCancel", () => {
    const result = valid(withUndo((d) => Object.assign(d, { onFailure: "compensate", onCancel: "compensate" })));
    expect(result.definition.onFailure).toBe("compensate");
    expect(result.definition.onCancel).toBe("compensate");
  });

  it("accepts a compensate without onFailure or onCancel (nothing runs it yet, nothing is wrong)", () => {
    expect(valid(withUndo()).definition.nodes[2]?.compensate).toEqual(undo);
  });
});

describe("compilePlan: compensation", () => {
  it("gives the node its compensate with the node type's defaults and the workflow its triggers", () => {
    const result = valid(withUndo((d) => (d.onFailure = "compensate")));
    const plan = compilePlan(result.definition, 1);
    expect(plan.compensateOn).toEqual({ failure: true, cancel: false });
    expect(plan.nodes.notify?.compensate).toMatchObject({
      timeoutMs: 30_000,
      retry: { maxAttempts: 3, backoff: "exponential", initialDelayMs: 1_000 },
      config: { method: "DELETE", url: undo.url, headers: {}, expectStatus: ["2xx"] },
    });
    expect(plan.nodes.prepare?.compensate).toBeUndefined();
  });

  it("takes the compensate's own timeout, retry and idempotency key", () => {
    const result = valid(
      withUndo((d) => {
        d.onCancel = "compensate";
        Object.assign(d.nodes[2].compensate, {
          timeout: "5s",
          retry: { maxAttempts: 7, backoff: "fixed", initialDelay: "250ms" },
          idempotencyKey: "undo-{{ run.id }}",
        });
      }),
    );
    const plan = compilePlan(result.definition, 1);
    expect(plan.compensateOn).toEqual({ failure: false, cancel: true });
    expect(plan.nodes.notify?.compensate).toMatchObject({
      timeoutMs: 5_000,
      retry: { maxAttempts: 7, backoff: "fixed", initialDelayMs: 250 },
      config: { idempotencyKey: "undo-{{ run.id }}" },
    });
  });

  it("leaves a plan without onFailure or onCancel with nothing to compensate on", () => {
    expect(compilePlan(valid(withUndo()).definition, 1).compensateOn).toBeUndefined();
  });
});
