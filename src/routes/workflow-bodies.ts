import { z } from "zod";

/** The bodies and answers of /api/workflows, for the OpenAPI document and the checks that read them. */

/** The definition itself; its full JSON Schema is served at GET /api/schema/workflow.json. */
export const definitionBody = {
  type: "object",
  required: ["id", "nodes"],
  additionalProperties: true,
  description: "a workflow definition: its JSON Schema is GET /api/schema/workflow.json (docs/definitions.md)",
};

export const registered = z.object({
  workflowId: z.string(),
  version: z.number().int(),
  hash: z.string(),
  createdAt: z.number().int(),
  unchanged: z.literal(true).optional().describe("set when the latest version already was this definition"),
  schedule: z.object({ nextAt: z.number().int() }).optional(),
});

export const workflowList = z.object({
  workflows: z.array(
    z.object({
      workflowId: z.string(),
      name: z.string(),
      latestVersion: z.number().int(),
      enabled: z.boolean(),
      createdAt: z.number().int(),
      updatedAt: z.number().int(),
    }),
  ),
});

export const storedWorkflow = z.object({
  workflowId: z.string(),
  version: z.number().int(),
  hash: z.string(),
  createdAt: z.number().int(),
  definition: z.record(z.string(), z.unknown()).describe("the definition as registered"),
  enabled: z.boolean(),
  versions: z.array(z.object({ version: z.number().int(), hash: z.string(), createdAt: z.number().int() })),
});

const idempotencyKey = "idempotencyKey must be a non-empty string of at most 200 characters";

export const startRunBody = z.object(
  {
    input: z.unknown().optional().describe("the run's input; absent: {}"),
    idempotencyKey: z
      .string({ error: idempotencyKey })
      .min(1, { error: idempotencyKey })
      .max(200, { error: idempotencyKey })
      .optional(),
  },
  { error: "expected a JSON object {input, idempotencyKey?}" },
);

export const runStarted = z.object({
  /** Absent for rate_limited; for skipped, the active run of the singleton's key; for debounced, the run the key's window starts. */
  runId: z.string().optional(),
  status: z.enum(["queued", "duplicate", "rate_limited", "skipped", "debounced"]),
  version: z.number().int().optional(),
  /** debounced only: when the window's run starts if no other trigger of its key comes first (ms since epoch). */
  startsAt: z.number().int().optional(),
});

/** What a trigger that started no new run is answered with (200). */
export const noNewRun = "duplicate, rate_limited (flow.rateLimit) or skipped (flow.singleton): no new run";
