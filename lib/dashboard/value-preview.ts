/** The longest preview of a task's arguments the dashboard sends, in characters. */
export const PREVIEW_LENGTH = 300;

/**
 * A short JSON-like text of a decoded value (a task's arguments are user data of any size
 * and shape): written piece by piece and cut at `max` characters, so a huge argument costs
 * no more than its first few hundred characters. Byte strings show as their length, big
 * integers with an `n`. Never throws.
 */
export function previewValue(value: unknown, max = PREVIEW_LENGTH): string {
  const out: string[] = [];
  let length = 0;
  const write = (text: string): boolean => {
    out.push(text);
    length += text.length;
    return length <= max;
  };
  const visit = (item: unknown, depth: number): boolean => {
    if (item === null || item === undefined) return write('null');
    switch (typeof item) {
      case 'string':
        // Quoting escapes: cut first, so a megabyte string is not copied to be cut.
        return write(JSON.stringify(item.length > max ? item.slice(0, max) : item));
      case 'number':
      case 'boolean':
        return write(String(item));
      case 'bigint':
        return write(`${item}n`);
      case 'object':
        break;
      default:
        return write(typeof item);
    }
    if (item instanceof Uint8Array) return write(`<${item.byteLength} bytes>`);
    if (item instanceof Date) return write(JSON.stringify(item.toISOString()));
    if (depth > 20) return write('…');
    if (Array.isArray(item)) {
      if (!write('[')) return false;
      for (let i = 0; i < item.length; i++) {
        if (i > 0 && !write(', ')) return false;
        if (!visit(item[i], depth + 1)) return false;
      }
      return write(']');
    }
    const entries: Iterable<[unknown, unknown]> =
      item instanceof Map ? item.entries() : Object.entries(item as object);
    if (!write('{')) return false;
    let first = true;
    for (const [key, entry] of entries) {
      if (!first && !write(', ')) return false;
      first = false;
      if (!write(`${JSON.stringify(String(key))}: `)) return false;
      if (!visit(entry, depth + 1)) return false;
    }
    return write('}');
  };
  try {
    visit(value, 0);
  } catch {
    return '(unreadable)';
  }
  const text = out.join('');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A text cut to `max` characters, marked when cut. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
