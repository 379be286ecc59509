// Where each node of the flame graph goes: an icicle, the callers on top, each node as wide as
// its share of the samples, children left to right the heaviest first. A focused node fills
// the width, with its callers above it at full width. Pure.

import type { FlameNode } from '../../main/ui/ui-api';

export interface FlameBox {
  readonly node: FlameNode;
  /** 0..1 of the width. */
  readonly x: number;
  readonly w: number;
  readonly depth: number;
}

export const ROW_H = 18;

/** The boxes of the graph, focused on `focus` (a node id) when given. */
export function layoutFlame(nodes: readonly FlameNode[], focus: number | undefined): FlameBox[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const children = new Map<number, FlameNode[]>();
  for (const n of nodes) {
    const list = children.get(n.parent) ?? [];
    list.push(n);
    children.set(n.parent, list);
  }
  const boxes: FlameBox[] = [];
  const focused = focus === undefined ? undefined : byId.get(focus);
  let top: FlameNode[];
  let depth0 = 0;
  if (focused) {
    // The callers of the focused node, at full width above it.
    const callers: FlameNode[] = [];
    for (let p = byId.get(focused.parent); p; p = byId.get(p.parent)) callers.unshift(p);
    callers.forEach((c, i) => boxes.push({ node: c, x: 0, w: 1, depth: i }));
    depth0 = callers.length;
    top = [focused];
  } else {
    top = children.get(0) ?? [];
  }
  const sum = top.reduce((a, n) => a + n.total, 0);
  if (sum <= 0) return boxes;
  const place = (list: readonly FlameNode[], x: number, scale: number, depth: number): void => {
    let at = x;
    for (const n of list) {
      const w = n.total * scale;
      boxes.push({ node: n, x: at, w, depth });
      place(children.get(n.id) ?? [], at, scale, depth + 1);
      at += w;
    }
  };
  place(top, 0, 1 / sum, depth0);
  return boxes;
}

/** The box at a point (CSS pixels), the deepest hit. */
export function boxAt(boxes: readonly FlameBox[], width: number, x: number, y: number): FlameBox | undefined {
  const depth = Math.floor(y / ROW_H);
  return boxes.find((b) => b.depth === depth && x >= b.x * width && x < (b.x + b.w) * width);
}

export function flameHeight(boxes: readonly FlameBox[]): number {
  return (boxes.reduce((d, b) => Math.max(d, b.depth), -1) + 1) * ROW_H;
}
