// TLS set-up: --gen-certs writes usable certificates; TLS settings are checked; mTLS counts as authentication.
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { CERT_FILES } from '../src/cli/gen-certs-command.js';
import { BIN, childEnv, clientTlsEnv, serverTlsEnv, waitForLine } from './helpers/farm.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'distbuild-tls-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const certs = path.join(dir, 'certs');
const env = { ...childEnv(), DISTBUILD_TOKEN: '' };
const run = (args: string[], extra: Record<string, string> = {}) => execa(process.execPath, [BIN, ...args], { env: { ...env, ...extra }, reject: false });

t.test('--gen-certs writes a CA, server and client certificates, keys readable only by their owner', async (t) => {
  const r = await run(['--gen-certs', certs, '--gen-certs-san=build.example.com,10.1.2.3']);
  t.equal(r.exitCode, 0, r.stderr);
  t.match(r.stdout, /tls_ca = ".*ca\.pem"/, 'it prints the settings to use');
  for (const key of [CERT_FILES.caKey, CERT_FILES.serverKey, CERT_FILES.clientKey]) t.equal(statSync(path.join(certs, key)).mode & 0o777, 0o600, `${key} is 0600`);
  const ca = new X509Certificate(readFileSync(path.join(certs, CERT_FILES.ca)));
  const server = new X509Certificate(readFileSync(path.join(certs, CERT_FILES.server)));
  const client = new X509Certificate(readFileSync(path.join(certs, CERT_FILES.client)));
  t.ok(ca.ca, 'the CA is a CA');
  t.ok(server.verify(ca.publicKey) && client.verify(ca.publicKey), 'both are signed by it');
  for (const name of ['DNS:localhost', 'IP Address:127.0.0.1', `DNS:${os.hostname()}`, 'DNS:build.example.com', 'IP Address:10.1.2.3']) t.match(server.subjectAltName ?? '', name);
  t.ok(server.checkHost('localhost') !== undefined && server.checkIP('127.0.0.1') !== undefined, 'valid for this host');
  const again = await run(['--gen-certs', certs]);
  t.equal(again.exitCode, 1);
  t.match(again.stderr, /refusing to overwrite .*ca\.pem/);
  const noDir = await run(['--gen-certs']);
  t.equal(noDir.exitCode, 2);
  t.match(noDir.stderr, /--gen-certs needs a directory/);
});

t.test('TLS settings are checked at start-up, naming the setting', async (t) => {
  const s = serverTlsEnv(certs);
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ DISTBUILD_TLS_CERT: s.DISTBUILD_TLS_CERT ?? '' }, /tls_cert and tls_key go together: tls_cert is set without the other/],
    [{ DISTBUILD_TLS_CA: s.DISTBUILD_TLS_CA ?? '' }, /tls_ca is set on the server without tls_cert and tls_key/],
    [{ ...s, DISTBUILD_TLS_KEY: path.join(dir, 'missing.pem') }, /cannot read tls_key .*missing\.pem/],
    [{ ...s, DISTBUILD_TLS_CERT: path.join(certs, '..', 'certs') }, /cannot read tls_cert/],
  ];
  for (const [extra, why] of cases) {
    const r = await run(['--server', '--listen=127.0.0.1:0'], extra);
    t.equal(r.exitCode, 2, `refused: ${Object.keys(extra).join(' ')}`);
    t.match(r.stderr, why);
  }
  const tlsOnly = await run(['--server', '--listen=0.0.0.0:0'], { DISTBUILD_TLS_CERT: s.DISTBUILD_TLS_CERT ?? '', DISTBUILD_TLS_KEY: s.DISTBUILD_TLS_KEY ?? '' });
  t.equal(tlsOnly.exitCode, 2, 'TLS without client certificates or a token is no authentication');
  t.match(tlsOnly.stderr, /refusing to listen on 0\.0\.0\.0:0 without authentication.*tls_ca/);
});

t.test('with mTLS the server may listen beyond loopback without a token; clients with the certificates reach it', async (t) => {
  const server = spawn(process.execPath, [BIN, '--server', '--listen=0.0.0.0:0'], { env: { ...env, ...serverTlsEnv(certs) }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => server.kill('SIGKILL'));
  t.match(await waitForLine(server, /listening \(/, 'the server'), /listening \(mTLS\)/);
  const port = /:(\d+)$/.exec(await waitForLine(server, /server listening on/, 'the server'))?.[1];
  const ok = await run(['--status', `--server-addr=127.0.0.1:${port}`], clientTlsEnv(certs));
  t.equal(ok.exitCode, 0, ok.stderr);
  t.match(ok.stdout, /server running/);
  const plain = await run(['--status', `--server-addr=127.0.0.1:${port}`, '--connect-timeout=1s']);
  t.equal(plain.exitCode, 1, 'a client without TLS does not get in');
});
