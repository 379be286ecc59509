// Builds what must be built: the probe as one dependency-free CommonJS file (it is loaded
// into other people's processes, Node 18 and later), the CLI, the desktop app's Electron side,
// and the UI (renderer/, for the browser: React and recharts bundled in). Run by `npm install`.
import { build } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node18', sourcemap: 'linked', logLevel: 'warning' };

await Promise.all([
  build({ ...common, entryPoints: ['probe/index.ts'], outfile: 'dist/probe.js' }),
  // The exporters' OpenTelemetry packages stay in node_modules, loaded only when asked for.
  build({ ...common, entryPoints: ['main/cli/main.ts'], outfile: 'dist/cli.js', external: ['@opentelemetry/*'] }),
  // The desktop app's main process and its sandboxed preload; Electron provides 'electron'.
  build({ ...common, entryPoints: ['main/electron/electron-main.ts'], outfile: 'dist/electron/main.js', external: ['electron'] }),
  build({ ...common, entryPoints: ['main/electron/preload.ts'], outfile: 'dist/electron/preload.js', external: ['electron'], sourcemap: false }),
  build({
    entryPoints: ['renderer/main.tsx'], outfile: 'dist/renderer/app.js', bundle: true, platform: 'browser', format: 'iife',
    target: 'chrome120', jsx: 'automatic', minify: true, sourcemap: 'linked', logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  }),
]);
await mkdir('dist/renderer', { recursive: true });
await Promise.all(['index.html', 'styles.css'].map((f) => copyFile(`renderer/${f}`, `dist/renderer/${f}`)));
