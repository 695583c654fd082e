// The protocol's message types: generated from proto/distbuild.proto (src/protocol/messages.generated.ts, by npm run build).
import type { ProtocolVersion } from './messages.generated.js';

export type * from './messages.generated.js';

/** The protocol revision this code speaks. */
export const PROTOCOL_VERSION: ProtocolVersion = 'PROTOCOL_VERSION_1';
