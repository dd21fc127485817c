/** Number formatting shared by the markdown report and the chart. */

const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  switch (unit) {
    case 'tasks/s':
    case 'ops/s':
      return `${grouped.format(value)} ${unit}`;
    case 'ms':
      return `${value < 10 ? value.toFixed(3) : value.toFixed(1)} ms`;
    case 'B':
      return `${value.toFixed(1)} B`;
    case 'MB':
      return `${value.toFixed(1)} MB`;
    case 'ms CPU/s':
      return `${value.toFixed(2)} ms CPU/s`;
    case 'x':
      return `${value.toFixed(3)}x`;
    default:
      return `${grouped.format(value)} ${unit}`;
  }
}

export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value === 0) return '0x';
  return value >= 100
    ? `${value.toFixed(0)}x`
    : value >= 0.01
      ? `${value.toFixed(2)}x`
      : `${value.toPrecision(2)}x`;
}

export function formatCount(value: number): string {
  return grouped.format(value);
}

export function mib(bytes: number): number {
  return bytes / (1024 * 1024);
}
