import { describe, expect, it } from "vitest";
import { api } from "./helpers";

/** A run id of the right shape that no run has: bodies are checked before the run is asked. */
const runId = `run_${"0".repeat(26)}`;

async function refusal(path: string, body: unknown) {
  const response = await api(path, { method: "POST", json: body });
  const { error } = (await response.json()) as { error: { code: string; message: string } };
  return { status: response.status, code: error.code, message: error.message };
}

const invalid = (message: string) => ({ status: 400, code: "request.invalid", message });

// These routes check their bodies with the zod schemas the OpenAPI document shows (parseBody);
// each refusal keeps the code and message the route gave before the schemas did.
describe("bodies checked with the document's schemas", () => {
  it("starting a run: an object, and an idempotency key of 1 to 200 characters", async () => {
    const path = "/api/workflows/no-such-workflow/runs";
    expect(await refusal(path, [1])).toEqual(invalid("expected a JSON object {input, idempotencyKey?}"));
    for (const idempotencyKey of ["", "k".repeat(201), 7]) {
      expect(await refusal(path, { idempotencyKey })).toEqual(
        invalid("idempotencyKey must be a non-empty string of at most 200 characters"),
      );
    }
  });

  it("retry and requeue: a version that is latest or a version number", async () => {
    for (const path of [`/api/runs/${runId}/retry`, `/api/dead-letters/${runId}/requeue`]) {
      expect(await refusal(path, "latest")).toEqual(invalid('expected a JSON object {version?: "latest" | number}'));
      for (const version of ["newest", 0, 1.5]) {
        expect(await refusal(path, { version })).toEqual(invalid('version must be "latest" or a version number'));
      }
    }
  });

  it("replay: a fromNode; pause: a reason of at most 500 characters", async () => {
    const replay = `/api/runs/${runId}/replay`;
    for (const body of [null, {}, { fromNode: "" }, { fromNode: 3 }]) {
      expect(await refusal(replay, body)).toEqual(invalid("expected a JSON object {fromNode, context?}"));
    }
    const pause = `/api/runs/${runId}/pause`;
    expect(await refusal(pause, [])).toEqual(invalid("expected a JSON object {reason?}"));
    expect(await refusal(pause, { reason: "r".repeat(501) })).toEqual(
      invalid("reason must be a string of at most 500 characters"),
    );
  });

  it("delivering an event to a run: an object, and an id of 1 to 200 characters, as event.invalid", async () => {
    const path = `/api/runs/${runId}/events/order.paid`;
    const event = (message: string) => ({ status: 400, code: "event.invalid", message });
    expect(await refusal(path, "paid")).toEqual(event("expected a JSON object {payload?, id?}"));
    expect(await refusal(path, { id: "" })).toEqual(event("id must be a non-empty string of at most 200 characters"));
  });
});
