// Adapts a protobufjs reflected service to a typed nice-grpc service definition.
import type { MethodDefinition } from 'nice-grpc';
import type protobuf from 'protobufjs';
import { PROTO_PACKAGE, protoRoot } from './proto-root.js';

/** How decoded messages are turned into plain objects; see messages.ts. */
const TO_OBJECT: protobuf.IConversionOptions = {
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

/** A codec for one message type: plain object to bytes and back. */
export interface MessageCodec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** A codec for the protocol message `name`; decoding throws on malformed bytes. */
export function createMessageCodec<T>(type: protobuf.Type): MessageCodec<T> {
  return {
    encode: (value) => type.encode(type.fromObject(value as Record<string, unknown>)).finish(),
    decode: (bytes) => type.toObject(type.decode(bytes), TO_OBJECT) as T,
  };
}

/**
 * The nice-grpc definition of method `method` of service `service`, with the
 * request and response types given by the caller and checked by the tests.
 */
export function createMethodDefinition<Req, Res, ReqStream extends boolean, ResStream extends boolean>(
  service: string,
  method: string,
  requestStream: ReqStream,
  responseStream: ResStream,
): MethodDefinition<Req, Req, Res, Res, ReqStream, ResStream> {
  const reflected = protoRoot().lookupService(`${PROTO_PACKAGE}.${service}`).methods[method];
  if (reflected === undefined) {
    throw new Error(`proto/distbuild.proto has no method ${service}.${method}`);
  }
  if (Boolean(reflected.requestStream) !== requestStream || Boolean(reflected.responseStream) !== responseStream) {
    throw new Error(`streaming of ${service}.${method} in code does not match proto/distbuild.proto`);
  }
  reflected.resolve();
  const request = createMessageCodec<Req>(reflected.resolvedRequestType as protobuf.Type);
  const response = createMessageCodec<Res>(reflected.resolvedResponseType as protobuf.Type);
  return {
    path: `/${PROTO_PACKAGE}.${service}/${method}`,
    requestStream,
    responseStream,
    requestSerialize: request.encode,
    requestDeserialize: request.decode,
    responseSerialize: response.encode,
    responseDeserialize: response.decode,
    options: {},
  };
}
