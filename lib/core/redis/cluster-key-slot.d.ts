// cluster-key-slot (ioredis' own dependency, which ioredis routes commands with) ships no types.
declare module 'cluster-key-slot' {
  /** The Redis Cluster slot (0–16383) of a key, hash tags honoured. */
  export default function calculateSlot(key: string | Buffer): number;
}
