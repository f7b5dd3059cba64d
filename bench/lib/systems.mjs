// The two systems under test behind one interface: register a shape, trigger a run, read what
// the run recorded about itself.
import { signalboxDefinition } from "./shapes.mjs";

async function expectJson(response, statuses, what) {
  const text = await response.text();
  if (!statuses.includes(response.status)) throw new Error(`${what}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

export function signalbox(server, pingBase) {
  const headers = { authorization: `Bearer ${server.token}`, "content-type": "application/json" };
  return {
    name: "signalbox",
    hookPath: (id) => `/hooks/${id}`,
    async register(id, shape) {
      const response = await fetch(`${server.url}/api/workflows`, {
        method: "POST",
        headers,
        body: JSON.stringify(signalboxDefinition(id, shape, pingBase)),
      });
      // 200: already the latest version.
      await expectJson(response, [201, 200], `register ${id}`);
    },
    async trigger(id, input = {}) {
      const sentAt = performance.now();
      const response = await fetch(`${server.url}/api/workflows/${id}/runs`, {
        method: "POST",
        headers,
        body: JSON.stringify({ input }),
      });
      const { runId } = await expectJson(response, [202], `trigger ${id}`);
      return { runId, sentAt };
    },
    async report(runId) {
      return expectJson(await fetch(`${server.url}/api/runs/${runId}`, { headers }), [200], `report ${runId}`);
    },
    /** Ended, and when each step started by the run's own clock (ms). */
    async inside(runId) {
      const report = await this.report(runId);
      const started = Object.fromEntries(report.steps.map((step) => [step.nodeId, step.startedAt]));
      return { done: ["success", "failed", "cancelled"].includes(report.status), status: report.status, started };
    },
  };
}

export function baseline(server, pingBase) {
  const base = `${server.url}/baseline`;
  const json = { "content-type": "application/json" };
  const shapes = new Map();
  return {
    name: "baseline",
    hookPath: (id) => `/baseline/hooks/${id}`,
    async register(id, shape) {
      shapes.set(id, shape);
      const response = await fetch(`${base}/workflows`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ id, shape, ping: pingBase }),
      });
      await expectJson(response, [201], `register ${id}`);
    },
    /** Definitions live in the baseline worker's memory: a restart needs them again. */
    async reregister() {
      for (const [id, shape] of shapes) await this.register(id, shape);
    },
    async trigger(id, input = {}) {
      const sentAt = performance.now();
      const response = await fetch(`${base}/workflows/${id}/runs`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ input }),
      });
      const { runId } = await expectJson(response, [202], `trigger ${id}`);
      return { runId, sentAt };
    },
    async inside(runId) {
      const status = await expectJson(await fetch(`${base}/runs/${runId}`), [200], `status ${runId}`);
      const done = ["complete", "errored", "terminated"].includes(status.status);
      return { done, status: status.status, started: status.output?.times ?? {} };
    },
  };
}

/**
 * The webhook floor (bench/baseline/worker.js `floorHook`): a request commits one row in a
 * bare Durable Object and pings "done". `fresh`: a new object per request; `shared`: 16 objects.
 */
export function hookFloor(mode, pingBase) {
  return {
    name: `floor-${mode}`,
    hookPath: () => `/baseline/floor-hook/${mode}?ping=${encodeURIComponent(pingBase)}`,
  };
}
