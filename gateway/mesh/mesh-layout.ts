/** Width of a node box, layout units (≈ CSS pixels at full size). */
export const NODE_WIDTH = 240;
/** Height of a node box. */
export const NODE_HEIGHT = 96;
/** Horizontal distance between two columns' left edges. */
const COLUMN_STEP = 410;
/** Vertical distance between two rows' top edges. */
const ROW_STEP = 128;
/** Empty border around the drawing. */
const MARGIN = 24;

/** A node to place: clients (callers that serve nothing) start the flow. */
export interface LayoutNode {
  readonly id: string;
  readonly kind: 'service' | 'client';
}

/** Where everything went. */
export interface Layout {
  readonly positions: ReadonlyMap<string, { readonly x: number; readonly y: number }>;
  readonly width: number;
  readonly height: number;
}

/**
 * Lays the graph out in columns, callers left of callees: a node's column
 * is the longest chain of calls leading to it (cycles are broken where a
 * depth-first walk meets them), nodes without any edge go to the last
 * column (services) or the first (clients), and each column is ordered by
 * the average row of its callers (two sweeps), ties by id, so the same graph
 * always gets the same picture and it changes only when edges appear.
 * Columns are centred vertically.
 */
export function layoutMesh(
  nodes: readonly LayoutNode[],
  edges: readonly { readonly from: string; readonly to: string }[],
): Layout {
  const ids = [...nodes].sort((a, b) => (a.kind === b.kind ? compare(a.id, b.id) : a.kind === 'client' ? -1 : 1));
  const known = new Set(ids.map((node) => node.id));
  const out = new Map<string, string[]>();
  const linked = new Set<string>();
  for (const { from, to } of edges) {
    if (from === to || !known.has(from) || !known.has(to)) continue;
    const list = out.get(from) ?? [];
    if (!list.includes(to)) list.push(to);
    out.set(from, list);
    linked.add(from);
    linked.add(to);
  }
  for (const list of out.values()) list.sort(compare);

  // Depth-first: keep the edges that go forward, drop those closing a cycle; collect a topological order.
  const kept = new Map<string, string[]>();
  const state = new Map<string, 'open' | 'done'>();
  const order: string[] = [];
  const visit = (id: string): void => {
    state.set(id, 'open');
    for (const to of out.get(id) ?? []) {
      if (state.get(to) === 'open') continue;
      kept.set(id, [...(kept.get(id) ?? []), to]);
      if (!state.has(to)) visit(to);
    }
    state.set(id, 'done');
    order.push(id);
  };
  for (const { id } of ids) if (linked.has(id) && !state.has(id)) visit(id);
  order.reverse();

  const column = new Map<string, number>();
  for (const id of order) column.set(id, column.get(id) ?? 0);
  for (const id of order)
    for (const to of kept.get(id) ?? []) column.set(to, Math.max(column.get(to) ?? 0, column.get(id)! + 1));
  const last = Math.max(0, ...column.values());
  for (const { id, kind } of ids)
    if (!column.has(id)) column.set(id, kind === 'client' || linked.size === 0 ? 0 : last);

  const columns: string[][] = Array.from({ length: last + 1 }, () => []);
  for (const { id } of ids) columns[column.get(id)!]!.push(id);
  const row = new Map<string, number>();
  const number = (): void => columns.forEach((members) => members.forEach((id, index) => row.set(id, index)));
  number();
  const callers = new Map<string, string[]>();
  for (const [from, tos] of kept) for (const to of tos) callers.set(to, [...(callers.get(to) ?? []), from]);
  for (let sweep = 0; sweep < 2; sweep++) {
    for (const members of columns.slice(1)) {
      const weight = (id: string): number => {
        const from = callers.get(id) ?? [];
        return from.length === 0 ? row.get(id)! : from.reduce((sum, caller) => sum + row.get(caller)!, 0) / from.length;
      };
      const weights = new Map(members.map((id) => [id, weight(id)]));
      members.sort((a, b) => weights.get(a)! - weights.get(b)! || compare(a, b));
    }
    number();
  }

  const tallest = Math.max(1, ...columns.map((members) => members.length));
  const positions = new Map<string, { x: number; y: number }>();
  columns.forEach((members, index) => {
    const offset = ((tallest - members.length) * ROW_STEP) / 2;
    members.forEach((id, at) =>
      positions.set(id, { x: MARGIN + index * COLUMN_STEP, y: MARGIN + offset + at * ROW_STEP }),
    );
  });
  return {
    positions,
    width: MARGIN * 2 + (columns.length - 1) * COLUMN_STEP + NODE_WIDTH,
    height: MARGIN * 2 + (tallest - 1) * ROW_STEP + NODE_HEIGHT,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
