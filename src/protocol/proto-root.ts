// Loads proto/distbuild.proto once, by reflection, for encoding and decoding.
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** Path of the protocol's source of truth, shipped with the package. */
export const PROTO_PATH = fileURLToPath(new URL('../../../proto/distbuild.proto', import.meta.url));

/** The protobufjs package name of every message and service. */
export const PROTO_PACKAGE = 'distbuild.v1';

let root: protobuf.Root | undefined;

/** The resolved protobufjs root of the protocol. */
export function protoRoot(): protobuf.Root {
  if (root === undefined) {
    root = protobuf.loadSync(PROTO_PATH);
    root.resolveAll();
  }
  return root;
}

/** The protobufjs type of a message of the protocol, e.g. "Job". */
export function messageType(name: string): protobuf.Type {
  return protoRoot().lookupType(`${PROTO_PACKAGE}.${name}`);
}
