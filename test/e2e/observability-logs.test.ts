/**
 * The access log: one JSON line per request with what the gateway did, never a credential or the prompt; on by
 * default and off with `--access-log=false` (checked on the real proxy process).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACT_PATHS } from '../../proxy/src/telemetry/logger.js';
import { type Simulator, startSimulator } from '../sim/index.js';
import { type LogRecord, recordSink } from '../support/log.js';
import { poolManifests, startTestProxy, type TestProxy } from '../support/proxy.js';
import { readUntilMatches } from '../support/streams.js';
import { waitFor } from '../support/wait.js';

const API_KEY = 'sk-log-test-9d8c7b6a5f4e3d2c1b0a';
const PROMPT = 'the prompt must not be logged 77aa';

let sim: Simulator;
let proxy: TestProxy;
const lines: LogRecord[] = [];

beforeAll(async () => {
  sim = await startSimulator({ flavour: 'vllm', models: ['m'] });
  const log = pino({ level: 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, recordSink(lines));
  proxy = await startTestProxy(
    poolManifests({
      model: 'm',
      urls: [`${sim.url}/v1`],
      backendSpec:
        '  healthCheck: { enabled: false }\n  pricing: { inputPerMillion: 3, outputPerMillion: 15, currency: EUR }',
    }),
    { log },
  );
  await waitFor(() => proxy.store.current !== undefined, 10_000, 'the snapshot');
});
afterAll(async () => {
  await proxy?.stop();
  await sim?.close();
});

const accessLines = (id: string) => lines.filter((l) => l.msg === 'request' && l.requestId === id);
const chat = (id: string, model = 'm', extra: Record<string, unknown> = {}) =>
  fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'x-request-id': id },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: PROMPT }], max_tokens: 4, ...extra }),
  });

describe('access log', () => {
  it('writes one line per request with route, endpoint, attempts, tokens and durations', async () => {
    const res = await chat('log-ok-1');
    expect(res.status).toBe(200);
    const usage = ((await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    await waitFor(() => accessLines('log-ok-1').length === 1, 10_000, 'the access-log line');
    const line = accessLines('log-ok-1')[0] as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 30,
      log: 'access',
      surface: 'openai',
      model: 'm',
      pool: 'default/backend-pool',
      backend: 'default/backend',
      endpoint: 'backend/0',
      status: 200,
      attempts: 1,
      stream: false,
      inputTokens: usage.prompt_tokens,
      outputTokens: usage.completion_tokens,
      costCurrency: 'EUR',
    });
    expect(line.cost).toBeCloseTo((usage.prompt_tokens * 3 + usage.completion_tokens * 15) / 1e6, 12);
    expect(line.usageEstimated).toBeUndefined();
    for (const f of ['durationMs', 'ttfbMs', 'upstreamMs', 'overheadMs']) expect(typeof line[f], f).toBe('number');
  });

  it('logs an unknown model at info with its error code, and a 5xx at warn', async () => {
    expect((await chat('log-404-1', 'nope')).status).toBe(404);
    sim.setFaults({ status: 500 });
    try {
      expect((await chat('log-5xx-1')).status).toBeGreaterThanOrEqual(500);
    } finally {
      sim.setFaults(null);
    }
    await waitFor(() => accessLines('log-404-1').length + accessLines('log-5xx-1').length === 2, 10_000, 'lines');
    expect(accessLines('log-404-1')[0]).toMatchObject({ level: 30, status: 404, errorCode: 'model_not_found' });
    expect(accessLines('log-5xx-1')[0]).toMatchObject({ level: 40, attempts: 3 });
  });

  it('logs a stream the client aborted, with its estimated tokens and cost', async () => {
    sim.setTiming({ itlMs: 20 });
    try {
      const res = await chat('log-abort-1', 'm', { stream: true, max_tokens: 500 });
      expect(res.status).toBe(200);
      const leave = await readUntilMatches(res, /"content":"(?!")/g, 5);
      await leave();
      await waitFor(() => accessLines('log-abort-1').length === 1, 10_000, 'the access-log line');
    } finally {
      sim.setTiming({ itlMs: 0 });
    }
    const line = accessLines('log-abort-1')[0] as Record<string, number | string | boolean>;
    expect(line).toMatchObject({ status: 200, stream: true, usageEstimated: true, costCurrency: 'EUR' });
    expect(line.outputTokens).toBeGreaterThanOrEqual(5);
    expect(line.outputTokens).toBeLessThan(100);
    expect(line.cost).toBeGreaterThan(0);
  });

  it('never writes the API key or the prompt', () => {
    const all = JSON.stringify(lines);
    expect(all).not.toContain(API_KEY);
    expect(all).not.toContain(PROMPT);
  });

  it('redacts credentials logged by any component', () => {
    lines.length = 0;
    proxy.log.info({ headers: { authorization: `Bearer ${API_KEY}` }, backend: { apiKey: API_KEY } }, 'x');
    expect(JSON.stringify(lines)).not.toContain(API_KEY);
  });
});

/** Runs the proxy process on `manifests`, sends one request, stops it and returns its stdout lines. */
async function runProcess(args: string[]): Promise<Array<Record<string, unknown>>> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-log-'));
  const file = join(dir, 'manifests.yaml');
  await writeFile(file, poolManifests({ model: 'm', urls: [`${sim.url}/v1`] }));
  const out: Array<Record<string, unknown>> = [];
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'proxy/src/main.ts',
      '--config',
      file,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--admin-port',
      '0',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '' } },
  );
  let buffered = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const p of parts) if (p.startsWith('{')) out.push(JSON.parse(p));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitFor(() => out.some((l) => l.msg === 'switchyard proxy listening'), 30_000, 'the proxy process');
    const listening = out.find((l) => l.msg === 'switchyard proxy listening') as { port: number; adminPort: number };
    const port = listening.port;
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${listening.adminPort}/readyz`)).status === 200,
      10_000,
      'ready',
    );
    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'process-1' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    });
    expect(res.status).toBe(200);
    await res.text();
  } finally {
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

describe('access log flag', () => {
  it('is on by default and off with --access-log=false', async () => {
    const on = await runProcess([]);
    expect(on.filter((l) => l.msg === 'request' && l.requestId === 'process-1')).toHaveLength(1);
    const off = await runProcess(['--access-log=false']);
    expect(off.some((l) => l.msg === 'switchyard proxy stopped')).toBe(true);
    expect(off.filter((l) => l.msg === 'request')).toHaveLength(0);
  }, 90_000);
});
