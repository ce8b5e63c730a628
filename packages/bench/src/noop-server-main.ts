/**
 * The no-op server's process: implements every method of a ts-proto service definition by answering at once
 * with the response type's default message, so a benchmark against it measures transport and generator only.
 * argv[2]: JSON { definitionModule, definitionExport }. Sends { port } to the parent once it listens.
 */
import { createServer } from 'nice-grpc';

interface MethodLike {
  responseStream: boolean;
  responseType: { fromPartial(object: object): unknown };
}

const { definitionModule, definitionExport } = JSON.parse(process.argv[2] ?? '{}') as {
  definitionModule: string;
  definitionExport: string;
};
const definition = (await import(definitionModule))[definitionExport] as
  | { methods: Record<string, MethodLike> }
  | undefined;
if (!definition?.methods) throw new Error(`${definitionModule} has no service definition ${definitionExport}`);

const implementation: Record<string, unknown> = {};
for (const [key, method] of Object.entries(definition.methods)) {
  // Made once: the server's CPU per call should be the transport's, not building answers.
  const response = method.responseType.fromPartial({});
  implementation[key] = method.responseStream
    ? async function* () {
        yield response;
      }
    : async () => response;
}

const server = createServer();
server.add(definition as never, implementation as never);
const port = await server.listen('127.0.0.1:0');
process.send?.({ port });
const stop = () => {
  server.forceShutdown();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
