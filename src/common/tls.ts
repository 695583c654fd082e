// TLS credentials from tls_cert, tls_key and tls_ca: the server's (mTLS with a CA) and the clients'.
import { readFileSync } from 'node:fs';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import { ConfigError } from '../config/config-error.js';
import { fileKey } from '../config/options.js';
import type { TlsFiles } from '../config/settings.js';

/** No TLS setting at all. */
export function tlsUnset(tls: TlsFiles): boolean {
  return tls.cert === undefined && tls.key === undefined && tls.ca === undefined;
}

function readPem(file: string | undefined, key: 'tlsCert' | 'tlsKey' | 'tlsCa'): Buffer | undefined {
  if (file === undefined) return undefined;
  const setting = fileKey(key);
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new ConfigError(`cannot read ${setting} ${file}: ${(err as Error).message}`, key);
  }
  if (!pem.includes('-----BEGIN ')) throw new ConfigError(`${setting} ${file} is not a PEM file (no "-----BEGIN" line)`, key);
  return pem;
}

/** tls_cert and tls_key go together; one without the other is an error naming both. */
function keyPair(tls: TlsFiles): { cert: Buffer; key: Buffer } | undefined {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ConfigError(`tls_cert and tls_key go together: ${tls.cert === undefined ? 'tls_key' : 'tls_cert'} is set without the other`, tls.cert === undefined ? 'tlsCert' : 'tlsKey');
  }
  const cert = readPem(tls.cert, 'tlsCert');
  const key = readPem(tls.key, 'tlsKey');
  return cert === undefined || key === undefined ? undefined : { cert, key };
}

/** How the server serves: TLS when tls_cert and tls_key are set, requiring client certificates when tls_ca is too. */
export interface ServerTls {
  readonly credentials: ServerCredentials;
  readonly tls: boolean;
  /** Clients must present a certificate signed by tls_ca. */
  readonly mutual: boolean;
}

export function serverTls(tls: TlsFiles): ServerTls {
  const pair = keyPair(tls);
  const ca = readPem(tls.ca, 'tlsCa');
  if (pair === undefined) {
    if (ca !== undefined) throw new ConfigError('tls_ca is set on the server without tls_cert and tls_key: the server needs its own certificate to serve TLS', 'tlsCa');
    return { credentials: ServerCredentials.createInsecure(), tls: false, mutual: false };
  }
  const credentials = ServerCredentials.createSsl(ca ?? null, [{ private_key: pair.key, cert_chain: pair.cert }], ca !== undefined);
  return { credentials, tls: true, mutual: ca !== undefined };
}

/** A client's credentials: TLS when tls_ca or tls_cert is set (presenting tls_cert for mTLS), else plain text. */
export function clientCredentials(tls: TlsFiles): ChannelCredentials {
  if (tlsUnset(tls)) return ChannelCredentials.createInsecure();
  const pair = keyPair(tls);
  return ChannelCredentials.createSsl(readPem(tls.ca, 'tlsCa') ?? null, pair?.key ?? null, pair?.cert ?? null);
}
