/**
 * The sink of an answer that response-side guardrails check. A whole (non-streamed) 200 JSON answer is held, its
 * texts checked, and written masked — or not at all when a guardrail denies it (the stage then answers the error in
 * the surface's shape). A stream's head goes out at once and its events flow through a StreamWindow: text waits in
 * the window, everything else passes in order once the text before it was released; a denial ends the stream with
 * the surface's error event and aborts the upstream. Events are processed in order, one at a time; while checks run
 * (an external call) the sink reports backpressure so the relay pauses the upstream. Events that number themselves
 * (the Responses API's `sequence_number`) are numbered again as written, since released text may add events.
 */

import type { GatewayError } from '../errors.js';
import { DelegatingSink } from '../http/delegating-sink.js';
import type { ResponseSink } from '../http/sink.js';
import type { Operation } from '../protocols/catalog.js';
import type { LocalGuardrail } from './local.js';
import { answerSlots, eventSlots, isPureTextEvent } from './response-texts.js';
import type { StreamWindow } from './stream-window.js';
import type { Guardrail, GuardrailVerdict } from './types.js';

type Json = Record<string, unknown>;

/** What a denial needs to say, and to whom. */
export interface ResponseDenial {
  guardrail: string;
  verdict: GuardrailVerdict;
}

export interface GuardSinkOptions {
  operation: Operation;
  /** Checks a whole answer's texts with every guardrail in order: the texts to send, or a denial. */
  checkAnswer(texts: string[]): Promise<{ texts: string[] } | { denied: ResponseDenial }>;
  window: StreamWindow;
  /** The stream error event of the surface for a denial. */
  streamError(denial: ResponseDenial): GatewayError;
  /** The stream error event for `error`; `sequence` is the next event number of a self-numbered stream. */
  renderStreamError(error: GatewayError, sequence: number): string;
}

/** Most bytes queued for checking before the sink asks the relay to pause the upstream. */
const HIGH_WATER = 64 * 1024;

interface Event {
  /** The lines before `data:` (SSE `event:` lines). */
  head: string;
  data: Json | undefined;
  /** The event as it came, for events left alone. */
  raw: string;
}

/** A sink checking what goes through it; see the module comment. */
export class GuardSink extends DelegatingSink {
  private mode: 'undecided' | 'whole' | 'sse' | 'ndjson' | 'pass' = 'undecided';
  private head: { status: number; headers: Record<string, string> } | undefined;
  private body = '';
  private partial = '';
  private queue: Promise<void> = Promise.resolve();
  private queuedBytes = 0;
  private drainWaiters: Array<() => void> = [];
  private aborts: Array<() => void> = [];
  private ended = false;
  private readonly templates = new Map<string, Event>();
  /** The number the next self-numbered event gets. */
  private sequence = 0;
  /** Set when a guardrail denied the answer. */
  denial: ResponseDenial | undefined;

  constructor(
    inner: ResponseSink,
    private readonly o: GuardSinkOptions,
  ) {
    super(inner);
  }

  override writeHead(status: number, headers: Record<string, string>): void {
    const type = headers['content-type'] ?? '';
    if (status !== 200) this.mode = 'pass';
    else if (type.startsWith('text/event-stream')) this.mode = 'sse';
    else if (type.startsWith('application/x-ndjson')) this.mode = 'ndjson';
    else if (type.startsWith('application/json')) this.mode = 'whole';
    else this.mode = 'pass';
    if (this.mode === 'whole') this.head = { status, headers };
    else super.writeHead(status, headers);
  }

  override get closed(): boolean {
    return this.ended || super.closed;
  }

