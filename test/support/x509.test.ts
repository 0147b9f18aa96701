import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { createCa, issue } from './x509.js';

describe('test certificates', () => {
  it('builds a CA and leaves that OpenSSL parses and verifies', () => {
    const ca = createCa('test-ca');
    const leaf = issue(ca, { cn: 'alice', o: 'system:masters' }, ['127.0.0.1', 'localhost']);
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(leaf.certPem);
    expect(caCert.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.subject).toBe('O=system:masters\nCN=alice');
    expect(cert.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost');
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.verify(new X509Certificate(createCa('other').certPem).publicKey)).toBe(false);
  });

  it('serve and authenticate a mutual TLS connection', async () => {
    const ca = createCa('test-ca');
    const serving = issue(ca, { cn: 'server' }, ['127.0.0.1']);
    const client = issue(ca, { cn: 'bob' });
    const server = https.createServer(
      { cert: serving.certPem, key: serving.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: true },
      (req, res) => res.end((req.socket as TLSSocket).getPeerCertificate().subject.CN),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const cn = await new Promise<string>((resolve, reject) => {
        https
          .get(
            { host: '127.0.0.1', port, ca: ca.certPem, cert: client.certPem, key: client.keyPem, agent: false },
            (res) => {
              let body = '';
              res.on('data', (c) => {
                body += c;
              });
              res.on('end', () => resolve(body));
            },
          )
          .on('error', reject);
      });
      expect(cn).toBe('bob');
    } finally {
      server.close();
    }
  });
});
