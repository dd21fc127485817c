/**
 * A value as JSON text that any JSON parser reads back: a Buffer or other byte array becomes
 * its base64 text, a bigint its decimal text (JSON numbers lose precision past 2^53), and a
 * Map a plain object. Task arguments come from MessagePack and may hold any of these.
 */
export function toJsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, jsonReplacer, indent);
}

function jsonReplacer(this: unknown, key: string, value: unknown): unknown {
  // A Buffer's own toJSON ran already ({ type, data }): look at the holder's original value.
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Uint8Array) return Buffer.from(original).toString('base64');
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) return Object.fromEntries(value);
  return value;
}
