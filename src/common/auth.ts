// Token credentials: the metadata clients send, and the constant-time check the server makes.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Metadata } from 'nice-grpc';

export const AUTH_HEADER = 'authorization';

/** Call options that send `token` (if any) with every RPC. */
export function authCallOptions(token: string | undefined): { '*': { metadata: Metadata } } | undefined {
  return token === undefined ? undefined : { '*': { metadata: Metadata({ [AUTH_HEADER]: `Bearer ${token}` }) } };
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** True if `header` carries one of `tokens`; compares digests in constant time. */
export function tokenAccepted(header: string | undefined, tokens: readonly string[]): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = digest(header.slice('Bearer '.length));
  let ok = false;
  for (const t of tokens) ok = timingSafeEqual(given, digest(t)) || ok;
  return ok;
}

/** True for addresses only this host can reach. */
export function isLoopbackListen(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
