/**
 * The quickstart as a user runs it: `bash scripts/start.sh` (what `npm start` runs) on free ports, driven with the
 * official `openai` SDK, then stopped with Ctrl-C (SIGINT to its process group), which must exit 0 and free every port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../bench/lib.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let child: ChildProcess;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let output = '';
let simPorts: number[];
let proxyUrl: string;
let adminUrl: string;
let client: OpenAI;

const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}\n${output}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Whether a TCP connection to 127.0.0.1:`port` is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

beforeAll(async () => {
  simPorts = [await freePort()];
  while (simPorts.length < 2) {
    const p = await freePort();
    if (!simPorts.includes(p)) simPorts.push(p);
  }
  child = spawn('bash', ['scripts/start.sh'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', ADMIN_PORT: '0', SIM_PORTS: simPorts.join(','), LOG_LEVEL: 'warn' },
    detached: true, // its own process group, as a terminal's foreground job
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const banner = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('Ctrl-C to stop.')) resolve();
    });
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.once('exit', (code, signal) => reject(new Error(`quickstart exited (${code ?? signal}) early:\n${output}`)));
  });
  await within(banner, 60_000, 'the quickstart banner');
  proxyUrl = output.match(/^\s*proxy\s+(http:\/\/\S+)\/v1\s/m)?.[1] ?? '';
  adminUrl = output.match(/^\s*admin\s+(http:\/\/\S+)\s/m)?.[1] ?? '';
  expect(proxyUrl, output).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(adminUrl, output).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  client = new OpenAI({ baseURL: `${proxyUrl}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 10_000 });
}, 90_000);

afterAll(async () => {
  if (!running()) return;
  process.kill(-(child.pid as number), 'SIGKILL');
  await within(exited, 5000, 'the killed quickstart to exit').catch(() => undefined);
});

describe('npm start (quickstart)', () => {
  it('prints the real proxy, admin and replica URLs', () => {
    expect(new URL(proxyUrl).port).not.toBe('8080');
    expect(new URL(adminUrl).port).not.toBe('9090');
    expect(output).toContain(`upstreams  http://127.0.0.1:${simPorts[0]}, http://127.0.0.1:${simPorts[1]} `);
    expect(output).toContain(`baseURL: '${proxyUrl}/v1'`);
  });

  it('completes a chat for llama-3.1-8b through the OpenAI SDK', async () => {
    const r = await client.chat.completions.create({
      model: 'llama-3.1-8b',
      messages: [{ role: 'user', content: 'Hello!' }],
      max_tokens: 8,
    });
    expect(r.model).toBe('llama-3.1-8b');
    expect(r.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it('streams a chat completion to its end', async () => {
    const stream = await client.chat.completions.create({
      model: 'llama-3.1-8b',
      messages: [{ role: 'user', content: 'Hello!' }],
      max_tokens: 8,
      stream: true,
    });
    let chunks = 0;
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(chunks).toBeGreaterThan(1);
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe('length');
  });

  it('served both chats from the simulated replicas on the requested ports', async () => {
    let chats = 0;
    for (const port of simPorts) {
      const res = await fetch(`http://127.0.0.1:${port}/_sim/requests`, { signal: AbortSignal.timeout(5000) });
      const requests = (await res.json()) as { path: string }[];
      chats += requests.filter((r) => r.path === '/v1/chat/completions').length;
    }
    expect(chats).toBe(2);
  });

  it('lists the quickstart models', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids.sort()).toEqual(['llama', 'llama-3.1-8b', 'text-embedding-small']);
  });

  it('is ready on the admin port', async () => {
    const res = await fetch(`${adminUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
  });

  it('stops on Ctrl-C with exit code 0 and frees its ports', async () => {
    process.kill(-(child.pid as number), 'SIGINT');
    expect(await within(exited, 5000, 'the quickstart to exit on SIGINT')).toEqual({ code: 0, signal: null });
    const ports = [Number(new URL(proxyUrl).port), Number(new URL(adminUrl).port), ...simPorts];
    for (const port of ports) expect(await refused(port), `port ${port} still open`).toBe(true);
  });
});
