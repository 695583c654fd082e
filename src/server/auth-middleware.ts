// Server middleware: every RPC must carry an accepted token (the health service excepted), if any are set.
import { ServerError, Status, type CallContext, type ServerMiddlewareCall } from 'nice-grpc';
import { AUTH_HEADER, tokenAccepted } from '../common/auth.js';

/** `tokens()` is read on every call, so a reloaded token list applies at once; empty: no authentication. */
export function createAuthMiddleware(tokens: () => readonly string[]) {
  return async function* auth<Request, Response>(call: ServerMiddlewareCall<Request, Response>, context: CallContext) {
    if (tokens().length > 0 && !call.method.path.startsWith('/grpc.health.v1.')) {
      const header = context.metadata.get(AUTH_HEADER);
      if (header === undefined) {
        throw new ServerError(Status.UNAUTHENTICATED, 'no token: set DISTBUILD_TOKEN, token in the config file, or token_file to the farm\'s token');
      }
      if (!tokenAccepted(header, tokens())) throw new ServerError(Status.UNAUTHENTICATED, 'the token is not one this server accepts (setting token / token_file)');
    }
    return yield* call.next(call.request, context);
  };
}
