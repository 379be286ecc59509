// Builds what must be built: the probe as one dependency-free CommonJS file (it is loaded
// into other people's processes, Node 18 and later), and the CLI. Run by `npm install`.
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node18', sourcemap: 'linked', logLevel: 'warning' };

await Promise.all([
  build({ ...common, entryPoints: ['probe/index.ts'], outfile: 'dist/probe.js' }),
  build({ ...common, entryPoints: ['main/cli/main.ts'], outfile: 'dist/cli.js' }),
]);
