// `distbuild --gen-certs DIR`: a CA plus server and client certificates and keys, for a quick start with mTLS.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import type { Settings } from '../config/settings.js';

/** The files written, by role. */
export const CERT_FILES = {
  ca: 'ca.pem', caKey: 'ca-key.pem', server: 'server.pem', serverKey: 'server-key.pem', client: 'client.pem', clientKey: 'client-key.pem',
} as const;

const DAY_MS = 86_400_000;

interface Issued {
  readonly cert: forge.pki.Certificate;
  readonly keys: forge.pki.rsa.KeyPair;
}

type AltName = { type: 2; value: string } | { type: 7; ip: string };

function issue(commonName: string, days: number, extensions: object[], issuer?: Issued): Issued {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  // A positive serial: 16 random bytes with the top bit clear.
  cert.serialNumber = `0${forge.util.bytesToHex(forge.random.getBytesSync(16)).slice(1)}`;
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + days * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'distbuild' }]);
  cert.setIssuer((issuer?.cert ?? cert).subject.attributes);
  cert.setExtensions([...extensions, { name: 'subjectKeyIdentifier' }]);
  cert.sign((issuer?.keys ?? keys).privateKey, forge.md.sha256.create());
  return { cert, keys };
}

/** Host names and addresses the server certificate is valid for. */
export function serverNames(extra: readonly string[]): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', os.hostname(), ...extra])];
}

export function generateCerts(dir: string, extraSans: readonly string[]): string[] {
  const written = Object.values(CERT_FILES).map((f) => path.join(dir, f));
  const existing = written.filter((f) => existsSync(f));
  if (existing.length > 0) throw new Error(`refusing to overwrite ${existing.join(', ')}: remove them or choose another directory`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = issue('distbuild CA', 3650, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  const altNames: AltName[] = serverNames(extraSans).map((n) => (isIP(n) !== 0 ? { type: 7, ip: n } : { type: 2, value: n }));
  const leaf = (usage: object): object[] => [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    usage,
  ];
  const server = issue(os.hostname(), 825, [...leaf({ name: 'extKeyUsage', serverAuth: true }), { name: 'subjectAltName', altNames }], ca);
  const client = issue('distbuild client', 825, leaf({ name: 'extKeyUsage', clientAuth: true }), ca);
  const files: Array<[string, string, number]> = [
    [CERT_FILES.ca, forge.pki.certificateToPem(ca.cert), 0o644],
    [CERT_FILES.caKey, forge.pki.privateKeyToPem(ca.keys.privateKey), 0o600],
    [CERT_FILES.server, forge.pki.certificateToPem(server.cert), 0o644],
    [CERT_FILES.serverKey, forge.pki.privateKeyToPem(server.keys.privateKey), 0o600],
    [CERT_FILES.client, forge.pki.certificateToPem(client.cert), 0o644],
    [CERT_FILES.clientKey, forge.pki.privateKeyToPem(client.keys.privateKey), 0o600],
  ];
  for (const [name, pem, mode] of files) writeFileSync(path.join(dir, name), pem, { mode, flag: 'wx' });
  return written;
}

export function genCertsCommand(dir: string, settings: Settings): number {
  const abs = path.resolve(dir);
  try {
    generateCerts(abs, settings.genCertsSan);
  } catch (err) {
    process.stderr.write(`distbuild: --gen-certs: ${(err as Error).message}\n`);
    return 1;
  }
  const f = (name: string): string => JSON.stringify(path.join(abs, name));
  process.stdout.write(
    `wrote a CA, a server and a client certificate with their keys (0600) to ${abs}\n` +
      `server certificate valid for: ${serverNames(settings.genCertsSan).join(', ')} (more with --gen-certs-san=NAME,...)\n\n` +
      `# server (distbuild.toml): TLS, and only clients with a certificate of this CA (mTLS)\n` +
      `tls_cert = ${f(CERT_FILES.server)}\ntls_key = ${f(CERT_FILES.serverKey)}\ntls_ca = ${f(CERT_FILES.ca)}\n\n` +
      `# workers, agents and --status: verify the server, present the client certificate\n` +
      `tls_cert = ${f(CERT_FILES.client)}\ntls_key = ${f(CERT_FILES.clientKey)}\ntls_ca = ${f(CERT_FILES.ca)}\n\n` +
      `Keep ${CERT_FILES.caKey} offline: whoever holds it can issue client certificates.\n`,
  );
  return 0;
}
