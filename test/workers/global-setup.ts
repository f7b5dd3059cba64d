import type { TestProject } from "vitest/node";
import { startLlmServer } from "../support/llm-server";
import { startTestServer } from "../support/test-server";

declare module "vitest" {
  export interface ProvidedContext {
    testServerUrl: string;
    llmServerUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startTestServer();
  project.provide("testServerUrl", server.url);
  // On the port vitest.workers.config.ts chose, which the Worker's LLM_BASE_URL points at.
  const llm = await startLlmServer({ port: Number(process.env.SIGNALBOX_TEST_LLM_PORT) || 0 });
  project.provide("llmServerUrl", llm.url);
  return async () => {
    await server.close();
    await llm.close();
  };
}
