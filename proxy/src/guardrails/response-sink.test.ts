import { describe, expect, it } from 'vitest';
import { KeptSink } from '../testing/calls.js';
import { localGuardrail } from './local.js';
import { GuardSink } from './response-sink.js';
import { StreamWindow } from './stream-window.js';

type J = Record<string, unknown>;

/** A chat stream through a GuardSink masking emails with a 32-character window; what the client got, in order. */
async function throughSink(chunks: J[]): Promise<Array<{ reasoning: string; content: string }>> {
  const kept = new KeptSink();
  const pii = localGuardrail('pii', { mask: ['email'], deny: [] });
  const sink = new GuardSink(kept, {
    operation: 'chat',
    window: new StreamWindow([pii], [], 32, () => Promise.reject(new Error('no external guardrail'))),
    checkAnswer: (texts) => Promise.resolve({ texts }),
    streamError: () => {
      throw new Error('no denial expected');
    },
    renderStreamError: () => '',
  });
  sink.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const c of chunks) sink.write(`data: ${JSON.stringify(c)}\n\n`);
  sink.end('data: [DONE]\n\n');
  await sink.settled();
  return kept.chunks
    .join('')
    .split('\n')
    .filter((l) => l.startsWith('data: {'))
    .map((l) => {
      const delta = ((JSON.parse(l.slice(6)) as { choices: J[] }).choices[0]?.delta ?? {}) as J;
      return { reasoning: String(delta.reasoning_content ?? ''), content: String(delta.content ?? '') };
    });
}

const chunk = (delta: J, finish: string | null = null) => ({ choices: [{ index: 0, delta, finish_reason: finish }] });

describe('GuardSink: reasoning in a stream', () => {
  it('masks reasoning through the window and releases it all before the answer, even from one shared chunk', async () => {
    const events = await throughSink([
      chunk({ reasoning_content: 'The user wrote from jane.doe@example.com and wants ' }),
      chunk({ reasoning_content: 'the hours of the office on weekdays' }),
      chunk({ reasoning_content: ', so answer.', content: 'It opens at nine on weekdays' }),
      chunk({ content: ' and at ten on weekends, all year long.' }),
      chunk({}, 'stop'),
    ]);
    const reasoning = events.map((e) => e.reasoning).join('');
    expect(reasoning).toBe('The user wrote from [EMAIL] and wants the hours of the office on weekdays, so answer.');
    expect(events.map((e) => e.content).join('')).toBe(
      'It opens at nine on weekdays and at ten on weekends, all year long.',
    );
    const lastReasoning = events.map((e) => e.reasoning !== '').lastIndexOf(true);
    const firstContent = events.findIndex((e) => e.content !== '');
    expect(lastReasoning).toBeLessThanOrEqual(firstContent);
    // The reasoning left in pieces, not all at the end.
    expect(events.filter((e) => e.reasoning !== '').length).toBeGreaterThan(1);
  });
});
