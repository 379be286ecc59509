// `loopscope serve --no-open` as a child process, and the URL it prints first on stdout.

import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(__dirname, '../../bin/loopscope.js');

export interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  stop(): Promise<void>;
}

export async function startServe(): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', '--no-open'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve printed no URL in 10 s: ${out} ${stderr}`)), 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const first = /^(http:\/\/\S+)\n/.exec(out);
      if (first?.[1]) {
        clearTimeout(timer);
        resolveUrl(first[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
  });
  return {
    child,
    url,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}
