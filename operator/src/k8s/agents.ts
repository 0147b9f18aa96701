/**
 * One keep-alive https.Agent per TLS material (CA, client certificate and key, verification settings). While the
 * material stays the same every request shares one agent and its connections; when it changes (rotated files) the
 * next request gets a new agent and the old one is retired: its idle connections are closed at once, busy ones (a
 * watch) when their request ends, so every new connection presents the new certificate and trusts the new CA.
 * Material that does not load (a certificate whose new key is not written yet) keeps the current agent and is
 * tried again with the next request.
 */
import { createHash, KeyObject } from 'node:crypto';
import https from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { TlsSettings } from './kubeconfig.js';

function part(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map(part).join('|');
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (v instanceof KeyObject) return part(v.export({ type: 'pkcs8', format: 'der' }));
  if (typeof v === 'object' && 'pem' in v) return part(v.pem); // { pem, passphrase }
  return String(v);
}

/** A digest of the material; equal material, equal digest. */
function fingerprint(tls: TlsSettings): string {
  const h = createHash('sha256');
  for (const v of [tls.ca, tls.cert, tls.key, tls.rejectUnauthorized, tls.servername]) h.update(part(v)).update('\0');
  return h.digest('hex');
}

export class TlsAgents {
  private current: { fingerprint: string; agent: https.Agent } | undefined;
  private lastInvalid = '';
  /** Number of times the material changed after the first agent (for tests and logs). */
  rotations = 0;

  constructor(private readonly log?: Logger) {}

  /** The agent for this material: the current one, or a new one when the material changed and loads. */
  agentFor(tls: TlsSettings): https.Agent {
    const fp = fingerprint(tls);
    if (this.current?.fingerprint === fp) return this.current.agent;
    try {
      createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
    } catch (err) {
      if (!this.current) throw err;
      if (this.lastInvalid !== fp) {
        this.lastInvalid = fp;
        this.log?.warn({ err: String(err) }, 'new TLS credentials do not load yet; keeping the current ones');
      }
      return this.current.agent;
    }
    const previous = this.current;
    this.current = { fingerprint: fp, agent: new https.Agent({ keepAlive: true, ...tls }) };
    if (previous) {
      this.rotations++;
      this.log?.info('TLS credentials changed (CA or client certificate); new connections use them');
      retire(previous.agent);
    }
    return this.current.agent;
  }

  /** Closes every connection. */
  destroy(): void {
    this.current?.agent.destroy();
    this.current = undefined;
  }
}

/** Closes an agent's idle connections now and each busy one when its request ends. */
function retire(agent: https.Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
  agent.on('free', (socket) => socket.destroy());
}
