/** A workflow and the workflows it calls (subworkflow, map and loop bodies). */
export interface CallNode {
  id: string;
  calls: string[];
}

export type Ordered = { ok: true; order: string[] } | { ok: false; cycle: string[] };

/**
 * Callees before callers, so each registration finds the workflows it calls already there.
 * Calls to workflows outside the set are not edges (the server has them, or the check of
 * calls says it does not). Ties keep the given order, so output is stable across runs.
 */
export function dependencyOrder(nodes: CallNode[]): Ordered {
  const ids = new Set(nodes.map((node) => node.id));
  const callees = new Map(
    nodes.map((node) => [node.id, [...new Set(node.calls)].filter((call) => ids.has(call) && call !== node.id)]),
  );
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < nodes.length) {
    const next = nodes.find((node) => !done.has(node.id) && (callees.get(node.id) ?? []).every((id) => done.has(id)));
    if (!next)
      return {
        ok: false,
        cycle: findCycle(
          nodes.filter((node) => !done.has(node.id)),
          callees,
        ),
      };
    done.add(next.id);
    order.push(next.id);
  }
  return { ok: true, order };
}

/** One cycle among the nodes left (each of which calls another one left), as a closed path. */
function findCycle(left: CallNode[], callees: Map<string, string[]>): string[] {
  const remaining = new Set(left.map((node) => node.id));
  const path: string[] = [];
  let at = left[0]?.id;
  while (at !== undefined && !path.includes(at)) {
    path.push(at);
    at = (callees.get(at) ?? []).find((id) => remaining.has(id));
  }
  return at === undefined ? path : [...path.slice(path.indexOf(at)), at];
}
