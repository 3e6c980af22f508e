/**
 * A throwaway certificate authority, made fresh for each run and never
 * written to disk with its key: only its certificate is written, for the
 * system under test to trust. Node's crypto makes the keys (RSA 2048,
 * natively); node-forge builds and signs the X.509 certificates, which Node
 * cannot do by itself.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type Forge from 'node-forge';

// Loaded on first use: a run without a TLS proxy never pays its start-up (≈ 0.2 s).
let forgeModule: typeof Forge | undefined;
const forgeLib = (): typeof Forge => (forgeModule ??= createRequire(import.meta.url)('node-forge') as typeof Forge);

/** A certificate and its private key, PEM. */
export interface CertPair {
  cert: string;
  key: string;
}

/** What a leaf certificate says. */
export interface LeafOptions {
  /** Names and addresses it is valid for (subjectAltName): DNS names and IP literals. */
  hosts: string[];
  notBefore: Date;
  notAfter: Date;
  /** Subject common name (default: the first host). */
  commonName?: string;
  /** Reuse this private key (PEM) instead of making a new one: signing is fast, key generation is not. */
  key?: string;
}

/** The names a proxy on loopback answers to. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1'];

const DAY = 86_400_000;

function newKeys(reuse?: string): { privateKey: Forge.pki.rsa.PrivateKey; publicKey: Forge.pki.rsa.PublicKey; pem: string } {
  const forge = forgeLib();
  const pem = reuse ?? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(pem) as Forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e), pem };
}

/** A positive serial number (the top bit clear, as DER integers are signed). */
function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  return b.toString('hex');
}

export class ThrowawayCa {
  /** The CA's certificate, PEM: what clients must trust. */
  readonly cert: string;
  readonly name: string;
  private readonly caCert: Forge.pki.Certificate;
  private readonly caKey: Forge.pki.rsa.PrivateKey;

  /** A new CA, valid from a day ago for 30 days (so a skewed clock still trusts it). */
  constructor(name = 'faultline throwaway CA') {
    const forge = forgeLib();
    const keys = newKeys();
    const c = forge.pki.createCertificate();
    c.publicKey = keys.publicKey;
    c.serialNumber = serial();
    const now = Date.now();
    c.validity.notBefore = new Date(now - DAY);
    c.validity.notAfter = new Date(now + 30 * DAY);
    const subject = [
      { name: 'commonName', value: `${name} ${randomBytes(4).toString('hex')}` },
      { name: 'organizationName', value: 'faultline' },
    ];
    c.setSubject(subject);
    c.setIssuer(subject);
    c.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ]);
    c.sign(keys.privateKey, forge.md.sha256.create());
    this.caCert = c;
    this.caKey = keys.privateKey;
    this.cert = forge.pki.certificateToPem(c);
    this.name = String(c.subject.getField('CN').value);
  }

  /** A server certificate signed by this CA, with a key of its own. */
  issue(o: LeafOptions): CertPair {
    const forge = forgeLib();
    const keys = newKeys(o.key);
    const c = forge.pki.createCertificate();
    c.publicKey = keys.publicKey;
    c.serialNumber = serial();
    c.validity.notBefore = o.notBefore;
    c.validity.notAfter = o.notAfter;
    c.setSubject([{ name: 'commonName', value: o.commonName ?? o.hosts[0] ?? 'faultline' }]);
    c.setIssuer(this.caCert.subject.attributes);
    c.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: o.hosts.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.caCert.generateSubjectKeyIdentifier().getBytes() },
    ]);
    c.sign(this.caKey, forge.md.sha256.create());
    return { cert: forge.pki.certificateToPem(c), key: keys.pem };
  }

  /** A certificate valid now for the loopback names, for `days` days. */
  issueValid(hosts: string[] = LOOPBACK_HOSTS, days = 7): CertPair {
    const now = Date.now();
    return this.issue({ hosts, notBefore: new Date(now - DAY), notAfter: new Date(now + days * DAY) });
  }
}
