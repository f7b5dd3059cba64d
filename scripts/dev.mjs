// `npm run dev`: a local Signalbox with its database migrated and the example workflows loaded.
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { join } from "node:path";
import { tsImport } from "tsx/esm/api";
import { ensureApiToken, ensureDataKeys, readDevVars } from "./lib/dev-vars.mjs";
import { applyMigrations, probePort, projectRoot, waitForHealth, wranglerBin, wranglerEnv } from "./lib/wrangler.mjs";

const port = Number(process.env.PORT ?? 8787);
const baseUrl = `http://127.0.0.1:${port}`;
// Another state directory than .wrangler/state, e.g. for a second server beside the first.
const persistTo = process.env.PERSIST_TO || undefined;
const say = (line = "") => console.log(`[signalbox] ${line}`);

const { token, created } = ensureApiToken(join(projectRoot, ".dev.vars"));
say(created ? `wrote a new API token to .dev.vars: ${token}` : "API token read from .dev.vars");
if (ensureDataKeys(join(projectRoot, ".dev.vars")).created) say("wrote a new DATA_KEYS (sensitive data) to .dev.vars");

if ((await probePort(port)) === undefined) {
  say(`port ${port} is taken (another dev server?); choose another with PORT=...`);
  process.exit(1);
}

try {
  applyMigrations({ persistTo });
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

// Approval links in emails, and run.publicUrl in every run's context, point here; the emails
// themselves are listed at /api/outbox.
const args = ["dev", "--port", String(port), "--ip", "127.0.0.1", "--var", `PUBLIC_URL:${baseUrl}`];
if (persistTo) args.push("--persist-to", persistTo);
// wrangler, its esbuild and workerd get a process group of their own, out of the terminal's
// reach: Ctrl-C comes to this script alone, which stops them all at once and waits for them.
// Otherwise each takes the signal on its own, and an esbuild whose wrangler went away in the
// middle of a request dies with a Go stack trace. Outside the terminal's foreground group
// wrangler cannot read keys, so its key shortcuts are off.
const wrangler = spawn(wranglerBin, [...args, "--show-interactive-dev-session=false", ...llmVars], {
  cwd: projectRoot,
  env: wranglerEnv(),
  stdio: ["ignore", "inherit", "inherit"],
  detached: true,
});
let exitedWith;
/** Set once a stop is asked for: the exit code this script ends with when wrangler is gone. */
let stopCode;
wrangler.on("exit", (code, signal) => {
  exitedWith = signal ?? code;
  // workerd or esbuild may outlive wrangler by a moment: nothing of the group stays behind.
  signalGroup("SIGKILL");
  if (stopCode === 0) say("stopped");
  process.exit(stopCode ?? code ?? 128 + (constants.signals[signal] ?? 0));
});
// npm passes the terminal's Ctrl-C on as well, so the same signal may come twice: one stop.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => stop(0));
// Should this script die of an error, the server must not run on without it.
process.on("exit", () => signalGroup("SIGKILL"));

function stop(code) {
  if (stopCode !== undefined) return;
  stopCode = code;
  if (code === 0) say("stopping wrangler dev");
  signalGroup("SIGTERM");
  setTimeout(() => signalGroup("SIGKILL"), 10_000).unref();
}

function signalGroup(signal) {
  if (exitedWith !== undefined && signal !== "SIGKILL") return;
  try {
    process.kill(-wrangler.pid, signal);
  } catch {}
}

if (await ready()) await loadExamples();

/**
 * Registers workflows/ the way `signalbox push` does (cli/push.ts: every file checked first,
 * callees first) and prints how to call each of them.
 */
async function loadExamples() {
  const { pushTo } = await tsImport("../cli/push.ts", import.meta.url);
  try {
    const outcome = await pushTo({ url: baseUrl, token }, ["workflows"], { cwd: projectRoot });
    // Stopped while registering: the failures are the server going away, not worth a listing.
    if (stopCode !== undefined) return;
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
    if (stopCode === undefined) say(`registering workflows/ failed: ${error.message}`);
  }
}

async function ready() {
  try {
    await waitForHealth(baseUrl, { exited: () => exitedWith });
    return true;
  } catch (error) {
    say(error.message);
    stop(1);
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
      } else if (trigger.type === "email") {
        // A raw message is no one-liner (the README and docs/workflows-by-example.md build one), so only the endpoint.
        const to = trigger.address.replace(/^\*@/, "mail@");
        const from = (trigger.allowFrom?.[0] ?? "sender@example.com").replace(/^\*@/, "sender@");
        say(`email    ${trigger.address} -> ${definition.id}`);
        say(`  curl -s -X POST '${baseUrl}/cdn-cgi/local/email?from=${from}&to=${to}' --data-binary @message.eml`);
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
