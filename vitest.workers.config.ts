import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { probePort } from "./scripts/lib/wrangler.mjs";

/**
 * The scripted LLM server (test/support/llm-server.ts) must be known before the Worker's
 * bindings are: its port is chosen here and global setup listens on it.
 */
async function llmServerPort(): Promise<number> {
  const chosen = Number(process.env.SIGNALBOX_TEST_LLM_PORT) || (await probePort(0));
  if (!chosen) throw new Error("no free port on 127.0.0.1 for the scripted LLM server");
  process.env.SIGNALBOX_TEST_LLM_PORT = String(chosen);
  return chosen;
}

/** The keys the LLM tests expect never to see again in a report, a log or an error. */
const testLlmKeys = {
  LLM_API_KEY: "sk-test-0penai-c0mpat-SECRET-7f3a9",
  TEST_ANTHROPIC_KEY: "sk-ant-test-SECRET-41c2e",
};

export default defineConfig(async () => {
  const llm = `http://127.0.0.1:${await llmServerPort()}`;
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: await readD1Migrations("./migrations"),
            API_TOKEN: "test-token",
            // Sensitive data: two keys, k2 current, so runs sealed with k1 still open (test/workers/sensitive*.test.ts).
            DATA_KEYS: JSON.stringify({
              current: "k2",
              keys: {
                k1: "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
                k2: "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
              },
            }),
            // Webhook secrets for the signature tests: the providers' published example secrets.
            STANDARD_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            GITHUB_WEBHOOK_SECRET: "It's a Secret to Everybody",
            STRIPE_WEBHOOK_SECRET: "whsec_test_stripe_endpoint_secret",
            SLACK_SIGNING_SECRET: "8f742231b10e8888abcd99yyyzzz85a5",
            HMAC_WEBHOOK_SECRET: "generic-hmac-secret",
            PUBLIC_URL: "http://signalbox.test",
            // LLM steps: the `default` provider and two named ones, all on the scripted server.
            LLM_BASE_URL: `${llm}/v1`,
            LLM_MODEL: "test-default-model",
            ...testLlmKeys,
            LLM_PROVIDERS: JSON.stringify({
              backup: { type: "openai-compatible", baseUrl: `${llm}/backup/v1` },
              claude: { type: "anthropic", baseUrl: `${llm}/anthropic/v1`, apiKey: "TEST_ANTHROPIC_KEY" },
              keyless: { type: "openai-compatible", baseUrl: `${llm}/v1`, apiKey: "MISSING_TEST_SECRET" },
              // Provider limits (test/workers/limits-*.test.ts): each test file's limit objects are its own.
              metered: { type: "openai-compatible", baseUrl: `${llm}/metered/v1`, limits: { requestsPerMinute: 2 } },
              throttled: {
                type: "openai-compatible",
                baseUrl: `${llm}/throttled/v1`,
                limits: { requestsPerMinute: 600, tokensPerMinute: 100_000 },
              },
              fragile: {
                type: "openai-compatible",
                baseUrl: `${llm}/fragile/v1`,
                limits: { circuit: { minimumCalls: 2, coolDown: "30s" } },
              },
            }),
            // Named limits for http nodes, and one for the scripted LLM server's host.
            LIMITS: JSON.stringify({
              flaky: { circuit: { failureRate: 0.5, minimumCalls: 2, window: "60s", coolDown: "30s" } },
              [`http:${new URL(llm).host}`]: { requestsPerMinute: 1 },
            }),
            LLM_PRICES: JSON.stringify({ "*": { input: 1, output: 2 } }),
          },
        },
      }),
    ],
    test: {
      name: "workers",
      include: ["test/workers/**/*.test.ts"],
      setupFiles: ["./test/workers/apply-migrations.ts"],
      globalSetup: ["./test/workers/global-setup.ts"],
    },
  };
});
