/**
 * The Node flags every service runs with (make up, make run, the Docker image). V8 sizes the young generation from
 * the machine's memory: on a 24 GiB host its semi-spaces grow to tens of MiB, so a service's RSS swung by over
 * 100 MiB between scavenges at 3 orders/s (checkout 171 → 315 MiB in a minute). At 8 MiB it stays within ~40 MiB at
 * the same CPU per order (`make bench-steady`, see the README).
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=8'] as const;
