import { describe, expect, it } from 'vitest';
import { layoutMesh, NODE_HEIGHT, NODE_WIDTH, type LayoutNode } from './mesh-layout.js';

const service = (id: string): LayoutNode => ({ id, kind: 'service' });
const client = (id: string): LayoutNode => ({ id, kind: 'client' });
const column = (layout: ReturnType<typeof layoutMesh>, id: string): number => layout.positions.get(id)!.x;
const row = (layout: ReturnType<typeof layoutMesh>, id: string): number => layout.positions.get(id)!.y;

describe('mesh layout', () => {
  it('puts every caller left of what it calls, a node as far right as its longest chain of callers', () => {
    const layout = layoutMesh(
      [client('gateway'), service('orders'), service('inventory'), service('payments'), service('notifications')],
      [
        { from: 'gateway', to: 'orders' },
        { from: 'gateway', to: 'inventory' },
        { from: 'orders', to: 'inventory' },
        { from: 'orders', to: 'payments' },
        { from: 'orders', to: 'notifications' },
      ],
    );
    expect(column(layout, 'gateway')).toBeLessThan(column(layout, 'orders'));
    expect(column(layout, 'orders')).toBeLessThan(column(layout, 'inventory'));
    expect(column(layout, 'inventory')).toBe(column(layout, 'payments'));
    expect(column(layout, 'payments')).toBe(column(layout, 'notifications'));
    const ys = ['inventory', 'notifications', 'payments'].map((id) => row(layout, id));
    expect(new Set(ys).size).toBe(3); // one above the other, never on top of each other
    expect(Math.min(...ys.map((y, i) => Math.abs(y - ys[(i + 1) % 3]!)))).toBeGreaterThanOrEqual(NODE_HEIGHT);
    expect(layout.width).toBeGreaterThanOrEqual(column(layout, 'payments') + NODE_WIDTH);
    expect(layout.height).toBeGreaterThanOrEqual(Math.max(...ys) + NODE_HEIGHT);
  });

  it('survives cycles and self-calls, and lays the same graph out the same way every time', () => {
    const nodes = [service('a'), service('b'), service('c')];
    const edges = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'a' },
      { from: 'b', to: 'b' },
    ];
    const first = layoutMesh(nodes, edges);
    expect(first.positions.size).toBe(3);
    expect(column(first, 'a')).toBeLessThan(column(first, 'b'));
    expect(column(first, 'b')).toBeLessThan(column(first, 'c'));
    expect([...layoutMesh([...nodes].reverse(), [...edges].reverse()).positions]).toEqual([...first.positions]);
  });

  it('places nodes without edges: clients first, services last, all in one column when nothing calls anything', () => {
    const linked = layoutMesh([client('cli'), service('a'), service('b'), service('lonely')], [{ from: 'a', to: 'b' }]);
    expect(column(linked, 'cli')).toBe(column(linked, 'a'));
    expect(column(linked, 'lonely')).toBe(column(linked, 'b'));
    const quiet = layoutMesh([service('x'), service('y'), client('z')], [{ from: 'z', to: 'nowhere' }]);
    expect(new Set([...quiet.positions.values()].map((p) => p.x)).size).toBe(1);
    expect([...quiet.positions.keys()]).toEqual(['z', 'x', 'y']);
  });

  it('orders a column by where its callers are, so lines cross less', () => {
    // By name alone x-of-b would come first; its caller b is below a, so it goes below y-of-a.
    const layout = layoutMesh(
      [service('a'), service('b'), service('x-of-b'), service('y-of-a')],
      [
        { from: 'a', to: 'y-of-a' },
        { from: 'b', to: 'x-of-b' },
      ],
    );
    expect(row(layout, 'a')).toBeLessThan(row(layout, 'b'));
    expect(row(layout, 'y-of-a')).toBeLessThan(row(layout, 'x-of-b'));
  });
});
