import { randomBytes } from 'node:crypto';

/**
 * A new worker (slot) id: 32 hex characters, the shape go-delayed uses. The id is also the
 * name of the slot's liveness key, bare, as the protocol wants.
 */
export function newWorkerId(): string {
  return randomBytes(16).toString('hex');
}
