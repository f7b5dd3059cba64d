import { type GraphEdge, reachableFromEntries, successors } from "./graph";

/**
 * Which nodes of a workflow may run at the same time, and which of those write the same
 * context key. Two nodes may overlap unless one is an ancestor of the other (a node starts
 * only after every predecessor settled) or a routing node's single choice separates them
 * (the two arms of a branch, an event's arrival and its timeout path).
 */
export interface WriterNode {
  id: string;
  writes: readonly string[];
  /**
   * For routing nodes: successor groups of which at most one is taken in a run (each branch
   * target on its own; the timeout path versus the other successors of a wait).
   */
  exclusive?: readonly (readonly string[])[];
}

export interface WriteConflict {
  /** Earlier in definition order. */
  first: string;
  second: string;
  keys: string[];
}

export function findWriteConflicts(nodes: readonly WriterNode[], edges: readonly GraphEdge[]): WriteConflict[] {
  const ids = nodes.map((node) => node.id);
  const writersByKey = new Map<string, string[]>();
  for (const node of nodes) {
    for (const key of new Set(node.writes)) writersByKey.set(key, [...(writersByKey.get(key) ?? []), node.id]);
  }
  const shared = new Map<string, string[]>();
  for (const [key, writers] of writersByKey) {
    for (let i = 0; i < writers.length; i += 1) {
      for (let j = i + 1; j < writers.length; j += 1) {
        const pair = JSON.stringify([writers[i], writers[j]]);
        shared.set(pair, [...(shared.get(pair) ?? []), key]);
      }
    }
  }
  if (shared.size === 0) return [];

  const succs = successors(ids, edges);
  const descendants = memo((id: string) => reach(id, succs));
  const arms = exclusiveArms(nodes, ids, edges);
  const conflicts: WriteConflict[] = [];
  for (const [pair, keys] of shared) {
    const [first, second] = JSON.parse(pair) as [string, string];
    if (descendants(first).has(second) || descendants(second).has(first)) continue;
    if (separated(arms, first, second)) continue;
    conflicts.push({ first, second, keys });
  }
  return conflicts;
}

/** For each routing node, which of its arms each node lies wholly under (every path passes through it). */
function exclusiveArms(
  nodes: readonly WriterNode[],
  ids: readonly string[],
  edges: readonly GraphEdge[],
): Map<string, number>[] {
  const all = reachableFromEntries(ids, edges, () => true);
  const result: Map<string, number>[] = [];
  for (const node of nodes) {
    if (!node.exclusive || node.exclusive.length < 2) continue;
    const armOf = new Map<string, number>();
    node.exclusive.forEach((group, index) => {
      const cut = new Set(group);
      const stillReached = reachableFromEntries(ids, edges, (edge) => !(edge.from === node.id && cut.has(edge.to)));
      for (const id of all) if (!stillReached.has(id)) armOf.set(id, index);
    });
    result.push(armOf);
  }
  return result;
}

function separated(arms: readonly Map<string, number>[], a: string, b: string): boolean {
  return arms.some((armOf) => {
    const armA = armOf.get(a);
    const armB = armOf.get(b);
    return armA !== undefined && armB !== undefined && armA !== armB;
  });
}

function reach(from: string, succs: ReadonlyMap<string, string[]>): Set<string> {
  const seen = new Set<string>();
  const queue = [...(succs.get(from) ?? [])];
  for (let head = 0; head < queue.length; head += 1) {
    const id = queue[head] as string;
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...(succs.get(id) ?? []));
  }
  return seen;
}

function memo<T>(compute: (id: string) => T): (id: string) => T {
  const cache = new Map<string, T>();
  return (id) => {
    let value = cache.get(id);
    if (value === undefined) {
      value = compute(id);
      cache.set(id, value);
    }
    return value;
  };
}
