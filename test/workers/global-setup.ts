import type { TestProject } from "vitest/node";
import { startTestServer } from "../support/test-server";

declare module "vitest" {
  export interface ProvidedContext {
    testServerUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const server = await startTestServer();
  project.provide("testServerUrl", server.url);
  return () => server.close();
}
