import { type Channel, createChannel } from 'nice-grpc';

/**
 * A channel with its own HTTP/2 connection: grpc-js otherwise shares one connection among all channels to the
 * same address (its global subchannel pool), and more channels would change nothing.
 */
export const openBenchChannel = (address: string): Channel =>
  createChannel(address, undefined, { 'grpc.use_local_subchannel_pool': 1 });
