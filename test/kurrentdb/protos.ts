// The gRPC service definitions and protobuf messages shipped inside @kurrent/kurrentdb-client (generated/),
// loaded with require so the stand-in speaks exactly the wire format the client was built against.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const GENERATED = '@kurrent/kurrentdb-client/generated/kurrentdb/protocols';

export const streamsGrpc = require(
  `${GENERATED}/v1/streams_grpc_pb.js`,
) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_grpc_pb.js');
export const streamsPb = require(
  `${GENERATED}/v1/streams_pb.js`,
) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb.js');
export const sharedPb = require(
  `${GENERATED}/v1/shared_pb.js`,
) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/shared_pb.js');
export const statusPb = require(
  `${GENERATED}/v1/status_pb.js`,
) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/status_pb.js');
export const featuresGrpc = require(
  `${GENERATED}/v1/serverfeatures_grpc_pb.js`,
) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_grpc_pb.js');
export const featuresPb = require(
  `${GENERATED}/v1/serverfeatures_pb.js`,
) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_pb.js');
export const streamsV2Grpc = require(
  `${GENERATED}/v2/streams/streams_grpc_pb.js`,
) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v2/streams/streams_grpc_pb.js');
export const streamsV2Pb = require(
  `${GENERATED}/v2/streams/streams_pb.js`,
) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v2/streams/streams_pb.js');
export const errorsV2Pb = require(
  `${GENERATED}/v2/streams/errors_pb.js`,
) as typeof import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v2/streams/errors_pb.js');

// google-protobuf's well-known types, the same copies the generated code uses.
export const anyPb =
  require('google-protobuf/google/protobuf/any_pb.js') as typeof import('google-protobuf/google/protobuf/any_pb.js');
export const structPb =
  require('google-protobuf/google/protobuf/struct_pb.js') as typeof import('google-protobuf/google/protobuf/struct_pb.js');
export const timestampPb =
  require('google-protobuf/google/protobuf/timestamp_pb.js') as typeof import('google-protobuf/google/protobuf/timestamp_pb.js');
export const emptyPb =
  require('google-protobuf/google/protobuf/empty_pb.js') as typeof import('google-protobuf/google/protobuf/empty_pb.js');
export const jspb = require('google-protobuf') as typeof import('google-protobuf');

export type StreamsServer =
  import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_grpc_pb.js').IStreamsServer;
export type FeaturesServer =
  import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/serverfeatures_grpc_pb.js').IServerFeaturesServer;
export type StreamsV2Server =
  import('@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v2/streams/streams_grpc_pb.js').IStreamsServiceServer;
