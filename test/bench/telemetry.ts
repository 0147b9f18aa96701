/**
 * Telemetry cost per request, in isolation from the network: runs the hooks one proxied request triggers
 * (pipeline entry, attempt start/first byte/end with usage, request end) N times and prints µs per request for
 * metrics only, metrics + access log (to /dev/null), and metrics + tracing (spans exported nowhere), plus the
 * cost of one /metrics scrape. Usage: npm run bench -- telemetry [--requests N]
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { AuthorizedCall } from '../../proxy/src/call/call.js';
import { Observers } from '../../proxy/src/call/observers.js';
import { summarize } from '../../proxy/src/call/record.js';
import { loadManifests } from '../../proxy/src/config/file-source.js';
import { SnapshotStore } from '../../proxy/src/config/store.js';
import type { PoolMember } from '../../proxy/src/endpoints/member.js';
import { createTelemetry, installTelemetry, type Telemetry } from '../../proxy/src/telemetry/index.js';
import { REDACT_PATHS } from '../../proxy/src/telemetry/logger.js';
import { authorizedCall, clientRequest } from '../../proxy/src/testing/calls.js';
import { poolManifests } from '../support/proxy.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '200000' } } });
const N = Number(values.requests);

const dir = await mkdtemp(join(tmpdir(), 'switchyard-bench-telemetry-'));
await writeFile(
  join(dir, 'm.yaml'),
  poolManifests({ model: 'm', urls: ['http://127.0.0.1:1/v1', 'http://127.0.0.1:2/v1'] }),
);
const { config } = await loadManifests(join(dir, 'm.yaml'));

async function setup(opts: { accessLog: boolean; tracing: boolean }): Promise<{
  t: Telemetry;
  store: SnapshotStore;
  registry: Registry;
}> {
  const store = new SnapshotStore();
  store.apply(config);
  const registry = new Registry();
  const log = pino(
    { level: 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    pino.destination({ dest: '/dev/null', sync: false }),
  );
  const otelEnv = opts.tracing
    ? {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_BSP_MAX_QUEUE_SIZE: '64',
      }
    : {};
  return { t: await createTelemetry({ registry, store, log, accessLog: opts.accessLog, otelEnv }), store, registry };
}

async function run(name: string, opts: { accessLog: boolean; tracing: boolean; none?: boolean }) {
  const real = await setup(opts);
  const { store, registry } = real;
  const observers = new Observers(pino({ level: 'silent' }));
  if (!opts.none) installTelemetry(observers, real.t);
  const rt = store.current;
  if (!rt) throw new Error('no snapshot');
  const pool = rt.pools.values().next().value;
  const member = pool?.tiers[0]?.members[0] as PoolMember;
  const request = clientRequest('chat', {
    model: 'm',
    max_tokens: 8,
    stream: true,
    messages: [{ role: 'user', content: 'hi' }],
  });
  const once = async () => {
    // What the handler, the stages and the pipeline tell observers for one streamed request with one attempt.
    const call: AuthorizedCall = authorizedCall(rt, request);
    const up = call.record.upstream;
    call.record.request = { operation: 'chat', model: 'm', stream: true };
    call.record.enteredAt = performance.now();
    observers.emit('onCallStart', call);
    observers.emit('onAnswering', call);
    up.pool = pool?.config.id;
    up.attempts = 1;
    up.backend = member.endpoint.backend.id;
    up.firstAttemptAt = performance.now();
    observers.emit('onAttemptStart', call, member, 0);
    observers.emit('onUpstreamRequest', call, member, { method: 'POST', path: '/chat/completions', headers: {} });
    observers.emit('onFirstByte', call, member, 1.5);
    observers.emit('onAttemptEnd', call, member, { kind: 'done', usage: { inputTokens: 12, outputTokens: 8 } }, 3);
    up.lastAttemptEndAt = performance.now();
    call.record.usage = { inputTokens: 12, outputTokens: 8, estimated: false };
    observers.emit('onCallEnd', call);
    call.record.response.status = 200;
    observers.emit('onRequestEnd', summarize(call.record), call.record);
  };
  for (let i = 0; i < 20_000; i++) await once(); // warm-up
  let perRequestUs = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    // Best of three: the machine may be busy with other work.
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await once();
    perRequestUs = Math.min(perRequestUs, ((performance.now() - t0) * 1000) / N);
  }
  const s0 = performance.now();
  const text = await registry.metrics();
  const scrapeMs = performance.now() - s0;
  await real.t.shutdown();
  console.log(
    `${name.padEnd(34)} ${perRequestUs.toFixed(2).padStart(7)} µs/request   scrape ${scrapeMs.toFixed(1)} ms (${text.length} bytes)`,
  );
}

console.log(`Telemetry cost per request (best of 3 × ${N} simulated requests, one streamed attempt each)`);
await run('harness only (no telemetry)', { accessLog: false, tracing: false, none: true });
await run('metrics', { accessLog: false, tracing: false });
await run('metrics + access log', { accessLog: true, tracing: false });
await run('metrics + access log + tracing', { accessLog: true, tracing: true });
process.exit(0);
