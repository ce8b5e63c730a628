// kafkajs's types cover its public API only; request-queue.ts patches one internal class.
declare module 'kafkajs/src/network/requestQueue/index.js' {
  const RequestQueue: { prototype: unknown };
  export default RequestQueue;
}
