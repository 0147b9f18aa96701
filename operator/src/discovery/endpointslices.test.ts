import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '../k8s/objects.js';
import { resolveServicePort } from './endpointslices.js';

const svc: Service = {
  metadata: { name: 'vllm', namespace: 'ns' },
  spec: { ports: [{ name: 'http', port: 80, targetPort: 8000 }] },
};
const slice = (endpoints: EndpointSlice['endpoints'], name = 's1'): EndpointSlice => ({
  metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': 'vllm' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8000, protocol: 'TCP' }],
  endpoints,
});

describe('resolveServicePort', () => {
  it('returns one endpoint per ready address, by port number or name, on the slice port', () => {
    const slices = [
      slice([
        { addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'vllm-0' } },
        { addresses: ['10.0.0.2'], conditions: {} },
        { addresses: ['10.0.0.3'], conditions: { ready: false } },
      ]),
      slice([{ addresses: ['10.0.0.1'], conditions: { ready: true }, targetRef: { name: 'vllm-0' } }], 's2'),
    ];
    const byNumber = resolveServicePort(svc, slices, 80);
    expect(byNumber?.ready.map((e) => e.address)).toEqual(['10.0.0.1:8000', '10.0.0.2:8000']);
    expect(byNumber?.ready[0]?.name).toBe('vllm-0');
    expect(byNumber?.ready[1]?.name).toMatch(/^ep-[0-9a-f]{10}$/);
    expect(byNumber?.total).toBe(3);
    expect(resolveServicePort(svc, slices, 'http')).toEqual(byNumber);
  });

  it('is undefined for a missing Service or port', () => {
    expect(resolveServicePort(undefined, [], 80)).toBeUndefined();
    expect(resolveServicePort(svc, [], 81)).toBeUndefined();
    expect(resolveServicePort(svc, [], 'grpc')).toBeUndefined();
  });

  it('falls back to serving terminating endpoints only when none is ready', () => {
    const terminating = { addresses: ['10.0.0.9'], conditions: { ready: false, serving: true, terminating: true } };
    expect(resolveServicePort(svc, [slice([terminating])], 80)?.ready.map((e) => e.address)).toEqual(['10.0.0.9:8000']);
    const both = [slice([terminating, { addresses: ['10.0.0.1'], conditions: { ready: true } }])];
    expect(resolveServicePort(svc, both, 80)?.ready.map((e) => e.address)).toEqual(['10.0.0.1:8000']);
  });

  it('brackets IPv6 addresses', () => {
    const s = { ...slice([{ addresses: ['fd00::1'] }]), addressType: 'IPv6' };
    expect(resolveServicePort(svc, [s], 80)?.ready[0]?.address).toBe('[fd00::1]:8000');
  });
});
