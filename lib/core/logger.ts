/** Where the engine reports what it does. Nest's `Logger` fits this shape. */
export interface DelayedLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string, stack?: string): void;
}

export const consoleLogger: DelayedLogger = {
  log: (message) => console.log(`[delayed] ${message}`),
  warn: (message) => console.warn(`[delayed] ${message}`),
  error: (message, stack) => console.error(`[delayed] ${message}${stack ? `\n${stack}` : ''}`),
};

export function errorMessage(error: unknown): string {
  // Handlers may throw anything; String() itself throws for an object without a prototype,
  // and a message that cannot be read must not keep a failed task from its dead letter.
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return Object.prototype.toString.call(error);
  }
}
