import type { ErrorCode } from "../errors";

type Add = (code: ErrorCode, path: (string | number)[], message: string) => void;

/** A definition's test cases may only mock and expect nodes it has; unique names, so results can be told apart. */
export function checkTestCases(tests: unknown, nodeIds: ReadonlySet<string>, add: Add): void {
  if (!Array.isArray(tests)) return;
  const names = new Set<string>();
  for (const [index, test] of tests.entries()) {
    if (typeof test !== "object" || test === null) continue;
    const { name, mocks, expect } = test as { name?: unknown; mocks?: unknown; expect?: { steps?: unknown } };
    if (typeof name === "string") {
      if (names.has(name)) add("definition.invalid", ["tests", index, "name"], `duplicate test name "${name}"`);
      names.add(name);
    }
    for (const [field, map] of [
      ["mocks", mocks],
      ["steps", expect?.steps],
    ] as const) {
      if (typeof map !== "object" || map === null) continue;
      for (const nodeId of Object.keys(map)) {
        if (nodeIds.has(nodeId)) continue;
        const path =
          field === "mocks" ? ["tests", index, "mocks", nodeId] : ["tests", index, "expect", "steps", nodeId];
        add("definition.unknown_node", path, `test "${String(name)}" names unknown node "${nodeId}"`);
      }
    }
  }
}
