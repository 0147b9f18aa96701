import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors.js';
import { fakeBackend } from '../../scheduling/testing/members.js';
import type { AttemptContext } from '../types.js';
import { AnthropicPassthroughStream } from './passthrough-stream.js';

const ctx: AttemptContext = {
  stream: true,
  publicModel: 'claude',
  upstreamModel: 'claude-upstream',
  backend: fakeBackend(),
  clientWantsUsage: true,
  header: () => undefined,
};

const event = (name: string, data: string) => `event: ${name}\ndata: ${data}\n\n`;
const start = event(
  'message_start',
  '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-upstream","content":[],"usage":{"input_tokens":3,"output_tokens":0}}}',
);

describe('AnthropicPassthroughStream', () => {
  it('relays a well-formed ping as it came and reports the public model in message_start', () => {
    const s = new AnthropicPassthroughStream(ctx);
    const ping = event('ping', '{"type":"ping"}');
    const out = s.push(Buffer.from(start + ping));
    expect(out).toContain('"model":"claude"');
    expect(out.endsWith(ping)).toBe(true);
  });

  it('fails the attempt on a malformed ping instead of relaying it (found by the upstream fuzzer)', () => {
    const s = new AnthropicPassthroughStream(ctx);
    s.push(Buffer.from(start));
    let thrown: unknown;
    try {
      s.push(Buffer.from(event('ping', '{"typ')));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).status).toBe(502);
    expect(s.complete()).toBe(false);
  });

  it('fails the attempt on a ping whose data is not a JSON object', () => {
    const s = new AnthropicPassthroughStream(ctx);
    expect(() => s.push(Buffer.from(start + event('ping', '[1]')))).toThrow(GatewayError);
  });
});