  override write(chunk: string | Buffer): boolean {
    if (this.ended) return true;
    if (this.mode === 'pass') return super.write(chunk);
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.mode === 'whole') {
      this.body += text;
      return true;
    }
    this.enqueue(text, false);
    return this.queuedBytes < HIGH_WATER;
  }

  override onceDrain(cb: () => void): void {
    if (this.queuedBytes < HIGH_WATER) super.onceDrain(cb);
    else this.drainWaiters.push(cb);
  }

  override end(chunk?: string | Buffer): void {
    if (this.ended) return;
    if (this.mode === 'pass') {
      this.ended = true;
      super.end(chunk);
      return;
    }
    const text = chunk === undefined ? '' : typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.mode === 'whole') {
      this.ended = true;
      this.body += text;
      this.queue = this.queue.then(() => this.finishWhole());
      return;
    }
    this.enqueue(text, true);
  }

  override onAbort(cb: () => void): void {
    this.aborts.push(cb);
    super.onAbort(cb);
  }

  /** Resolves once everything written so far was checked and passed on. */
  settled(): Promise<void> {
    return this.queue;
  }

  private enqueue(text: string, last: boolean) {
    this.queuedBytes += text.length;
    if (last) this.ended = true;
    this.queue = this.queue.then(async () => {
      try {
        await this.process(text, last);
      } finally {
        this.queuedBytes -= text.length;
        if (this.queuedBytes < HIGH_WATER) for (const cb of this.drainWaiters.splice(0)) cb();
      }
    });
  }

  private async finishWhole(): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(this.body);
    } catch {
      parsed = undefined;
    }
    const slots = typeof parsed === 'object' && parsed !== null ? answerSlots(this.o.operation, parsed as Json) : [];
    let out = this.body;
    if (slots.length > 0) {
      const r = await this.o.checkAnswer(slots.map((s) => s.get()));
      if ('denied' in r) {
        this.denial = r.denied;
        return;
      }
      if (r.texts.some((t, i) => t !== slots[i]?.get())) {
        r.texts.forEach((t, i) => {
          slots[i]?.set(t);
        });
        out = JSON.stringify(parsed);
      }
    }
    const head = this.head;
    if (head)
      super.writeHead(head.status, {
        ...head.headers,
        ...('content-length' in head.headers ? { 'content-length': String(Buffer.byteLength(out)) } : {}),
      });
    super.end(out);
  }

  /** Splits `text` into complete events (the rest waits for more), checks them in order and writes them on. */
  private async process(text: string, last: boolean): Promise<void> {
    if (this.denial) return;
    const sep = this.mode === 'sse' ? /\r?\n\r?\n/ : /\r?\n/;
    const parts = (this.partial + text).split(sep);
    this.partial = last ? '' : (parts.pop() ?? '');
    const terminator = this.mode === 'sse' ? '\n\n' : '\n';
    let out = '';
    for (const raw of parts) {
      if (raw.trim() === '') continue;
      const written = await this.event(this.parse(raw), terminator);
      if (written === undefined) return this.deny(out);
      out += written;
    }
    if (last) {
      const flushed = await this.flush(true, terminator);
      if (flushed === undefined) return this.deny(out);
      super.end(out + flushed);
    } else if (out.length > 0 && !super.write(out)) await new Promise<void>((r) => super.onceDrain(r));
  }

  private parse(raw: string): Event {
    if (this.mode === 'ndjson') return { head: '', data: jsonObject(raw), raw };
    const lines = raw.split(/\r?\n/);
    const at = lines.findIndex((l) => l.startsWith('data:'));
    const data = at < 0 ? undefined : jsonObject(lines[at]?.slice(5).trim() ?? '');
    return { head: at < 0 ? raw : lines.slice(0, at).join('\n'), data, raw };
  }

  private serialize(e: Event, terminator: string): string {
    if (!e.data) return e.raw + terminator;
    const numbered = typeof e.data.sequence_number === 'number';
    const json = JSON.stringify(numbered ? { ...e.data, sequence_number: this.sequence++ } : e.data);
    if (this.mode === 'ndjson') return json + terminator;
    return `${e.head ? `${e.head}\n` : ''}data: ${json}${terminator}`;
  }

  /** One event, with its texts replaced by what the window releases; undefined when a guardrail denied. */
  private async event(e: Event, terminator: string): Promise<string | undefined> {
    const data = e.data;
    const slots = data ? eventSlots(this.o.operation, data) : [];
    const final = !data || !isPureTextEvent(this.o.operation, data);
    const carried = new Set(slots.map((s) => s.key));
    // A slot's text ends the slots it comes after (a choice's answer ends its reasoning): what they hold leaves first.
    const ending = new Set(slots.filter((s) => s.get() !== '').flatMap((s) => s.after ?? []));
    let out = '';
    if (final || ending.size > 0) {
      // Text held for slots this event does not carry leaves before it.
      const only = final ? undefined : ending;
      const flushed = await this.flush(true, terminator, carried, only);
      if (flushed === undefined) return undefined;
      out += flushed;
    }
    for (const s of slots) {
      const r = await this.o.window.push(s.key, s.get(), final || ending.has(s.key));
      if (r.denied) {
        this.denial = r.denied;
        return undefined;
      }
      s.set(r.text);
      if (data) this.templates.set(s.key, e);
    }
    return out + this.serialize(e, terminator);
  }

  /** Events releasing what is held for every slot (of `only`, when given) not in `except`; undefined on a denial. */
  private async flush(
    final: boolean,
    terminator: string,
    except: Set<string> = new Set(),
    only?: Set<string>,
  ): Promise<string | undefined> {
    let out = '';
    for (const key of this.o.window.heldSlots()) {
      if (except.has(key) || (only && !only.has(key))) continue;
      const r = await this.o.window.push(key, '', final);
      if (r.denied) {
        this.denial = r.denied;
        return undefined;
      }
      const template = this.templates.get(key);
      if (!template?.data || r.text === '') continue;
      const data = structuredClone(template.data);
      for (const s of eventSlots(this.o.operation, data)) s.set(s.key === key ? r.text : '');
      out += this.serialize({ ...template, data }, terminator);
    }
    return out;
  }

  /** Writes what was released before the denial, then the surface's error event, and aborts the upstream. */
  private deny(before: string): void {
    const denial = this.denial;
    if (!denial) return;
    this.ended = true;
    super.end(before + this.o.renderStreamError(this.o.streamError(denial), this.sequence));
    for (const cb of this.aborts.splice(0)) {
      try {
        cb();
      } catch {
        // releasing the upstream must not fail the answer already ended
      }
    }
  }
}

function jsonObject(text: string): Json | undefined {
  if (!text.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** The guardrails of a response, split by how they see a stream. */
export function splitGuardrails(list: readonly Guardrail[]): { local: LocalGuardrail[]; external: Guardrail[] } {
  return {
    local: list.filter((g): g is LocalGuardrail => g.kind === 'local' && 'scan' in g),
    external: list.filter((g) => g.kind !== 'local'),
  };
}
