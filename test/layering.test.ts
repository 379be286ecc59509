// DESIGN.md's layering, checked over the whole tree: which folder may import which. Imports
// only go one way, so the folders form a graph without cycles, and each new folder must be
// placed in it deliberately (a folder missing from LAYERS fails the test).

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');

/** Each folder, and the folders it may import from (besides itself and Node's modules). */
const LAYERS: Readonly<Record<string, readonly string[]>> = {
  probe: [],
  'main/common': ['probe'],
  'main/demo': [],
  'main/system': [],
  'main/server': ['probe', 'main/system'],
  'main/launch': ['probe', 'main/common', 'main/system'],
  'main/session': ['probe', 'main/common', 'main/server'],
  'main/recording': ['probe', 'main/common', 'main/session'],
  'main/replay': ['probe', 'main/common', 'main/session', 'main/recording'],
  'main/reports': ['probe', 'main/common', 'main/session', 'main/recording', 'main/replay'],
  'main/terminal': ['probe', 'main/common', 'main/session', 'main/reports'],
  'main/attach': ['probe', 'main/common', 'main/system', 'main/server', 'main/launch'],
  // Exporting to Prometheus and OpenTelemetry: loops in, engines out; the CLI wires it in.
  'main/fleet': ['probe', 'main/common', 'main/session', 'main/recording'],
  'main/ui': ['probe', 'main/common', 'main/demo', 'main/system', 'main/server', 'main/launch', 'main/attach', 'main/session', 'main/recording', 'main/replay', 'main/reports'],
  'main/web-host': ['probe', 'main/common', 'main/recording', 'main/ui'],
  'main/electron': ['probe', 'main/common', 'main/ui', 'main/web-host'],
  'main/cli': ['probe', 'main/common', 'main/demo', 'main/system', 'main/server', 'main/launch', 'main/attach', 'main/session', 'main/recording', 'main/replay', 'main/reports', 'main/terminal', 'main/ui', 'main/web-host', 'main/fleet'],
  // The UI runs in a page: types from the API contract, and pure shared code.
  renderer: ['probe', 'main/common', 'main/ui'],
};

/** Code that runs in the renderer's page too: no Node, no Electron. */
const PURE = ['main/common', 'renderer', 'main/ui/ui-calls.ts', 'main/ui/ui-api.ts'];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.tsx?$/.test(e.name) ? [path] : [];
  });
}

interface Import {
  readonly file: string;
  readonly from: string;
  readonly typeOnly: boolean;
}

const importsOf = (file: string): Import[] =>
  [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)]
    .map((m) => ({ file: relative(ROOT, file), from: m[2]!, typeOnly: m[1] !== undefined }));

/** probe, renderer, or main/<folder> ('main' for a file at main/'s top). */
function folderOf(path: string): string {
  const parts = relative(ROOT, path).split('/');
  return parts[0] === 'main' ? (parts.length > 2 ? `main/${parts[1]}` : 'main') : parts[0]!;
}

const all = ['probe', 'main', 'renderer'].flatMap((d) => sources(join(ROOT, d))).flatMap(importsOf);
const local = all.filter((i) => i.from.startsWith('.')).map((i) => ({ ...i, folder: folderOf(i.file), target: folderOf(resolve(ROOT, dirname(i.file), i.from)) }));

describe('layering', () => {
  it('puts every folder of main/ and probe/ in the layers, and no file at main/\'s top', () => {
    const folders = new Set(local.map((i) => i.folder));
    const unplaced = [...folders].filter((f) => LAYERS[f] === undefined);
    expect(unplaced).toEqual([]);
    const mainFolders = readdirSync(join(ROOT, 'main'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => `main/${e.name}`);
    expect(mainFolders.filter((f) => LAYERS[f] === undefined)).toEqual([]);
  });

  it('imports only go one way: each folder imports only the folders below it', () => {
    const bad = local
      .filter((i) => i.target !== i.folder && !(LAYERS[i.folder] ?? []).includes(i.target))
      .map((i) => `${i.file}: ${i.from} (${i.folder} may not import ${i.target})`);
    expect(bad).toEqual([]);
    expect(local.length).toBeGreaterThan(200);
  });

  it('has no cycles between folders', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const cycle = (f: string, path: readonly string[]): string | undefined => {
      if (done.has(f)) return undefined;
      if (visiting.has(f)) return [...path, f].join(' -> ');
      visiting.add(f);
      for (const next of LAYERS[f] ?? []) {
        const found = cycle(next, [...path, f]);
        if (found) return found;
      }
      visiting.delete(f);
      done.add(f);
      return undefined;
    };
    expect(Object.keys(LAYERS).map((f) => cycle(f, [])).filter(Boolean)).toEqual([]);
  });

  it('the renderer imports from main/ui only the API contract (types) and its method table, and pure code needs no Node or Electron', () => {
    const bad: string[] = [];
    for (const i of local) {
      const contract = (i.typeOnly && i.from.endsWith('/ui-api')) || i.from.endsWith('/ui-calls');
      if (i.folder === 'renderer' && i.target === 'main/ui' && !contract) bad.push(`${i.file}: ${i.from} is not the API contract or its method table`);
    }
    for (const i of all) {
      const pure = PURE.includes(folderOf(join(ROOT, i.file))) || PURE.includes(i.file);
      if (pure && (i.from.startsWith('node:') || i.from === 'electron' || i.from === 'ws')) bad.push(`${i.file}: ${i.from}`);
    }
    expect(bad).toEqual([]);
  });

  it('the probe imports nothing outside probe/, and only main/electron/ imports electron', () => {
    const bad: string[] = [];
    for (const i of all) {
      const folder = folderOf(join(ROOT, i.file));
      if (folder === 'probe' && !i.from.startsWith('./') && !i.from.startsWith('node:')) bad.push(`${i.file}: ${i.from}`);
      if (i.from === 'electron' && folder !== 'main/electron') bad.push(`${i.file}: electron`);
    }
    expect(bad).toEqual([]);
  });
});
