/**
 * Dependency order of named things (groups made of groups), without recursion: a chain of
 * thousands of groups must not overflow the stack.
 */
export interface GraphOrder {
  /** Every node whose dependencies are all resolvable, dependencies first. */
  order: string[];
  /** Each cycle once, as a path that ends where it starts (a -> b -> a). */
  cycles: string[][];
}

export function dependencyOrder(nodes: Iterable<string>, edges: (node: string) => readonly string[]): GraphOrder {
  const state = new Map<string, 'active' | 'done'>();
  const order: string[] = [];
  const cycles: string[][] = [];
  const seenCycles = new Set<string>();
  for (const start of nodes) {
    if (state.has(start)) continue;
    // Explicit stack of (node, index of the next edge to follow).
    const stack: Array<{ node: string; next: number; deps: readonly string[] }> = [{ node: start, next: 0, deps: edges(start) }];
    state.set(start, 'active');
    while (stack.length) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.deps.length) {
        const dep = top.deps[top.next++]!;
        const s = state.get(dep);
        if (s === 'active') {
          const from = stack.findIndex((f) => f.node === dep);
          const cycle = [...stack.slice(from).map((f) => f.node), dep];
          const key = [...new Set(cycle)].sort().join('\0');
          if (!seenCycles.has(key)) {
            seenCycles.add(key);
            cycles.push(cycle);
          }
        } else if (s === undefined) {
          state.set(dep, 'active');
          stack.push({ node: dep, next: 0, deps: edges(dep) });
        }
        continue;
      }
      stack.pop();
      state.set(top.node, 'done');
      order.push(top.node);
    }
  }
  return { order, cycles };
}
