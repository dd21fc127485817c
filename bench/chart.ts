import { formatRatio, formatValue } from './format.js';
import type { MetricSummary } from './report.js';

/**
 * A hand-written SVG bar chart: one pair of horizontal bars (nestjs-delayed, BullMQ) per
 * throughput scenario. Scenarios differ by orders of magnitude, so each pair is scaled to its
 * own larger bar; the printed numbers are the medians, the right column the ratio.
 */
const WIDTH = 820;
const LABEL_WIDTH = 250;
const BAR_AREA = 380;
const BAR_HEIGHT = 16;
const BAR_GAP = 4;
const GROUP_GAP = 18;
const TOP = 100;
const COLORS = { ours: '#1f77b4', bullmq: '#b0b0b0' } as const;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function throughputChart(
  rows: readonly MetricSummary[],
  title: string,
  subtitle: string,
): string {
  const groupHeight = 2 * BAR_HEIGHT + BAR_GAP;
  const height = TOP + rows.length * (groupHeight + GROUP_GAP) + 36;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      `font-family="-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  parts.push(
    `<text x="16" y="26" font-size="16" font-weight="600" fill="#222">${escapeXml(title)}</text>`,
  );
  parts.push(`<text x="16" y="46" fill="#555">${escapeXml(subtitle)}</text>`);
  const legendY = 68;
  parts.push(`<rect x="16" y="${legendY - 10}" width="12" height="12" fill="${COLORS.ours}"/>`);
  parts.push(`<text x="34" y="${legendY}" fill="#222">nestjs-delayed</text>`);
  parts.push(`<rect x="140" y="${legendY - 10}" width="12" height="12" fill="${COLORS.bullmq}"/>`);
  parts.push(`<text x="158" y="${legendY}" fill="#222">BullMQ</text>`);
  parts.push(
    `<text x="${WIDTH - 16}" y="${legendY}" text-anchor="end" fill="#555">tasks/s, higher is better; each pair scaled to itself</text>`,
  );

  parts.push(
    `<text x="${WIDTH - 16}" y="${TOP - 8}" text-anchor="end" fill="#555">ours / BullMQ</text>`,
  );
  rows.forEach((row, i) => {
    const y = TOP + i * (groupHeight + GROUP_GAP);
    const max = Math.max(row.median.ours, row.median.bullmq);
    parts.push(
      `<text x="${LABEL_WIDTH - 10}" y="${y + groupHeight / 2 + 4}" text-anchor="end" fill="#222">${escapeXml(row.label)}</text>`,
    );
    (['ours', 'bullmq'] as const).forEach((who, j) => {
      const value = row.median[who];
      const width = max > 0 && Number.isFinite(value) ? Math.max(1, (value / max) * BAR_AREA) : 0;
      const by = y + j * (BAR_HEIGHT + BAR_GAP);
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${by}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${COLORS[who]}"/>`,
      );
      parts.push(
        `<text x="${(LABEL_WIDTH + width + 6).toFixed(1)}" y="${by + BAR_HEIGHT - 4}" fill="#333">${escapeXml(formatValue(value, row.unit))}</text>`,
      );
    });
    parts.push(
      `<text x="${WIDTH - 16}" y="${y + groupHeight / 2 + 4}" text-anchor="end" font-weight="600" fill="#222">${escapeXml(formatRatio(row.ratio))}</text>`,
    );
  });
  parts.push(
    `<text x="16" y="${height - 14}" fill="#777">Right column: nestjs-delayed / BullMQ (medians). Raw runs: bench/results/*.json</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
