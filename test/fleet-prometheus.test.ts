// A real Prometheus (Debian's) scrapes `loopscope run --prometheus` every second, and PromQL
// over its HTTP API answers the lag p99, the utilization and the blocked count of a program
// that blocks its loop for 150 ms every 400 ms.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, REPO } from './helpers/probe-harness';
import { freePort, startCli, startProcess, stopAll, waitFor, type Running } from './helpers/fleet';

const PROMETHEUS = '/usr/bin/prometheus';
const present = existsSync(PROMETHEUS);

interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

describe.skipIf(!present)(`a real Prometheus scraping loopscope${present ? '' : ` (skipped: no ${PROMETHEUS}; apt-get install prometheus, as .ci/run does)`}`, () => {
  let dir: string;
  let loopscope: Running;
  let prometheus: Running;
  let api: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loopscope-prom-'));
    const [exporterPort, webPort] = [await freePort(), await freePort()];
    loopscope = startCli(['run', '--headless', '--prometheus', `127.0.0.1:${exporterPort}`, '--', process.execPath, join(FIXTURES, 'blocker.js')], {
      BLOCK_MS: '150', PERIOD_MS: '400', COUNT: '300', // 2 minutes at most
    });
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: loopscope',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${exporterPort}']`,
      '',
    ].join('\n'));
    prometheus = startProcess(PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
    ]);
    api = `http://127.0.0.1:${webPort}/api/v1`;
  });

  afterAll(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  const ask = async (promql: string): Promise<{ status: string; error?: string; data: { result: Sample[] } }> =>
    (await (await fetch(`${api}/query?query=${encodeURIComponent(promql)}`)).json()) as { status: string; error?: string; data: { result: Sample[] } };
  const query = async (promql: string): Promise<Sample[] | undefined> => {
    const body = await ask(promql);
    return body.status === 'success' && body.data.result.length > 0 ? body.data.result : undefined;
  };

  it('answers PromQL for the lag p99, the utilization and the blocked count, with the loop\'s labels', async () => {
    const why = (): string => `loopscope said: ${loopscope.stderr()}\nprometheus said: ${prometheus.stderr().slice(-2000)}`;
    // p99 over the export interval: the 150 ms blocks are well past the 99th percentile's rank.
    const p99 = await waitFor(() => query('nodejs_eventloop_delay_p99_seconds{job="loopscope"} > 0.1'), 25_000, why);
    expect(p99).toHaveLength(1);
    const labels = p99[0]!.metric;
    expect(labels).toMatchObject({ job: 'loopscope', thread_id: '0', thread_name: 'main' });
    expect(Number(labels['process_pid'])).toBeGreaterThan(0);
    expect(Number(p99[0]!.value[1])).toBeGreaterThan(0.14);
    expect(Number(p99[0]!.value[1])).toBeLessThan(1);

    const utilization = await waitFor(() => query('nodejs_eventloop_utilization_ratio{job="loopscope"}'), 10_000, why);
    // Blocked 150 ms of every 400 ms: over a third busy, well short of all of it.
    expect(Number(utilization[0]!.value[1])).toBeGreaterThan(0.25);
    expect(Number(utilization[0]!.value[1])).toBeLessThan(0.8);

    const blocked = await waitFor(() => query('loopscope_eventloop_blocked_total{job="loopscope"} >= 3'), 10_000, why);
    expect(blocked[0]!.metric['process_pid']).toBe(labels['process_pid']);
    // A counter Prometheus can take a rate of, and the whole lag histogram, by its buckets.
    await waitFor(() => query('rate(loopscope_eventloop_blocked_total{job="loopscope"}[5s]) > 0'), 10_000, why);
    const slow = await waitFor(() => query('sum(loopscope_eventloop_delay_seconds_bucket{job="loopscope",le="+Inf"}) - sum(loopscope_eventloop_delay_seconds_bucket{job="loopscope",le="0.1"}) >= 3'), 10_000, why);
    expect(Number(slow[0]!.value[1])).toBeGreaterThanOrEqual(3);
    const info = await waitFor(() => query('target_info{job="loopscope"}'), 10_000, why);
    expect(info[0]!.metric).toMatchObject({ service_name: 'blocker', process_runtime_name: 'nodejs' });
  }, 60_000);

  it('answers every query of the Grafana dashboard in docs/ (Grafana itself is not tested here)', async () => {
    const dashboard = JSON.parse(readFileSync(join(REPO, 'docs', 'grafana-dashboard.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
    expect(dashboard.panels.length).toBeGreaterThan(8);
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        const promql = expr.replaceAll('$job', 'loopscope').replaceAll('$instance', '.*');
        const body = await ask(promql);
        expect(body.status, `${panel.title}: ${promql}: ${body.error}`).toBe('success');
        // Thread-pool metrics need tasks mode; dropped frames appear once the probe drops some.
        if (/threadpool|dropped/.test(expr)) continue;
        await waitFor(() => query(promql), 10_000, () => `${panel.title}: no data for ${promql}`);
      }
    }
  }, 60_000);
});
