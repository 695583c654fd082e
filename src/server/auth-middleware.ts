// Server middleware: every RPC must carry an accepted token of its role (the health service excepted), if any are set.
import { ServerError, Status, type CallContext, type ServerMiddlewareCall } from 'nice-grpc';
import { AUTH_HEADER, tokenAccepted } from '../common/auth.js';

/** The RPC a worker registers and works on: with worker tokens set, only they open it. */
const WORK_PATH = /\/Work$/;

/**
 * `tokens()` (clients') and `workerTokens()` are read on every call, so reloaded lists apply at
 * once. With worker tokens set, the Work stream takes only a worker token and every other RPC
 * only a client token: a client's token cannot register a worker that would receive other
 * people's jobs. Without them, any token opens any RPC. Both empty: no authentication.
 */
export function createAuthMiddleware(tokens: () => readonly string[], workerTokens: () => readonly string[] = () => []) {
  return async function* auth<Request, Response>(call: ServerMiddlewareCall<Request, Response>, context: CallContext) {
    if (!call.method.path.startsWith('/grpc.health.v1.')) check(call.method.path, context.metadata.get(AUTH_HEADER), tokens(), workerTokens());
    return yield* call.next(call.request, context);
  };
}

function check(method: string, header: string | undefined, clients: readonly string[], workers: readonly string[]): void {
  const work = WORK_PATH.test(method);
  const wanted = workers.length === 0 ? clients : work ? workers : clients;
  if (wanted.length === 0) {
    // Worker tokens alone: clients need none (a loopback farm), but a worker token is not a client's.
    if (header !== undefined && tokenAccepted(header, workers)) throw new ServerError(Status.PERMISSION_DENIED, 'a worker token cannot be used as a client\'s (setting worker_token)');
    return;
  }
  if (header === undefined) {
    throw new ServerError(Status.UNAUTHENTICATED, work && workers.length > 0
      ? 'no worker token: set DISTBUILD_WORKER_TOKEN, worker_token in the config file, or worker_token_file on this worker'
      : "no token: set DISTBUILD_TOKEN, token in the config file, or token_file to the farm's token");
  }
  if (tokenAccepted(header, wanted)) return;
  if (workers.length > 0 && work && tokenAccepted(header, clients)) {
    throw new ServerError(Status.PERMISSION_DENIED, "a client's token cannot register a worker: give workers a worker token (setting worker_token / worker_token_file)");
  }
  if (workers.length > 0 && !work && tokenAccepted(header, workers)) {
    throw new ServerError(Status.PERMISSION_DENIED, "a worker token cannot be used as a client's (setting token / token_file)");
  }
  throw new ServerError(Status.UNAUTHENTICATED, work && workers.length > 0
    ? 'the token is not a worker token this server accepts (setting worker_token / worker_token_file)'
    : 'the token is not one this server accepts (setting token / token_file)');
}
