// DESIGN.md's layering, checked: the renderer imports only types from main (the API
// contract), and nothing of Node or Electron; main never imports the renderer.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.tsx?$/.test(e.name) ? [path] : [];
  });
}

const imports = (file: string): { typeOnly: boolean; from: string }[] =>
  [...readFileSync(file, 'utf8').matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)].map((m) => ({ typeOnly: m[1] !== undefined, from: m[2]! }));

describe('layering', () => {
  it('renderer/ imports from main/ only types, and no Node or Electron module', () => {
    const bad: string[] = [];
    let contract = 0;
    for (const file of sources(join(ROOT, 'renderer'))) {
      for (const i of imports(file)) {
        const name = relative(ROOT, file);
        if (i.from.endsWith('/main/ui-api')) contract++;
        if (i.from.startsWith('node:') || i.from === 'electron' || i.from === 'ws') bad.push(`${name}: ${i.from}`);
        if (i.from.includes('/main/') && !i.typeOnly) bad.push(`${name}: value import from ${i.from}`);
        if (i.from.includes('/main/') && !i.from.endsWith('/main/ui-api')) bad.push(`${name}: ${i.from} is not the API contract`);
      }
    }
    expect(bad).toEqual([]);
    expect(contract).toBeGreaterThan(3);
  });

  it('main/ never imports renderer/, and only main/electron/ imports electron', () => {
    const bad: string[] = [];
    for (const file of sources(join(ROOT, 'main'))) {
      const name = relative(ROOT, file);
      for (const i of imports(file)) {
        if (i.from.includes('renderer/')) bad.push(`${name}: ${i.from}`);
        if (i.from === 'electron' && !name.startsWith(join('main', 'electron'))) bad.push(`${name}: electron`);
      }
    }
    expect(bad).toEqual([]);
  });
});
