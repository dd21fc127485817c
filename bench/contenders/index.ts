import { BullmqContender } from './bullmq.js';
import type { Contender, ContenderId } from './contender.js';
import { OursContender } from './ours.js';

export * from './contender.js';

export const CONTENDERS: readonly ContenderId[] = ['ours', 'bullmq'];

export function createContender(id: ContenderId, host: string, port: number): Contender {
  return id === 'ours'
    ? new OursContender(`redis://${host}:${port}`)
    : new BullmqContender({ host, port });
}
