import type { Cluster, Redis } from 'ioredis';

/**
 * A client of one Redis server (standalone, or a primary found through Sentinel) or of a
 * Redis Cluster. Most of the engine only sends commands and scripts, which both route; the
 * few places that differ (duplicating a client, blocking pops, scanning keys) ask which.
 */
export type RedisClient = Redis | Cluster;
