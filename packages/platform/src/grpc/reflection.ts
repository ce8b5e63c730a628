import type { ServiceImplementation } from 'nice-grpc';
import { ServerReflection, ServerReflectionService } from 'nice-grpc-server-reflection';

/**
 * nice-grpc-server-reflection 3.x serves only `grpc.reflection.v1`. grpcurl >= 1.8.8 falls back between the two,
 * but older grpcurl, grpcui, Postman and evans ask `grpc.reflection.v1alpha` only. The two protos are identical
 * on the wire (only the package differs), so the same implementation also serves v1alpha under its own path.
 */
export const ServerReflectionV1AlphaService = {
  serverReflectionInfo: {
    ...ServerReflectionService.serverReflectionInfo,
    path: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo' as const,
  },
};

export { ServerReflectionService };

/**
 * @param descriptorSet encoded `google.protobuf.FileDescriptorSet`, with imports (buf build --as-file-descriptor-set,
 *   or protoc --descriptor_set_out --include_imports)
 * @param serviceNames full names (`ticket.event.v1.EventService`) to list; others stay hidden
 */
export function createReflection(
  descriptorSet: Uint8Array,
  serviceNames: readonly string[],
): ServiceImplementation<typeof ServerReflectionService> {
  // The implementation keeps slices of the bytes; copy so a caller reusing its buffer cannot change them.
  return ServerReflection(Uint8Array.from(descriptorSet), serviceNames);
}
