import { describe, expect, it } from "vitest";
import { api, register, settle, startManual } from "./helpers";
import { fireAlarm } from "./support";

interface StoredDefinition {
  workflowId: string;
  version: number;
  hash: string;
  definition: { id: string; name: string; nodes: { id: string; config: unknown }[] };
  versions: { version: number; hash: string }[];
}

function greeter(id: string, greeting: string) {
  return {
    id,
    name: `Greeter (${greeting})`,
    triggers: [{ type: "manual" }],
    nodes: [{ id: "greet", type: "transform", config: { set: { greeting: `'${greeting}, ' & input.name` } } }],
    edges: [],
  };
}

async function getDefinition(path: string): Promise<StoredDefinition> {
  const response = await api(path);
  expect(response.status).toBe(200);
  return response.json();
}

describe("workflow versions", () => {
  it("makes a new version on each registration and serves each one", async () => {
    const first = await register(greeter("versions", "Hello"));
    const second = await register(greeter("versions", "Howdy"));
    const third = await register(greeter("versions", "Hi"));
    expect([first.version, second.version, third.version]).toEqual([1, 2, 3]);
    expect(first.workflowId).toBe("versions");

    const latest = await getDefinition("/api/workflows/versions");
    expect(latest.version).toBe(3);
    expect(latest.definition.name).toBe("Greeter (Hi)");
    expect(latest.versions.map((entry) => entry.version)).toEqual([3, 2, 1]);

    const v1 = await getDefinition("/api/workflows/versions?version=1");
    expect(v1.version).toBe(1);
    expect(v1.definition.nodes[0]?.config).toEqual({ set: { greeting: "'Hello, ' & input.name" } });
    const v2 = await getDefinition("/api/workflows/versions?version=2");
    expect(v2.definition.name).toBe("Greeter (Howdy)");
    expect(v2.hash).not.toBe(v1.hash);
  });

  it("answers an identical definition with the latest version, unchanged, and makes no new one", async () => {
    const post = async (definition: unknown) => {
      const response = await api("/api/workflows", { method: "POST", json: definition });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const first = await post(greeter("same", "Yo"));
    expect(first).toMatchObject({ status: 201, body: { workflowId: "same", version: 1 } });
    expect(first.body).not.toHaveProperty("unchanged");
    const again = await post(greeter("same", "Yo"));
    expect(again).toEqual({
      status: 200,
      body: {
        workflowId: "same",
        version: 1,
        hash: first.body.hash,
        createdAt: first.body.createdAt,
        unchanged: true,
      },
    });
    expect((await getDefinition("/api/workflows/same")).versions.map((entry) => entry.version)).toEqual([1]);

    // Only the latest version counts: going back to an older definition is a new version.
    expect(await post(greeter("same", "Hey"))).toMatchObject({ status: 201, body: { version: 2 } });
    expect(await post(greeter("same", "Yo"))).toMatchObject({
      status: 201,
      body: { version: 3, hash: first.body.hash },
    });
    // A deleted workflow is revived by registering it again, even unchanged.
    expect((await api("/api/workflows/same", { method: "DELETE" })).status).toBe(200);
    expect(await post(greeter("same", "Yo"))).toMatchObject({ status: 201, body: { version: 4 } });
    expect((await getDefinition("/api/workflows/same")).version).toBe(4);
  });

  it("lists registered workflows with their latest version", async () => {
    await register(greeter("listed-a", "A"));
    await register(greeter("listed-b", "B"));
    await register(greeter("listed-b", "B2"));
    const response = await api("/api/workflows");
    expect(response.status).toBe(200);
    const { workflows } = (await response.json()) as {
      workflows: { workflowId: string; name: string; latestVersion: number }[];
    };
    expect(workflows).toContainEqual(expect.objectContaining({ workflowId: "listed-a", latestVersion: 1 }));
    expect(workflows).toContainEqual(
      expect.objectContaining({ workflowId: "listed-b", name: "Greeter (B2)", latestVersion: 2 }),
    );
  });

  it("runs the latest version when a run starts", async () => {
    await register(greeter("latest-run", "Hello"));
    await register(greeter("latest-run", "Howdy"));
    const report = await settle(await startManual("latest-run", { name: "Ada" }));
    expect(report.version).toBe(2);
    expect(report.context).toMatchObject({ greeting: "Howdy, Ada", run: { version: 2 } });
  });
});

describe("a run pins its version", () => {
  const sleeper = (marker: string) => ({
    id: "pinned",
    name: "Pinned",
    triggers: [{ type: "manual" }],
    nodes: [
      { id: "nap", type: "wait", config: { duration: "1h" } },
      { id: "mark", type: "transform", config: { set: { marker: `'${marker}'` } } },
    ],
    edges: [{ from: "nap", to: "mark" }],
  });

  it("keeps running version 1 after version 2 is registered", async () => {
    await register(sleeper("v1"));
    const runId = await startManual("pinned");
    const asleep = await settle(runId);
    expect(asleep.status).toBe("waiting");
    expect(asleep.version).toBe(1);

    const v2 = await register(sleeper("v2"));
    expect(v2.version).toBe(2);
    expect(await fireAlarm(runId)).toBe(true);

    const report = await settle(runId);
    expect(report.status).toBe("success");
    expect(report.version).toBe(1);
    expect(report.context).toMatchObject({ marker: "v1", run: { version: 1 } });

    const newer = await settle(await startManual("pinned"));
    expect(newer.version).toBe(2);
  });
});
