#!/usr/bin/env node
// `npm start`: the desktop app where the Electron runtime is installed; elsewhere (its binary
// is fetched by an install script, which may be denied or offline), the same UI served to the
// system browser by `loopscope serve`.
'use strict';
const { spawn } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

function electronBinary() {
  try {
    // The electron package exports the path of its binary, and throws if it was never fetched.
    const binary = require('electron');
    return typeof binary === 'string' && existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

const electron = electronBinary();
const [file, args] = electron
  ? [electron, [root]]
  : [process.execPath, [path.join(root, 'bin', 'loopscope.js'), 'serve']];
if (!electron) {
  process.stdout.write('loopscope: the Electron runtime is not installed (fetch it with `node node_modules/electron/install.js`); opening the UI in your browser instead.\n');
}
const child = spawn(file, args, { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
