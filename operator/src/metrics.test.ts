import { describe, expect, it } from 'vitest';
import { createOperatorMetrics } from './metrics.js';

/** Series of `name` in the exposition text, e.g. `switchyard_operator_pushes_total{proxy="a",result="ok"} 1`. */
async function series(m: ReturnType<typeof createOperatorMetrics>, name: string): Promise<string[]> {
  const text = await m.registry.metrics();
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('operator metrics', () => {
  it('label reconciles and queue wait by controller, pushes by proxy pod', async () => {
    const m = createOperatorMetrics();
    const labels = Object.fromEntries(
      (await m.registry.getMetricsAsJSON()).map((x) => [
        x.name,
        [...new Set(x.values.flatMap((v) => Object.keys(v.labels)))],
      ]),
    );
    m.reconciles.inc({ controller: 'llmpool', result: 'ok' });
    m.queueWaitSeconds.observe({ controller: 'snapshot' }, 0.02);
    m.pushes.inc({ proxy: 'proxy-0', result: 'ok' });
    m.pushSeconds.observe({ proxy: 'proxy-0', result: 'ok' }, 0.01);
    expect(Object.keys(labels)).toContain('switchyard_operator_queue_wait_seconds');
    expect(await series(m, 'switchyard_operator_reconciles_total')).toEqual([
      'switchyard_operator_reconciles_total{controller="llmpool",result="ok"} 1',
    ]);
    expect(await series(m, 'switchyard_operator_queue_wait_seconds_count')).toEqual([
      'switchyard_operator_queue_wait_seconds_count{controller="snapshot"} 1',
    ]);
    expect(await series(m, 'switchyard_operator_pushes_total')).toEqual([
      'switchyard_operator_pushes_total{proxy="proxy-0",result="ok"} 1',
    ]);
  });

  it('forgetProxy removes every series of a departed proxy pod, and only its own', async () => {
    const m = createOperatorMetrics();
    for (const proxy of ['proxy-0', 'proxy-1']) {
      for (const result of ['ok', 'rejected', 'error'] as const) {
        m.pushes.inc({ proxy, result });
        m.pushSeconds.observe({ proxy, result }, 0.1);
      }
    }
    m.forgetProxy('proxy-0');
    const text = await m.registry.metrics();
    expect(text).not.toContain('proxy="proxy-0"');
    expect(await series(m, 'switchyard_operator_pushes_total')).toHaveLength(3);
    expect(await series(m, 'switchyard_operator_push_duration_seconds_count')).toHaveLength(3);
  });
});
