import { z } from "zod";
import { renderTemplate } from "../expr/template";
import { defineNode } from "./types";

const config = z.strictObject({
  message: z.string().min(1),
  level: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

export const logNode = defineNode({
  type: "log",
  kind: "pure",
  redactsSensitive: true,
  config,
  defaultTimeoutMs: 5_000,
  defaultMaxAttempts: 1,
  expressions: (c) => [{ path: ["message"], source: c.message, template: true }],
  writes: () => [],
  async execute(c, node) {
    node.ports.log({ level: c.level, message: await renderTemplate(c.message, node.context) });
    return { type: "success", output: {} };
  },
});
