/** A column of a table: its header, and whether its cells line up on the right (numbers). */
export interface Column {
  readonly header: string;
  readonly align?: 'left' | 'right';
}

/**
 * A plain text table: a header row, then one row per entry, columns separated by two spaces
 * and padded to their widest cell. No colors and no borders, so it reads the same in a
 * terminal, a log file and a pipe to grep or awk.
 */
export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
): string {
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    columns
      .map((column, i) => {
        const cell = cells[i] ?? '';
        return column.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...rows.map(line)].join('\n');
}
