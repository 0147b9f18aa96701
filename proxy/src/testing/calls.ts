/**
 * Test fixture: calls as the surface handler and the stages build them, over a snapshot compiled from manifests.
 * Bodies are validated with their operation's schema, so a fixture is a request a client could send. Not used by
 * the proxy.
 */
import { parseManifests } from '../../../shared/src/manifests/parse.js';
import { translate } from '../../../shared/src/translate/index.js';
import { type AuthorizedCall, newCall } from '../call/call.js';
import { newCallRecord } from '../call/record.js';
import { compileRuntime, type Runtime } from '../config/runtime.js';
import type { ResponseSink } from '../http/sink.js';
import type { Operation } from '../protocols/catalog.js';
import { OPERATION_SURFACE } from '../protocols/catalog.js';
import { CLIENT_OPERATIONS } from '../protocols/clients.js';
import type { ClientRequest } from '../protocols/requests.js';
import { resolveRoute } from '../routing/resolve.js';

/** The runtime of a snapshot translated from `manifests` (YAML). */
export function runtimeOf(manifests: string): Runtime {
  return compileRuntime(translate(parseManifests(manifests)).config);
}

/** A sink that keeps what was written (for calls that are not served over HTTP). */
export class KeptSink implements ResponseSink {
  head: { status: number; headers: Record<string, string> } | undefined;
  chunks: string[] = [];
  ended = false;
  writeHead(status: number, headers: Record<string, string>): void {
    this.head = { status, headers };
  }
  write(chunk: string | Buffer): boolean {
    this.chunks.push(chunk.toString());
    return true;
  }
  onceDrain(cb: () => void): void {
    cb();
  }
  end(chunk?: string | Buffer): void {
    if (chunk !== undefined) this.write(chunk);
    this.ended = true;
  }
  destroy(): void {
    this.ended = true;
  }
  get closed(): boolean {
    return this.ended;
  }
  get headSent(): boolean {
    return this.head !== undefined;
  }
  onAbort(): void {}
  response(): Response {
    return new Response(this.chunks.join(''), this.head);
  }
}

/** The validated request of `operation` with `body`. */
export function clientRequest<O extends Operation>(operation: O, body: object): ClientRequest<O> {
  return { operation, body: CLIENT_OPERATIONS[operation].schema.parse(body) };
}

/** An authorised call of `runtime` (anonymous caller) for `request`, with its route resolved. */
export function authorizedCall(
  runtime: Runtime,
  request: ClientRequest,
  headers: Record<string, string> = {},
): AuthorizedCall {
  const header = (name: string) => headers[name];
  const record = newCallRecord('test-request', Date.now(), OPERATION_SURFACE[request.operation]);
  const call = newCall({ record, request, header, sink: new KeptSink(), runtime });
  return {
    ...call,
    route: resolveRoute(runtime, { model: call.model, header }),
    grant: { identity: undefined, own: undefined, tenant: undefined },
  };
}
