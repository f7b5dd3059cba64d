import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probePort, projectRoot } from "../../scripts/lib/wrangler.mjs";
import { approvalLink, waitForStatus } from "./approvals";
import { type CliResult, parseJson, runCli } from "./cli-process";
import { getReport, type Harness, startHarness, step, uniqueId, waitFor, waitForRunEnd } from "./harness";

let harness: Harness;
let dir: string;
let env: Record<string, string>;
const ids = {
  callee: uniqueId("cli-callee"),
  caller: uniqueId("cli-caller"),
  boom: uniqueId("cli-boom"),
  ask: uniqueId("cli-ask"),
  ping: uniqueId("cli-ping"),
};

/** The command as a user runs it against the harness's server, with the key in the environment. */
function signalbox(...args: string[]): Promise<CliResult> {
  return runCli(args, { env, cwd: dir });
}

/** A problem a person can fix: one line on stderr, no stack trace. */
function expectOneLine(result: CliResult, pattern: RegExp): void {
  const lines = result.stderr.trim().split("\n");
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

const definitions = {
  // Named so that file order (a-, b-) puts the caller first: push must reorder them.
  "a-caller.json": {
    $schema: "../schema/workflow.json",
    id: ids.caller,
    name: "Caller",
    nodes: [{ id: "call", type: "subworkflow", config: { workflow: ids.callee, input: "input", output: "answer" } }],
  },
  "b-callee.json": {
    id: ids.callee,
    name: "Callee",
    nodes: [{ id: "greet", type: "transform", config: { set: { greeting: "'Hello, ' & input.name" } } }],
    output: "greeting",
  },
  "c-boom.json": {
    id: ids.boom,
    name: "Boom",
    nodes: [
      { id: "first", type: "transform", config: { set: { a: "1" } } },
      { id: "explode", type: "transform", config: { set: { b: "$error('boom')" } } },
    ],
    edges: [{ from: "first", to: "explode" }],
  },
  "d-ask.json": {
    id: ids.ask,
    name: "Ask",
    nodes: [
      {
        id: "confirm",
        type: "human",
        config: {
          to: "'ops@example.com'",
          subject: "Go?",
          body: "Go ahead?",
          decisions: ["approve", "reject"],
          expiresIn: "1h",
          output: "answer",
        },
      },
      { id: "done", type: "log", config: { message: "{{ answer.decision }}" } },
    ],
    edges: [{ from: "confirm", to: "done" }],
    tests: [
      {
        name: "approved",
        mocks: { confirm: { review: { decision: "approve" } } },
        expect: { status: "success", context: { answer: { decision: "approve" } } },
      },
      {
        name: "rejected, expected wrongly",
        mocks: { confirm: { review: { decision: "reject" } } },
        expect: { context: { answer: { decision: "approve" } } },
      },
    ],
  },
  "e-ping.json": {
    id: ids.ping,
    name: "Ping",
    triggers: [{ type: "event", name: "cli.ping" }],
    nodes: [{ id: "note", type: "log", config: { message: "{{ input.n }}" } }],
  },
};

beforeAll(async () => {
  harness = await startHarness();
  dir = await mkdtemp(join(tmpdir(), "signalbox-cli-"));
  env = { SIGNALBOX_URL: harness.baseUrl, SIGNALBOX_TOKEN: harness.token, XDG_CONFIG_HOME: join(dir, "config") };
  for (const [file, definition] of Object.entries(definitions)) {
    await writeFile(join(dir, file), JSON.stringify(definition, null, 2));
  }
});

afterAll(async () => {
  await harness?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Pushed {
  ok: boolean;
  issues: { file: string; path: string; code: string }[];
  results: { file: string; workflowId: string; status: string; version?: number }[];
}

describe("signalbox validate and push", () => {
  it("validate names the broken file and the path in it, and exits 1", async () => {
    await writeFile(
      join(dir, "broken.json"),
      JSON.stringify({ id: "x", name: "x", nodes: [{ id: "a", type: "log", config: { message: 7 } }] }),
    );
    const result = await signalbox("validate", "broken.json", "b-callee.json");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("broken.json");
    expect(result.stderr).toContain("nodes.0.config.message");
    expect(result.stderr).toContain("definition.config_invalid");
    expect(result.stdout).toBe("");
    await rm(join(dir, "broken.json"));
  });

  it("push registers callees first, and a second push finds everything unchanged", async () => {
    const files = Object.keys(definitions);
    const first = await signalbox("push", "--json", ...files);
    const pushed = parseJson<Pushed>(first);
    expect(first.code, first.stderr).toBe(0);
    expect(pushed.results.map((result) => [result.file, result.status, result.version])).toEqual([
      ["b-callee.json", "created", 1],
      ["a-caller.json", "created", 1],
      ["c-boom.json", "created", 1],
      ["d-ask.json", "created", 1],
      ["e-ping.json", "created", 1],
    ]);

    const second = await signalbox("push", ...files);
    expect(second.code, second.stderr).toBe(0);
    const lines = second.stdout.trim().split("\n").slice(1);
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line).toMatch(/unchanged v1$/);
  });

  it("push --dry-run says what would change and registers nothing", async () => {
    const changed = { ...definitions["b-callee.json"], name: "Callee, renamed" };
    await writeFile(join(dir, "b-callee.json"), JSON.stringify(changed));
    try {
      const result = await signalbox("push", "--dry-run", "--json", "a-caller.json", "b-callee.json");
      expect(result.code, result.stderr).toBe(0);
      expect(parseJson<Pushed>(result).results).toMatchObject([
        { workflowId: ids.callee, status: "updated", version: 1 },
        { workflowId: ids.caller, status: "unchanged", version: 1 },
      ]);
      const stored = (await (await harness.api(`/api/workflows/${ids.callee}`)).json()) as { version: number };
      expect(stored.version).toBe(1);
    } finally {
      await writeFile(join(dir, "b-callee.json"), JSON.stringify(definitions["b-callee.json"]));
    }
  });

  it("push refuses the whole folder when one file calls a workflow that does not exist", async () => {
    const sub = join(dir, "refused");
    const fresh = uniqueId("cli-fresh");
    await mkdir(sub);
    await writeFile(
      join(sub, "fresh.json"),
      JSON.stringify({ id: fresh, name: "Fresh", nodes: [{ id: "a", type: "log", config: { message: "hi" } }] }),
    );
    await writeFile(
      join(sub, "lost.json"),
      JSON.stringify({
        id: uniqueId("cli-lost"),
        name: "Lost",
        nodes: [{ id: "c", type: "subworkflow", config: { workflow: "nowhere-to-be-found", output: "r" } }],
      }),
    );
    const result = await runCli(["push", "refused"], { env, cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("refused/lost.json");
    expect(result.stderr).toContain("definition.workflow_not_found");
    expect(result.stderr).toContain("nothing was registered");
    expect((await harness.api(`/api/workflows/${fresh}`)).status).toBe(404);
  });
});

describe("signalbox run, runs and approvals", () => {
  it("run --wait follows a run to success and exits 0", async () => {
    const result = await signalbox("run", ids.caller, "--input", '{"name": "Ada"}', "--wait");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("call (subworkflow) success");
    expect(result.stdout).toMatch(/run run_\S+ success in /);
  });

  it("run --wait exits 1 when the run fails, naming the error", async () => {
    const result = await signalbox("run", ids.boom, "--wait");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("explode (transform) failed");
    expect(result.stdout).toContain("boom");
  });

  it("runs replay --from takes the steps before the node and runs the rest", async () => {
    const started = parseJson<{ runId: string }>(await signalbox("run", ids.boom, "--json"));
    await waitForStatus(harness, started.runId, "failed");
    const result = await signalbox(
      "runs",
      "replay",
      started.runId,
      "--from",
      "explode",
      "--context",
      '{"a": 2}',
      "--wait",
    );
    // The replay reruns the node that fails, so it fails again: what matters is what it took.
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/replay (run_\S+) of run_\S+ from explode/);
    expect(result.stdout).toContain(`first (transform) taken from ${started.runId}`);
    const replayId = /replay (run_\S+) of/.exec(result.stdout)?.[1] ?? "";
    const report = await getReport(harness, replayId);
    expect(report.replayOf).toEqual({ runId: started.runId, fromNode: "explode" });
    expect(step(report, "first").replayedFrom?.runId).toBe(started.runId);
    expect(report.context.a).toBe(2);

    const shown = await signalbox("runs", "show", replayId);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`replay of ${started.runId} from explode`);
    expect(shown.stdout).toMatch(/explode\s+transform\s+failed/);
  });

  it("approvals ls lists a step waiting for a person, and approvals decide approves it", async () => {
    const started = parseJson<{ runId: string }>(await signalbox("run", ids.ask, "--json"));
    await waitForStatus(harness, started.runId, "needs_review");
    await approvalLink(harness, started.runId, "ops@example.com");
    // approvals ls starts from the run list, which D1 serves up to a second behind the run.
    await waitFor(
      "the run listed as needing review",
      async () => {
        const response = await harness.api(`/api/runs?status=needs_review&workflow=${ids.ask}`);
        const { runs } = (await response.json()) as { runs: { runId: string }[] };
        return runs.some((run) => run.runId === started.runId) ? true : undefined;
      },
      { harness },
    );

    const listed = parseJson<{ approvals: { runId: string; nodeId: string; approvers: string[] }[] }>(
      await signalbox("approvals", "ls", "--json", "--workflow", ids.ask),
    );
    expect(listed.approvals).toContainEqual(
      expect.objectContaining({ runId: started.runId, nodeId: "confirm", approvers: ["ops@example.com"] }),
    );

    const decided = await signalbox("approvals", "decide", started.runId, "confirm", "approve", "--comment", "go");
    expect(decided.code, decided.stderr).toBe(0);
    expect(decided.stdout).toContain("approve on confirm");
    // Decided through the API with the key: recorded for the approver, by the key's holder.
    expect(decided.stdout).toContain("recorded for ops@example.com by API_TOKEN");
    const followed = await signalbox("runs", "tail", started.runId);
    expect(followed.code).toBe(0);
    const report = await getReport(harness, started.runId);
    expect(report.context.answer).toMatchObject({ decision: "approve", by: "ops@example.com", comment: "go" });

    const again = await signalbox("approvals", "decide", started.runId, "confirm", "reject");
    expect(again.code).toBe(1);
    expectOneLine(again, /approval\./);
  });
});

describe("signalbox test, runs pause|resume|cancel, events and dead letters", () => {
  it("test runs a file's test cases without registering it, and exits 1 when one fails", async () => {
    const all = await signalbox("test", "d-ask.json");
    expect(all.code).toBe(1);
    expect(all.stdout).toContain("passed  approved");
    expect(all.stdout).toContain("FAILED  rejected, expected wrongly");
    expect(all.stdout).toMatch(/context\.answer: .*\(expected \{"decision":"approve"\}, got \{"decision":"reject"/);
    expect(all.stdout).toContain("1 passed, 1 failed");

    const one = await signalbox("test", ids.ask, "--only", "approved");
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain("1 passed, 0 failed");
  });

  it("pauses, resumes and cancels a run", async () => {
    const started = parseJson<{ runId: string }>(await signalbox("run", ids.ask, "--json"));
    await waitForStatus(harness, started.runId, "needs_review");
    const paused = await signalbox("runs", "pause", started.runId, "--reason", "checking");
    expect(paused.stdout.trim()).toBe(`run ${started.runId} paused`);
    const resumed = await signalbox("runs", "resume", started.runId);
    expect(resumed.code, resumed.stderr).toBe(0);
    const cancelled = await signalbox("runs", "cancel", started.runId);
    expect(cancelled.stdout.trim()).toBe(`run ${started.runId} cancelled`);
    expect((await getReport(harness, started.runId)).status).toBe("cancelled");
    const tail = await signalbox("runs", "tail", started.runId);
    expect(tail.code).toBe(1);
    expect(tail.stdout).toContain(`run ${started.runId} cancelled`);
  });

  it("events publish starts the subscribed workflow's run", async () => {
    const published = await signalbox("events", "publish", "cli.ping", "--payload", '{"n": 1}', "--json");
    expect(published.code, published.stderr).toBe(0);
    const { runs } = parseJson<{ runs: { workflowId: string; status: string; runId: string }[] }>(published);
    expect(runs).toEqual([expect.objectContaining({ workflowId: ids.ping, status: "queued" })]);
    const [run] = runs;
    expect((await waitForRunEnd(harness, run?.runId ?? "")).input).toEqual({ n: 1 });
  });

  it("dead-letters ls lists a failed run, and requeue retries it", async () => {
    const started = parseJson<{ runId: string }>(await signalbox("run", ids.boom, "--json"));
    await waitForStatus(harness, started.runId, "failed");
    await waitFor(
      "the failed run among the dead letters",
      async () => {
        const listed = parseJson<{ deadLetters: { runId: string }[] }>(
          await signalbox("dead-letters", "ls", "--workflow", ids.boom, "--json"),
        );
        return listed.deadLetters.some((entry) => entry.runId === started.runId) ? true : undefined;
      },
      { harness },
    );
    const requeued = await signalbox("dead-letters", "requeue", started.runId, "--wait");
    expect(requeued.stdout).toContain(`run ${started.runId} requeued on v1: explode again`);
    // The step still throws, so the requeued run fails again.
    expect(requeued.code).toBe(1);
    expect((await getReport(harness, started.runId)).steps.find((entry) => entry.nodeId === "explode")?.attempts).toBe(
      2,
    );
  });
});

describe("bad input: one line that says what to do, a non-zero exit", () => {
  it("an unreachable server", async () => {
    const port = await probePort(0);
    const result = await runCli(["runs", "ls"], { env: { ...env, SIGNALBOX_URL: `http://127.0.0.1:${port}` } });
    expect(result.code).toBe(1);
    expectOneLine(result, /cannot reach Signalbox at http:\/\/127\.0\.0\.1:\d+ \(connection refused\): start it/);
  });

  it("a wrong key", async () => {
    const result = await runCli(["runs", "ls"], { env: { ...env, SIGNALBOX_TOKEN: "not-the-key" } });
    expect(result.code).toBe(1);
    expectOneLine(result, /auth\.invalid_token.*SIGNALBOX_TOKEN/);
  });

  it("an unknown run, and an unknown workflow", async () => {
    const run = await signalbox("runs", "show", "run_00000000000000000000000000");
    expect(run.code).toBe(1);
    expectOneLine(run, /run\.not_found.*signalbox runs ls/);
    const workflow = await signalbox("run", "no-such-workflow");
    expect(workflow.code).toBe(1);
    expectOneLine(workflow, /workflow\.not_found.*signalbox push/);
  });

  it("malformed JSON input is a usage error", async () => {
    const result = await signalbox("run", ids.caller, "--input", "{name: Ada}");
    expect(result.code).toBe(2);
    expectOneLine(result, /--input: .* is not JSON .*give JSON such as/);
  });

  it("an unknown command or option is a usage error", async () => {
    expect((await signalbox("runs", "frobnicate")).code).toBe(2);
    expect((await signalbox("run", ids.caller, "--nope")).code).toBe(2);
  });
});

describe("signalbox login", () => {
  it("checks the key, then stores it readable by the user only; a wrong key stores nothing", async () => {
    const loginEnv = { XDG_CONFIG_HOME: join(dir, "login-config") };
    const wrong = await runCli(["login", "--url", harness.baseUrl], { env: loginEnv, input: "wrong-key\n" });
    expect(wrong.code).toBe(1);
    expectOneLine(wrong, /auth\.invalid_token/);
    const path = join(dir, "login-config", "signalbox", "config.json");
    await expect(stat(path)).rejects.toThrow();

    const login = await runCli(["login", "--url", harness.baseUrl], { env: loginEnv, input: `${harness.token}\n` });
    expect(login.code, login.stderr).toBe(0);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ url: harness.baseUrl, token: harness.token });

    // No SIGNALBOX_* variables: the stored login is what reaches the server.
    const listed = await runCli(["runs", "ls", "--json", "--limit", "1"], { env: loginEnv });
    expect(listed.code, listed.stderr).toBe(0);
    expect(parseJson<{ runs: unknown[] }>(listed).runs).toHaveLength(1);
  });

  it("takes an API key: a trigger key logs in and starts its workflow's runs, and reading runs names the missing permission", async () => {
    const made = await harness.api("/api/keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "cli trigger", role: "trigger", workflows: [ids.callee] }),
    });
    expect(made.status).toBe(201);
    const { key } = (await made.json()) as { key: string };
    const keyEnv = { XDG_CONFIG_HOME: join(dir, "key-config") };
    const login = await runCli(["login", "--url", harness.baseUrl], { env: keyEnv, input: `${key}\n` });
    expect(login.code, login.stderr).toBe(0);
    const started = await runCli(["run", ids.callee, "--input", '{"name": "Key"}', "--json"], { env: keyEnv });
    expect(started.code, started.stderr).toBe(0);
    const listed = await runCli(["runs", "ls"], { env: keyEnv });
    expect(listed.code).toBe(1);
    expectOneLine(listed, /runs\.read.*auth\.forbidden/);
  });
});

describe("GET /api/schema/workflow.json", () => {
  it("serves the checked-in schema without a key", async () => {
    const response = await fetch(`${harness.baseUrl}/api/schema/workflow.json`);
    expect(response.status).toBe(200);
    const checkedIn = JSON.parse(await readFile(join(projectRoot, "schema", "workflow.json"), "utf8"));
    expect(await response.json()).toEqual(checkedIn);
  });
});
