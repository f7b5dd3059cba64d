import { z } from "zod";
import { runStatuses } from "../engine/state";
import { bulkActions, maxRunIds } from "./bulk";

/** The bodies and answers of /api/runs, for the OpenAPI document and the routes that check them. */

const versionMessage = 'version must be "latest" or a version number';
const versionChoice = z.union(
  [
    z.literal("latest", { error: versionMessage }),
    z.number({ error: versionMessage }).int({ error: versionMessage }).min(1, { error: versionMessage }),
  ],
  { error: versionMessage },
);

export const retryBody = z.object(
  {
    version: versionChoice
      .nullish()
      .describe("the definition version to retry on: the run's own when absent, or latest, or a number"),
  },
  { error: 'expected a JSON object {version?: "latest" | number}' },
);

export const replayBody = z.object(
  {
    fromNode: z.string({ error: "expected a JSON object {fromNode, context?}" }).min(1, {
      error: "expected a JSON object {fromNode, context?}",
    }),
    context: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("top-level context keys to replace before the node runs again"),
  },
  { error: "expected a JSON object {fromNode, context?}" },
);

const pauseReason = "reason must be a string of at most 500 characters";

export const pauseBody = z.object(
  { reason: z.string({ error: pauseReason }).max(500, { error: pauseReason }).optional() },
  { error: "expected a JSON object {reason?}" },
);

export const compensateBody = z.object(
  {
    dryRun: z.boolean().optional().describe("list the steps that would be undone, and do nothing"),
    reason: z.string().max(500).optional(),
  },
  { error: "expected a JSON object {dryRun?, reason?}" },
);

export const compensated = z.object({
  runId: z.string(),
  status: z.string(),
  layers: z.array(z.array(z.string())),
  dryRun: z.boolean(),
});

/** Described here, checked field by field in bulk.ts (each field has its own message). */
export const bulkBody = z.object({
  action: z.enum(bulkActions),
  dryRun: z.boolean().optional(),
  limit: z.number().int().min(1).max(500).optional(),
  version: versionChoice.optional(),
  filter: z.object({
    runIds: z
      .array(z.string().regex(/^run_[0-9a-z]{26}/))
      .min(1)
      .max(maxRunIds)
      .optional()
      .describe("only these runs; with other fields, a run must match them too"),
    workflow: z.string().optional(),
    version: z.number().int().optional(),
    status: z.string().optional(),
    failedNode: z.string().optional(),
    errorCode: z.string().optional(),
    from: z.union([z.string(), z.number()]).optional(),
    to: z.union([z.string(), z.number()]).optional(),
  }),
});

export const runSummary = z.object({
  runId: z.string(),
  workflowId: z.string(),
  version: z.number().int(),
  status: z.enum(runStatuses),
  trigger: z.string(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  startedAt: z.number().int().nullable(),
  endedAt: z.number().int().nullable(),
  error: z.object({ code: z.string().optional(), message: z.string().optional() }).nullable(),
  parentRunId: z.string().nullable(),
});

export const runList = z.object({ runs: z.array(runSummary), nextCursor: z.string().nullable() });

export const runAction = z.object({ runId: z.string(), status: z.string() }).catchall(z.unknown());

export const retried = z.object({
  runId: z.string(),
  status: z.string(),
  version: z.number().int(),
  fromVersion: z.number().int(),
  restarted: z.array(z.string()),
});

export const replayed = z.object({
  runId: z.string(),
  replayOf: z.string(),
  fromNode: z.string(),
  status: z.string(),
  taken: z.array(z.string()),
});

export const deadLetterPage = z.object({
  count: z.number().int(),
  deadLetters: z.array(
    z.object({
      runId: z.string(),
      workflowId: z.string(),
      version: z.number().int(),
      failedAt: z.number().int(),
      error: z
        .object({ code: z.string().optional(), message: z.string().optional(), nodeId: z.string().optional() })
        .nullable(),
      nodes: z.array(
        z.object({ nodeId: z.string(), type: z.string(), attempts: z.number().int(), error: z.unknown() }),
      ),
    }),
  ),
  nextCursor: z.string().nullable(),
});

export const outboxPage = z.object({
  messages: z.array(
    z.object({
      id: z.string(),
      runId: z.string(),
      nodeId: z.string(),
      purpose: z.string(),
      from: z.string(),
      to: z.string(),
      subject: z.string(),
      links: z.array(z.string()),
      text: z.string().nullable(),
      html: z.string().nullable(),
      adapter: z.string(),
      status: z.string(),
      attempts: z.number().int(),
      error: z.string().nullable(),
      createdAt: z.number().int(),
      sentAt: z.number().int().nullable(),
    }),
  ),
});

export const published = z.object({
  eventId: z.string(),
  name: z.string(),
  runs: z.array(
    z.object({
      workflowId: z.string(),
      status: z.string(),
      runId: z.string().optional(),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    }),
  ),
});
