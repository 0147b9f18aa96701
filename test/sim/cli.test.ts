import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

describe('simulator CLI', () => {
  it('starts replicas, prints their URLs, and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        '--flavour',
        'llamacpp',
        '--port',
        '0',
        '--replicas',
        '2',
        '--model',
        'm1',
        '--itl-ms',
        '1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    try {
      await waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`CLI exited: ${out}${err}`);
          return out.includes('ready\n');
        },
        15_000,
        'the CLI to print ready',
      );
      const urls = [...out.matchAll(/^sim llamacpp-\d llamacpp (http:\S+)$/gm)].map((m) => m[1]!);
      expect(urls).toHaveLength(2);
      for (const url of urls) {
        const r = await fetch(`${url}/health`);
        expect(await r.json()).toEqual({ status: 'ok' });
      }
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('rejects bad options with exit code 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--flavour', 'tgi'], { stdio: 'ignore' });
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
  });
});
