// `npm run dev`: a local Signalbox with its database migrated and the example workflows loaded.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { join } from "node:path";
import { tsImport } from "tsx/esm/api";
import { ensureApiToken, readDevVars } from "./lib/dev-vars.mjs";
import { applyMigrations, probePort, projectRoot, waitForHealth, wranglerBin, wranglerEnv } from "./lib/wrangler.mjs";

const port = Number(process.env.PORT ?? 8787);
const baseUrl = `http://127.0.0.1:${port}`;
const say = (line = "") => console.log(`[signalbox] ${line}`);

const { token, created } = ensureApiToken(join(projectRoot, ".dev.vars"));
say(created ? `wrote a new API token to .dev.vars: ${token}` : "API token read from .dev.vars");

if ((await probePort(port)) === undefined) {
  say(`port ${port} is taken (another dev server?); choose another with PORT=...`);
  process.exit(1);
}

try {
  applyMigrations();
} catch (error) {
  say(error.message);
  process.exit(1);
}

// LLM steps: the provider settings may come from the shell (`LLM_BASE_URL=... npm run dev`);
// keys stay in .dev.vars, out of the process list.
const llmSettings = ["LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY_SECRET", "LLM_PROVIDERS", "LLM_PRICES"];
const llmVars = llmSettings
  .filter((name) => process.env[name])
  .flatMap((name) => ["--var", `${name}:${process.env[name]}`]);

// Approval links in emails point here; the emails themselves are listed at /api/outbox.
const wrangler = spawn(
  wranglerBin,
  ["dev", "--port", String(port), "--ip", "127.0.0.1", "--var", `PUBLIC_URL:${baseUrl}`, ...llmVars],
  {
    cwd: projectRoot,
    env: wranglerEnv(),
    stdio: "inherit",
  },
);
let exitedWith;
wrangler.on("exit", (code, signal) => {
  exitedWith = signal ?? code;
  process.exit(code ?? 128 + (constants.signals[signal] ?? 0));
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));

if (await ready()) {
  // The same registration as `signalbox push` (cli/push.ts): all files checked first, callees first.
  const { pushTo } = await tsImport("../cli/push.ts", import.meta.url);
  try {
    const outcome = await pushTo({ url: baseUrl, token }, ["workflows"], { cwd: projectRoot });
    for (const issue of outcome.issues) say(`  ${issue.file} ${issue.path}: ${issue.code} ${issue.message}`);
    if (outcome.issues.length > 0) say("  nothing was registered: fix the files above, then `npx signalbox push`");
    for (const result of outcome.results) {
      const version = result.version === undefined ? "" : ` v${result.version}`;
      say(`  ${result.file}: ${result.status}${version}${result.error ? ` (${result.error})` : ""}`);
    }
    const registered = new Set(
      outcome.results
        .filter((result) => ["created", "updated", "unchanged"].includes(result.status))
        .map((result) => result.file),
    );
    printUsage(outcome.files.filter((entry) => registered.has(entry.file)));
  } catch (error) {
    say(`registering workflows/ failed: ${error.message}`);
  }
}

async function ready() {
  try {
    await waitForHealth(baseUrl, { exited: () => exitedWith });
    return true;
  } catch (error) {
    say(error.message);
    wrangler.kill("SIGTERM");
    return false;
  }
}

/** URLs and ready-to-paste curls; a trigger schema's first `examples` entry is the sample input. */
function printUsage(entries) {
  const auth = `-H 'authorization: Bearer ${token}'`;
  const json = (value) => `'${JSON.stringify(value).replaceAll("'", "'\\''")}'`;
  say();
  say(`API      ${baseUrl}/api   (every /api call needs: authorization: Bearer ${token})`);
  say(`list     curl -s ${auth} ${baseUrl}/api/workflows`);
  for (const { definition } of entries) {
    for (const trigger of definition.triggers ?? [{ type: "manual" }]) {
      const sample = trigger.schema?.examples?.[0] ?? {};
      if (trigger.type === "webhook") {
        say(`webhook  ${baseUrl}/hooks/${definition.id}`);
        say(
          `  curl -s -X POST -H 'content-type: application/json' -d ${json(sample)} ${baseUrl}/hooks/${definition.id}`,
        );
      } else if (trigger.type === "manual") {
        say(`manual   ${definition.id}`);
        say(
          `  curl -s -X POST ${auth} -H 'content-type: application/json' -d ${json({ input: sample })} ${baseUrl}/api/workflows/${definition.id}/runs`,
        );
      } else if (trigger.type === "schedule") {
        say(`schedule ${definition.id}: ${trigger.cron}${trigger.timezone ? ` (${trigger.timezone})` : " (UTC)"}`);
        say(`  curl -s ${auth} ${baseUrl}/api/workflows/${definition.id}/schedule`);
      } else if (trigger.type === "event") {
        say(`event    ${trigger.name} -> ${definition.id}`);
        say(
          `  curl -s -X POST ${auth} -H 'content-type: application/json' -d ${json({ name: trigger.name, payload: sample })} ${baseUrl}/api/events`,
        );
      } else if (trigger.type === "r2") {
        say(`upload   ${trigger.prefix ?? ""}*${trigger.suffix ?? ""} -> ${definition.id}`);
        say(
          `  curl -s -X PUT ${auth} -H 'content-type: text/plain' --data-binary 'hello' ${baseUrl}/api/files/${trigger.prefix ?? ""}hello${trigger.suffix ?? ".txt"}`,
        );
      }
    }
  }
  say(`report   curl -s ${auth} ${baseUrl}/api/runs/<runId>`);
  describeLlm();
  say(`outbox   curl -s ${auth} ${baseUrl}/api/outbox   (approval emails: open their links in a browser)`);
  say();
}

/** Which model provider llm steps will reach, or what to set so they reach one. */
function describeLlm() {
  const vars = { ...readDevVars(join(projectRoot, ".dev.vars")), ...process.env };
  const named = ["LLM_PROVIDERS", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"].filter((name) => vars[name]);
  if (vars.LLM_BASE_URL) {
    say(`LLM      default provider ${vars.LLM_BASE_URL}, model ${vars.LLM_MODEL ?? "(none: set LLM_MODEL)"}`);
  } else {
    say(
      "LLM      no provider set: runs that reach an llm step (support-ticket's analyze) fail with llm.not_configured.",
    );
    say("         Point it at any OpenAI-compatible server, e.g.:");
    say("         LLM_BASE_URL=http://127.0.0.1:11434/v1 LLM_MODEL=llama3.2 npm run dev   (keys go in .dev.vars)");
  }
  if (named.length > 0) say(`         also configured: ${named.join(", ")}`);
}
