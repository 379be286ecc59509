// `loopscope serve` given what hung or exhausted it: a FIFO opened as a recording (the open
// waited for a writer, and the whole server with it), an attach to its own PID (its inspector
// waited on its own loop), and an upload crafted to decode to gigabytes (the server grew to
// 4.3 GB, and a second one crashed it).

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dictionaryBomb } from './helpers/recording-bombs';
import { callHost, startServe, type Served } from './helpers/serve-process';

const GB = 1024 ** 3;

function peakRss(pid: number): number {
  const kB = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kB) * 1024;
}

describe.skipIf(process.platform !== 'linux')('loopscope serve, given what would hang or exhaust it', () => {
  let served: Served;
  beforeAll(async () => {
    served = await startServe();
  });
  afterAll(() => served.stop());

  it('refuses a FIFO as a recording at once, and goes on answering', async () => {
    const fifo = join(served.home, 'pipe.lsrec');
    execFileSync('mkfifo', [fifo]);
    await expect(callHost(served.url, 'openRecording', [fifo])).rejects.toThrow(/pipe\.lsrec: it is not a regular file \(a FIFO\)/);
    expect(await callHost(served.url, 'recentRecordings', [])).toEqual([]);
  });

  it('refuses to attach to itself, and does not list itself', async () => {
    const pid = served.child.pid!;
    await expect(callHost(served.url, 'attach', [pid, {}])).rejects.toThrow(`process ${pid} is this loopscope: it cannot attach to itself`);
    const listed = (await callHost(served.url, 'listProcesses', [])) as { pid: number }[];
    expect(listed.map((p) => p.pid)).not.toContain(pid);
  });

  it('refuses an upload that decodes to gigabytes in one line, twice, keeps none of it, and stays under 1 GB', async () => {
    const bomb = join(served.home, 'bomb.lsrec');
    dictionaryBomb(bomb, 24); // 1.5 GB of dictionary in 1.5 MB
    const origin = new URL(served.url).origin;
    for (let i = 0; i < 2; i++) {
      const res = await fetch(new URL('upload?name=bomb.lsrec', served.url), { method: 'POST', body: readFileSync(bomb), headers: { origin } });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: string };
      expect(error).toMatch(/^bomb\.lsrec cannot be read: its chunk at byte \d+ holds a section that decompresses from \d+ to 64000112 bytes, more than the limit of 256 times\./);
      expect(error).not.toContain('\n');
    }
    const uploads = join(served.home, 'data', 'loopscope', 'uploads');
    expect(existsSync(uploads) ? readdirSync(uploads) : []).toEqual([]);
    expect(await callHost(served.url, 'recentRecordings', [])).toEqual([]);
    expect(peakRss(served.child.pid!)).toBeLessThan(GB);
  });
});
