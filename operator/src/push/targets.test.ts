import { describe, expect, it } from 'vitest';
import type { EndpointSlice } from '../k8s/objects.js';
import { proxyTargets } from './targets.js';

const slice = (port: number, eps: EndpointSlice['endpoints']): EndpointSlice => ({
  metadata: { name: `s${port}`, namespace: 'sys' },
  addressType: 'IPv4',
  ports: [{ name: 'admin', port, protocol: 'TCP' }],
  endpoints: eps,
});

describe('proxyTargets', () => {
  const slices = [
    slice(9090, [
      { addresses: ['10.0.0.1'], conditions: { ready: false }, targetRef: { name: 'proxy-0' } },
      { addresses: ['10.0.0.2'], conditions: { ready: false, terminating: true } },
    ]),
    slice(9191, [{ addresses: ['10.0.0.3'], conditions: { ready: true }, targetRef: { name: 'proxy-1' } }]),
  ];

  it('includes not-ready proxies (they become ready by push) and skips terminating ones', () => {
    expect(proxyTargets(slices, 9000)).toEqual([
      { name: 'proxy-0', url: 'http://10.0.0.1:9000' },
      { name: 'proxy-1', url: 'http://10.0.0.3:9000' },
    ]);
  });

  it('reads the port of a named Service port from each slice', () => {
    expect(proxyTargets(slices, 'admin').map((t) => t.url)).toEqual(['http://10.0.0.1:9090', 'http://10.0.0.3:9191']);
  });
});
