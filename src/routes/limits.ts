import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../env";
import { fail } from "../errors";
import { readLimit, readLimits } from "../limits/view";
import { allow } from "./auth";
import { answer, errors, pathParam, spec } from "./openapi-spec";

/**
 * `GET /api/limits`: the provider limits and circuit breakers this Worker is configured with
 * (LLM_PROVIDERS' `limits`, the LIMITS var) and the state of each: circuit status, calls in its
 * window, when an open one lets its probe through, calls waiting for their turn, counts.
 */
export const limitRoutes = new Hono<{ Bindings: Env }>();

const circuitConfig = z.object({
  failureRate: z.number(),
  minimumCalls: z.number().int(),
  windowMs: z.number().int(),
  coolDownMs: z.number().int(),
});

const limitView = z.object({
  name: z.string(),
  kind: z.enum(["llm", "http", "named"]),
  config: z.object({
    requestsPerMinute: z.number().optional(),
    tokensPerMinute: z.number().int().optional(),
    circuit: circuitConfig.optional(),
  }),
  circuit: z
    .object({
      status: z.enum(["closed", "open", "half-open"]),
      openedAt: z.number().int().nullable(),
      reopensAt: z.number().int().nullable(),
      probe: z.object({ key: z.string(), until: z.number().int() }).nullable(),
      window: z.object({ successes: z.number().int(), failures: z.number().int() }),
      opens: z.number().int(),
      lastFailure: z.object({ at: z.number().int(), code: z.string().nullable() }).nullable(),
    })
    .nullable(),
  pausedUntil: z.number().int().nullable(),
  waiting: z.number().int(),
  counts: z.object({
    calls: z.number().int(),
    deferred: z.object({ rate: z.number().int(), "retry-after": z.number().int(), circuit: z.number().int() }),
    succeeded: z.number().int(),
    failed: z.number().int(),
    rateLimited: z.number().int(),
  }),
  used: z.boolean(),
});

const limitList = z.object({ limits: z.array(limitView), problem: z.string().nullable() });

limitRoutes.get(
  "/",
  spec({
    summary: "Provider limits and circuit breakers, with each one's state (circuit status, waiting calls, counts)",
    responses: { "200": answer("{limits, problem}", limitList), ...errors(401, 403) },
  }),
  allow("runs.read"),
  async (c) => c.json(await readLimits(c.env)),
);

limitRoutes.get(
  "/:name",
  spec({
    summary: "One limit and its state: `llm:<provider>`, `http:<host>` or a name from LIMITS",
    parameters: [pathParam("name", "the limit's name, e.g. llm:openai, http:api.example.com or pager")],
    responses: { "200": answer("the limit", limitView), ...errors(401, 403, 404) },
  }),
  allow("runs.read"),
  async (c) => {
    const name = c.req.param("name");
    const view = await readLimit(c.env, name);
    if (!view) fail("limit.not_found", `no limit named ${JSON.stringify(name)} is configured`, { details: { name } });
    return c.json(view);
  },
);
