// A launched program's output, as loopscope captures it (main/launch/output-capture.ts): the
// program writes into a file loopscope tails. Written here through the program's descriptor,
// as a child's stdout would: loopscope keeps the last lines, counts what it let go, and empties
// the file once read, so the disk it takes stays bounded; the program's writes land at the new
// start (the file is appended to).

import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OutputCapture, TRUNCATE_AT } from '../main/launch/output-capture';
import { KEPT_LINES } from '../main/launch/output-lines';

describe('OutputCapture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'loopscope-output-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('tails what is written, empties the file once read past its bound, and keeps reading after', async () => {
    let data = 0;
    const capture = OutputCapture.create(dir, () => data++);
    const file = join(dir, readdirSync(dir).find((f) => f.startsWith('output-'))!);
    const line = `${'x'.repeat(99)}\n`;
    const lines = Math.ceil((TRUNCATE_AT * 1.2) / line.length);
    const block = Buffer.from(line.repeat(1000));
    for (let written = 0; written < lines; written += 1000) writeSync(capture.writeFd, block);
    await expect.poll(() => capture.total, { timeout: 20_000 }).toBe(Math.ceil(lines / 1000) * 1000);
    // Read in full and past its bound: emptied.
    await expect.poll(() => statSync(file).size, { timeout: 5000 }).toBe(0);
    expect(capture.dropped).toBe(capture.total - KEPT_LINES);
    expect(capture.bytes).toBe(capture.total * line.length);
    expect(data).toBeGreaterThan(0);
    // The next write lands at the start of the emptied file, and is read.
    writeSync(capture.writeFd, 'after the truncation\nand a last line without newline');
    await expect.poll(() => capture.tail(1)[0]).toBe('after the truncation');
    capture.finish();
    expect(capture.tail(2)).toEqual(['after the truncation', 'and a last line without newline']);
    expect(existsSync(file)).toBe(false);
  });

  it('closes its copy of the program\'s descriptor once: the number may belong to someone else by the time it finishes', () => {
    const capture = OutputCapture.create(dir);
    const fd = capture.writeFd;
    capture.closeWriter();
    // The lowest free number is taken next: the one just closed.
    const other = openSync(__filename, 'r');
    expect(other).toBe(fd);
    capture.finish();
    expect(fstatSync(other).isFile()).toBe(true);
    closeSync(other);
  });
});
