// Scenario shapes: one list of items per scenario, compiled to a Signalbox definition here and
// run item by item by the baseline's BenchWorkflow (bench/baseline/worker.js), so both sides
// do the same steps. Items: {ping: label} a step that POSTs {run} to the harness,
// {noop: n} n sequential no-op steps, {fanout: n} n parallel no-op steps joined by the next
// item, {sleep: ms} a durable sleep, {fanoutPing: n} n parallel pings (io steps: Signalbox sends
// them through its steps queue) joined by the next item, {doc: bytes} a step that fetches a JSON
// document of about that size from the harness into the context (Signalbox only).

export const shapes = {
  ttfs: [{ ping: "start" }, { noop: 1 }, { ping: "end" }],
  // Pings after steps 10, 20, 80 and 90 as well: the segments compared for the slope (steps
  // 11-20 and 91-100) each follow a ping that closed a run of 10 steps (see scenarios.mjs).
  linear: [
    { ping: "m0" },
    { noop: 10 },
    { ping: "m10" },
    { noop: 10 },
    { ping: "m20" },
    { noop: 60 },
    { ping: "m80" },
    { noop: 10 },
    { ping: "m90" },
    { noop: 10 },
    { ping: "m100" },
  ],
  fanout: [{ ping: "start" }, { fanout: 100 }, { ping: "end" }],
  fanoutQueue: [{ ping: "start" }, { fanoutPing: 100 }, { ping: "end" }],
  // Per-step overhead with a document of `bytes` in the context: ((m50 - m10) - (m10 - m0)) / 30.
  context: (bytes) => [{ doc: bytes }, { ping: "m0" }, { noop: 10 }, { ping: "m10" }, { noop: 40 }, { ping: "m50" }],
  hook: [{ noop: 1 }, { ping: "done" }],
  resume: (sleepMs) => [{ ping: "start" }, { sleep: sleepMs }, { ping: "end" }],
};

/**
 * A Signalbox definition for a shape. A no-op step is a `transform` setting one constant
 * (the cheapest node that writes context); a ping is an `http` node.
 */
export function signalboxDefinition(id, shape, pingBase) {
  const nodes = [];
  const edges = [];
  let previous = [];
  let n = 0;
  const add = (group) => {
    for (const from of previous) for (const node of group) edges.push({ from: from.id, to: node.id });
    nodes.push(...group);
    previous = group;
  };
  // Parallel no-ops each write their own key: nodes that may run at the same time must not
  // write the same one (definition.write_conflict).
  const noop = (nodeId, key = "v") => ({ id: nodeId, type: "transform", config: { set: { [key]: "1" } } });
  for (const item of shape) {
    if (item.ping) {
      add([
        {
          id: `ping-${item.ping}`,
          type: "http",
          config: { method: "POST", url: `${pingBase}/ping/${item.ping}`, body: "{'run': run.id}" },
        },
      ]);
    } else if (item.noop) {
      for (let i = 0; i < item.noop; i++) add([noop(`s${++n}`)]);
    } else if (item.fanout) {
      add(
        Array.from({ length: item.fanout }, () => {
          const nodeId = `f${++n}`;
          return noop(nodeId, nodeId);
        }),
      );
    } else if (item.fanoutPing) {
      add(
        Array.from({ length: item.fanoutPing }, () => {
          const label = `b${++n}`;
          const url = `${pingBase}/ping/${label}`;
          return { id: label, type: "http", config: { method: "POST", url, body: "{'run': run.id}" } };
        }),
      );
    } else if (item.doc) {
      const url = `${pingBase}/doc/${item.doc}`;
      const config = { method: "GET", url, output: "doc", map: "body", maxResponseBytes: 10 * 1024 * 1024 };
      add([{ id: `d${++n}`, type: "http", config }]);
    } else if (item.sleep) {
      add([{ id: `w${++n}`, type: "wait", config: { duration: `${item.sleep}ms` } }]);
    }
  }
  return {
    id,
    name: `bench ${id}`,
    triggers: [{ type: "manual" }, { type: "webhook" }],
    nodes,
    edges,
  };
}
