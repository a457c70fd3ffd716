// Sorting a table's rows by a column the way ProfilerView's key_averages().table() does: largest
// first, ties kept in their original order (stable), missing values (null) last. The view sorts
// at once on a header click, then the kernel's re-sorted rows replace these.
export type Row = Record<string, unknown>;

export function sortRows(rows: Row[], field: string, descending = true): Row[] {
  const indexed = rows.map((row, index) => ({ row, index }));
  indexed.sort((a, b) => {
    const x = a.row[field], y = b.row[field];
    const xMissing = x === null || x === undefined, yMissing = y === null || y === undefined;
    if (xMissing || yMissing) {
      return xMissing === yMissing ? a.index - b.index : (xMissing ? 1 : -1);
    }
    const order = typeof x === 'number' && typeof y === 'number' ? x - y
      : String(x).localeCompare(String(y));
    return (descending ? -order : order) || a.index - b.index;
  });
  return indexed.map(entry => entry.row);
}
