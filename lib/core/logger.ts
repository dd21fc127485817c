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
  return error instanceof Error ? error.message : String(error);
}
