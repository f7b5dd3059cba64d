// Workflows and runs that show the dashboard's pages in every state: a branch taken and
// skipped, retries that fail, a run waiting on a timer and one waiting for a person.

/** An http step against a port nothing listens on: it fails fast, and retries with backoff. */
function orderFlow(deadPort) {
  return {
    id: "order-flow",
    name: "Order flow",
    triggers: [{ type: "webhook" }, { type: "manual" }],
    nodes: [
      { id: "validate", type: "transform", config: { set: { total: "input.quantity * input.price" } } },
      {
        id: "route",
        type: "branch",
        config: { cases: [{ when: "total > 100", to: "review-large" }], default: "auto-approve" },
      },
      { id: "review-large", type: "transform", config: { set: { approved: "total < 1000" } } },
      { id: "auto-approve", type: "transform", config: { set: { approved: "true" } } },
      {
        id: "charge",
        type: "http",
        config: {
          method: "POST",
          url: `http://127.0.0.1:${deadPort}/charge`,
          body: "{ 'amount': total }",
          output: "payment",
        },
        retry: { maxAttempts: 3, backoff: "exponential", initialDelay: "200ms" },
      },
      { id: "notify", type: "log", config: { message: "order {{ input.id }} charged" } },
    ],
    edges: [
      { from: "validate", to: "route" },
      { from: "route", to: "review-large" },
      { from: "route", to: "auto-approve" },
      { from: "review-large", to: "charge" },
      { from: "auto-approve", to: "charge" },
      { from: "charge", to: "notify" },
    ],
  };
}

const greeting = {
  id: "greeting",
  name: "Greeting",
  triggers: [{ type: "manual" }],
  nodes: [
    { id: "compose", type: "transform", config: { set: { greeting: "'Hello, ' & input.name & '!'" } } },
    {
      id: "tone",
      type: "branch",
      config: { cases: [{ when: "input.loud = true", to: "shout" }], default: "whisper" },
    },
    { id: "shout", type: "transform", config: { set: { message: "$uppercase(greeting)" } } },
    { id: "whisper", type: "transform", config: { set: { message: "$lowercase(greeting)" } } },
    { id: "send", type: "log", config: { message: "{{ message }}" } },
  ],
  edges: [
    { from: "compose", to: "tone" },
    { from: "tone", to: "shout" },
    { from: "tone", to: "whisper" },
    { from: "shout", to: "send" },
    { from: "whisper", to: "send" },
  ],
};

const reminder = {
  id: "reminder",
  name: "Reminder",
  triggers: [{ type: "manual" }],
  nodes: [
    { id: "plan", type: "transform", config: { set: { note: "'call ' & input.who" } } },
    { id: "later", type: "wait", config: { duration: "1h" } },
    { id: "remind", type: "log", config: { message: "{{ note }}" } },
  ],
  edges: [
    { from: "plan", to: "later" },
    { from: "later", to: "remind" },
  ],
};

const purchase = {
  id: "purchase",
  name: "Purchase approval",
  triggers: [{ type: "manual" }],
  nodes: [
    {
      id: "ask",
      type: "human",
      config: {
        to: ["ann@example.com"],
        subject: "Approve {{ input.item }}",
        body: "{{ input.requester }} asks to buy {{ input.item }}.",
        expiresIn: "2d",
      },
    },
    { id: "buy", type: "transform", config: { set: { outcome: "'bought ' & input.item" } } },
  ],
  edges: [{ from: "ask", to: "buy" }],
};

export function demoWorkflows(deadPort) {
  return [orderFlow(deadPort), greeting, reminder, purchase];
}

async function call(baseUrl, token, path, body) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function report(baseUrl, token, runId) {
  const response = await fetch(`${baseUrl}/api/runs/${runId}`, { headers: { authorization: `Bearer ${token}` } });
  return response.json();
}

/** Polls the run's report until `done(report)`; the run's own alarms move it, nothing here waits on time. */
export async function waitForRun(baseUrl, token, runId, done, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await report(baseUrl, token, runId);
    if (done(current)) return current;
    if (Date.now() > deadline) throw new Error(`run ${runId} stayed ${current.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The runs in D1 (what the lists, counts, inbox and metrics read), by id with their status. */
async function listed(baseUrl, token) {
  const response = await fetch(`${baseUrl}/api/runs?limit=100`, { headers: { authorization: `Bearer ${token}` } });
  const body = await response.json();
  return new Map(body.runs.map((run) => [run.runId, run.status]));
}

/**
 * Registers the demo workflows and starts one run in each state; answers their ids once every
 * run has reached the state it is there to show and D1 lists it so, so every page shows the
 * same data on every seeding (the screenshots depend on it).
 */
export async function seedDemo(baseUrl, token, deadPort) {
  for (const definition of demoWorkflows(deadPort)) await call(baseUrl, token, "/api/workflows", definition);
  const expected = new Map();
  const start = async (workflowId, input, status) => {
    const { runId } = await call(baseUrl, token, `/api/workflows/${workflowId}/runs`, { input });
    await waitForRun(baseUrl, token, runId, (report) => report.status === status);
    expected.set(runId, status);
    return runId;
  };
  const runs = {
    greetingLoud: await start("greeting", { name: "Ada", loud: true }, "success"),
    greetingQuiet: await start("greeting", { name: "Grace", loud: false }, "success"),
    // Waiting between its retries first; failed once the last one has.
    orderFailed: await start("order-flow", { id: "A-17", quantity: 3, price: 50 }, "failed"),
    reminderWaiting: await start("reminder", { who: "Lin" }, "waiting"),
    purchaseReview: await start("purchase", { item: "a standing desk", requester: "Grace" }, "needs_review"),
  };
  // Checkpoints reach D1 behind the runs: wait until the lists agree with the runs themselves.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = await listed(baseUrl, token);
    if ([...expected].every(([runId, status]) => rows.get(runId) === status)) return runs;
    if (Date.now() > deadline) throw new Error("the demo runs did not reach D1 in 30 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
