/**
 * Test certificates without openssl: a CA and the leaf certificates it signs, as PEM, built from DER by hand
 * (X.509 v3, ECDSA P-256 with SHA-256). Just what TLS tests need: a subject (CN, optional O), basic constraints,
 * subject alternative names (IP addresses, DNS names). Node (OpenSSL) and Go (kube-apiserver) accept them.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isIPv4 } from 'node:net';

const len = (n: number): Buffer => {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
};
const tlv = (tag: number, content: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), len(content.length), content]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, content: Buffer) => tlv(0xa0 + n, content);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));

/** A non-negative INTEGER in minimal DER form. */
function integer(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const v = bytes.subarray(i);
  return tlv(0x02, (v[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime (years 1950–2049), YYMMDDHHMMSSZ. */
function utcTime(d: Date): Buffer {
  const iso = d.toISOString();
  const s = `${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return tlv(0x17, Buffer.from(s, 'ascii'));
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

/** A distinguished name; `o` is the organization (Kubernetes reads it as the user's group). */
export interface Subject {
  cn: string;
  o?: string;
}

const name = ({ cn, o }: Subject) =>
  seq(...(o ? [set(seq(oid('2.5.4.10'), utf8(o)))] : []), set(seq(oid('2.5.4.3'), utf8(cn))));

/** A certificate and its private key, both PEM. */
export interface KeyPair {
  certPem: string;
  keyPem: string;
}

/** A CA: its certificate and key, able to sign leaves. */
export interface CertificateAuthority extends KeyPair {
  subject: Subject;
  key: KeyObject;
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function certificate(opts: {
  subject: Subject;
  issuer: Subject;
  publicKey: KeyObject;
  signer: KeyObject;
  ca: boolean;
  altNames?: string[];
}): string {
  const now = Date.now();
  const extensions = [seq(oid('2.5.29.19'), bool(true), octets(opts.ca ? seq(bool(true)) : seq()))];
  if (opts.altNames?.length) {
    const names = opts.altNames.map((n) =>
      isIPv4(n) ? tlv(0x87, Buffer.from(n.split('.').map(Number))) : tlv(0x82, Buffer.from(n, 'ascii')),
    );
    extensions.push(seq(oid('2.5.29.17'), octets(seq(...names))));
  }
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(randomBytes(16)),
    ECDSA_SHA256,
    name(opts.issuer),
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 24 * 3600_000))),
    name(opts.subject),
    opts.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(...extensions)),
  );
  return pem('CERTIFICATE', seq(tbs, ECDSA_SHA256, bits(sign('sha256', tbs, opts.signer))));
}

const newKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyPem = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();

/** A self-signed CA valid from an hour ago for a day. */
export function createCa(cn: string): CertificateAuthority {
  const { publicKey, privateKey } = newKey();
  const subject = { cn };
  const certPem = certificate({ subject, issuer: subject, publicKey, signer: privateKey, ca: true });
  return { subject, key: privateKey, certPem, keyPem: keyPem(privateKey) };
}

/** A leaf certificate signed by `ca`; `altNames` (IPv4 addresses or DNS names) make it a serving certificate. */
export function issue(ca: CertificateAuthority, subject: Subject, altNames: string[] = []): KeyPair {
  const { publicKey, privateKey } = newKey();
  const certPem = certificate({ subject, issuer: ca.subject, publicKey, signer: ca.key, ca: false, altNames });
  return { certPem, keyPem: keyPem(privateKey) };
}
