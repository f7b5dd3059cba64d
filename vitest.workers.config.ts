import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => ({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          API_TOKEN: "test-token",
          // Webhook secrets for the signature tests: the providers' published example secrets.
          STANDARD_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
          GITHUB_WEBHOOK_SECRET: "It's a Secret to Everybody",
          STRIPE_WEBHOOK_SECRET: "whsec_test_stripe_endpoint_secret",
          SLACK_SIGNING_SECRET: "8f742231b10e8888abcd99yyyzzz85a5",
          HMAC_WEBHOOK_SECRET: "generic-hmac-secret",
          PUBLIC_URL: "http://signalbox.test",
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
}));
