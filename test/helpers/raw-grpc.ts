// Raw gRPC calls for hostile and fuzz tests: bytes in, status out, no (de)serialization in the way.
import { Client, Metadata, type ChannelCredentials, type ClientDuplexStream, type ClientReadableStream } from '@grpc/grpc-js';
import { AUTH_HEADER } from '../../src/common/auth.js';

export const SUBMIT_JOBS = '/distbuild.v1.Scheduler/SubmitJobs';
export const WORK = '/distbuild.v1.Scheduler/Work';
export const GET_STATUS = '/distbuild.v1.Scheduler/GetStatus';

/** How a call ended: its status, or `answered` if the server sent a message before any error. */
export interface RawOutcome {
  readonly code: number;
  readonly details: string;
  /** The server sent at least one message (the call was then cancelled). */
  readonly answered: boolean;
}

const same = (b: Buffer): Buffer => b;

export function rawClient(addr: string, credentials: ChannelCredentials): Client {
  return new Client(addr, credentials, { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 });
}

export function tokenMetadata(token: string | undefined): Metadata {
  const md = new Metadata();
  if (token !== undefined) md.set(AUTH_HEADER, `Bearer ${token}`);
  return md;
}

/** Settles a streaming call at its status; with `cancelOnData`, cancels it at its first message. */
function settle(call: ClientReadableStream<Buffer> | ClientDuplexStream<Buffer, Buffer>, cancelOnData: boolean): Promise<RawOutcome> {
  return new Promise((resolve) => {
    let answered = false;
    call.on('data', () => {
      if (answered) return;
      answered = true;
      if (cancelOnData) call.cancel();
    });
    call.on('error', () => undefined);
    call.on('status', (s) => resolve({ code: s.code, details: s.details, answered }));
  });
}

/**
 * One raw call to `method` with `frames` as the request message(s), within `deadlineMs`.
 * SubmitJobs is cancelled once answered (its results could take long); Work is half-closed
 * after the frames and runs to its status.
 */
export function rawCall(client: Client, method: string, frames: readonly Buffer[], md: Metadata, deadlineMs = 5000): Promise<RawOutcome> {
  const deadline = Date.now() + deadlineMs;
  if (method === GET_STATUS) {
    return new Promise((resolve) => {
      client.makeUnaryRequest(method, same, same, frames[0] ?? Buffer.alloc(0), md, { deadline }, (err) => {
        resolve(err === null ? { code: 0, details: '', answered: true } : { code: err.code, details: err.details, answered: false });
      });
    });
  }
  if (method === SUBMIT_JOBS) return settle(client.makeServerStreamRequest(method, same, same, frames[0] ?? Buffer.alloc(0), md, { deadline }), true);
  const call = client.makeBidiStreamRequest(method, same, same, md, { deadline });
  for (const f of frames) call.write(f);
  call.end();
  return settle(call, false);
}
