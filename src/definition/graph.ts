/**
 * Pure graph helpers shared by validation and plan compilation. Every result is ordered by
 * definition order so that issue messages and plans are stable across submissions.
 */
export interface GraphEdge {
  from: string;
  to: string;
}

/** Successor lists in edge order; edges naming unknown nodes are ignored. */
export function successors(nodeIds: readonly string[], edges: readonly GraphEdge[]): Map<string, string[]> {
  const succs = new Map<string, string[]>(nodeIds.map((id) => [id, []]));
  for (const edge of edges) {
    if (succs.has(edge.to)) succs.get(edge.from)?.push(edge.to);
  }
  return succs;
}

/**
 * Kahn's algorithm; among ready nodes the earliest in definition order goes first, so a
 * definition's author controls the order of independent nodes. Undefined on a cycle.
 */
export function topologicalOrder(nodeIds: readonly string[], edges: readonly GraphEdge[]): string[] | undefined {
  const position = new Map(nodeIds.map((id, index) => [id, index]));
  const succs = successors(nodeIds, edges);
  const indegree = new Map(nodeIds.map((id) => [id, 0]));
  for (const targets of succs.values()) {
    for (const to of targets) indegree.set(to, (indegree.get(to) ?? 0) + 1);
  }
  // Ready set kept sorted by position; graphs are small (<= 500 nodes), so insertion is fine.
  const ready = nodeIds.filter((id) => indegree.get(id) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift() as string;
    order.push(id);
    for (const to of succs.get(id) ?? []) {
      const left = (indegree.get(to) ?? 0) - 1;
      indegree.set(to, left);
      if (left === 0) insertByPosition(ready, to, position);
    }
  }
  return order.length === nodeIds.length ? order : undefined;
}

function insertByPosition(list: string[], id: string, position: ReadonlyMap<string, number>): void {
  const rank = position.get(id) ?? 0;
  let index = list.length;
  while (index > 0 && (position.get(list[index - 1] as string) ?? 0) > rank) index -= 1;
  list.splice(index, 0, id);
}

/**
 * One cycle per strongly connected component with more than one node (self-edges are the
 * caller's business), each as the node path `[start, ..., start]`, starting at the
 * component's earliest node and taking the shortest way back to it.
 */
export function findCycles(nodeIds: readonly string[], edges: readonly GraphEdge[]): string[][] {
  const succs = successors(nodeIds, edges);
  const cycles: string[][] = [];
  for (const component of stronglyConnected(nodeIds, succs)) {
    if (component.size < 2) continue;
    const start = nodeIds.find((id) => component.has(id));
    if (start === undefined) continue;
    const cycle = shortestCycle(start, component, succs);
    if (cycle) cycles.push(cycle);
  }
  return cycles;
}

/** Tarjan's algorithm, iterative so a long chain cannot overflow the stack. */
function stronglyConnected(nodeIds: readonly string[], succs: ReadonlyMap<string, string[]>): Set<string>[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: Set<string>[] = [];
  let counter = 0;
  for (const root of nodeIds) {
    if (index.has(root)) continue;
    const work: { id: string; next: number }[] = [{ id: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter);
    counter += 1;
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { id: string; next: number };
      const targets = succs.get(frame.id) ?? [];
      if (frame.next < targets.length) {
        const to = targets[frame.next] as string;
        frame.next += 1;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter);
          counter += 1;
          stack.push(to);
          onStack.add(to);
          work.push({ id: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.id, Math.min(low.get(frame.id) ?? 0, index.get(to) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id) ?? 0, low.get(frame.id) ?? 0));
      if (low.get(frame.id) === index.get(frame.id)) {
        const component = new Set<string>();
        for (;;) {
          const id = stack.pop() as string;
          onStack.delete(id);
          component.add(id);
          if (id === frame.id) break;
        }
        components.push(component);
      }
    }
  }
  return components;
}

function shortestCycle(
  start: string,
  component: ReadonlySet<string>,
  succs: ReadonlyMap<string, string[]>,
): string[] | undefined {
  const parent = new Map<string, string>();
  const queue = [start];
  for (let head = 0; head < queue.length; head += 1) {
    const id = queue[head] as string;
    for (const to of succs.get(id) ?? []) {
      if (to === start) {
        const path = [id];
        for (let at = id; at !== start; ) {
          at = parent.get(at) as string;
          path.unshift(at);
        }
        return [...path, start];
      }
      if (!component.has(to) || parent.has(to)) continue;
      parent.set(to, id);
      queue.push(to);
    }
  }
  return undefined;
}

/**
 * Nodes reachable from the entry nodes (those without incoming edges). `follows` decides
 * whether an edge can carry a run, which is how routing nodes prune successors.
 */
export function reachableFromEntries(
  nodeIds: readonly string[],
  edges: readonly GraphEdge[],
  follows: (edge: GraphEdge) => boolean,
): Set<string> {
  const succs = successors(nodeIds, edges);
  const hasIncoming = new Set(edges.map((edge) => edge.to));
  const seen = new Set(nodeIds.filter((id) => !hasIncoming.has(id)));
  const queue = [...seen];
  for (let head = 0; head < queue.length; head += 1) {
    const from = queue[head] as string;
    for (const to of succs.get(from) ?? []) {
      if (seen.has(to) || !follows({ from, to })) continue;
      seen.add(to);
      queue.push(to);
    }
  }
  return seen;
}
