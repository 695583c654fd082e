// Adapts a protobufjs reflected service to a typed nice-grpc service definition.
import type { MethodDefinition } from 'nice-grpc';
import protobuf from 'protobufjs';
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

/** The message-typed fields of a type, found once per type. */
const messageFields = new WeakMap<protobuf.Type, protobuf.Field[]>();

function messageFieldsOf(type: protobuf.Type): protobuf.Field[] {
  let fields = messageFields.get(type);
  if (fields === undefined) {
    fields = type.fieldsArray.filter((f) => {
      f.resolve();
      return f.resolvedType instanceof protobuf.Type;
    });
    messageFields.set(type, fields);
  }
  return fields;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Gives every absent singular message field its defaults, down the tree, as proto3 readers do:
 * so a decoded message has the shape its generated type says (an Assignment without a job
 * reads as one with an empty job, which is then refused for what it lacks).
 */
function fillMessages(type: protobuf.Type, value: Record<string, unknown>): void {
  for (const f of messageFieldsOf(type)) {
    const sub = f.resolvedType;
    if (!(sub instanceof protobuf.Type)) continue;
    const v = value[f.name];
    if (f.repeated || f.map) {
      const items = Array.isArray(v) ? v : isRecord(v) ? Object.values(v) : [];
      for (const x of items) if (isRecord(x)) fillMessages(sub, x);
    } else if (isRecord(v)) {
      fillMessages(sub, v);
    } else if (f.partOf === null) {
      const empty = sub.toObject(sub.create(), TO_OBJECT);
      fillMessages(sub, empty);
      value[f.name] = empty;
    }
  }
}

/** A codec for the protocol message `name`; decoding throws on malformed bytes. */
export function createMessageCodec<T>(type: protobuf.Type): MessageCodec<T> {
  return {
    // The two casts where untyped protobufjs meets the types generated from the same proto (messages.generated.ts).
    encode: (value) => type.encode(type.fromObject(value as Record<string, unknown>)).finish(),
    decode: (bytes) => {
      const value = type.toObject(type.decode(bytes), TO_OBJECT);
      fillMessages(type, value);
      return value as T;
    },
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
