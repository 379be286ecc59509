#!/usr/bin/env node
'use strict';
let cli;
try {
  cli = require('../dist/cli.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && /dist[\\/]cli\.js/.test(err.message)) {
    process.stderr.write('loopscope: not built yet. Run `npm install` (or `npm run build`) in the loopscope folder first.\n');
    process.exit(70);
  }
  throw err;
}
cli.main(process.argv.slice(2)).then(cli.exitWhenDone);
