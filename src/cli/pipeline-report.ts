/** Text reports of the pipeline commands: the end-of-run summary and the status view. */
import { finalDifferences } from '../pipeline/run/publish.js';
import type { RunReport } from '../pipeline/run/run.js';
import { formatTable } from './table.js';

const n = (value: number) => value.toLocaleString('en-US');

export function formatRunSummary(report: RunReport): string {
  const out: string[] = [];
  out.push(`\nrun ${report.runId} (${report.mode}${report.mode === 'replay' ? ` from ${report.from}` : ''}): ${report.status.toUpperCase()} in ${report.seconds.toFixed(1)} s\n`);
  if (report.files.length > 0) {
    out.push('\nfiles\n');
    out.push(formatTable(['source', 'file', 'status', 'rows'], report.files.map((file) => [file.source, file.file, file.status + (file.reason ? ` (${file.reason})` : ''), n(file.rows)])));
  }
  out.push('\nrows per layer\n');
  out.push(formatTable(['layer', 'table', 'rows', 'seconds'], report.layers.map((layer) => [layer.layer, layer.table, n(layer.rows), layer.seconds.toFixed(1)])));
  out.push('\nrows per gate (in = promoted + quarantined)\n');
  out.push(formatTable(['gate', 'table', 'in', 'promoted', 'quarantined'], report.gates.map((gate) => [gate.gate, gate.table, n(gate.rowsIn), n(gate.promoted), n(gate.quarantined)])));
  out.push('\nchecks (partitions per status; rows flagged)\n');
  const byCheck = new Map<string, { gate: string; statuses: string[]; flagged: number }>();
  for (const row of report.checks) {
    const entry = byCheck.get(row.check_id) ?? { gate: row.gate, statuses: [], flagged: 0 };
    entry.statuses.push(`${row.status} ${n(Number(row.partitions))}`);
    entry.flagged += Number(row.rows_flagged);
    byCheck.set(row.check_id, entry);
  }
  out.push(formatTable(['gate', 'check', 'rows flagged', 'results'], [...byCheck].map(([id, entry]) => [entry.gate, id, n(entry.flagged), entry.statuses.join(', ')])));
  if (report.held.length > 0) {
    out.push(`\npartitions held back (${report.held.length})\n`);
    out.push(formatTable(['gate', 'district', 'year', 'rule'], report.held.slice(0, 50).map((held) => [held.gate, held.district_key, String(held.year), held.rule])));
    if (report.held.length > 50) out.push(`… and ${report.held.length - 50} more (gatehouse pipeline status --json lists them all)\n`);
  }
  const failed = report.contract.filter((result) => !result.ok);
  if (failed.length > 0) out.push(`\ngate E refused: ${failed.map((result) => `${result.table} ${result.check}: ${result.detail}`).join('; ')}\n`);
  const tables = Object.keys({ ...report.finalBefore, ...report.finalAfter });
  if (tables.length > 0 && report.status === 'published') {
    out.push('\nFinal tables (content hash)\n');
    out.push(formatTable(['table', 'hash', 'vs before'], tables.map((table) => [table, (report.finalAfter[table] ?? '-').slice(0, 16), report.finalBefore[table] === undefined ? 'new' : report.finalBefore[table] === report.finalAfter[table] ? 'identical' : 'changed'])));
  }
  return out.join('');
}

/** What a replay says of Final: byte-identical to the Final before it, or the tables that are new, removed or changed. */
export function formatReplayComparison(report: RunReport): string {
  if (Object.keys(report.finalBefore).length === 0) return '\nreplay: no earlier Final to compare with (this replay published the first)\n';
  const differences = finalDifferences(report.finalBefore, report.finalAfter);
  if (differences.length === 0) return '\nreplay: Final tables byte-identical (content hashes equal)\n';
  return `\nreplay: Final changed: ${differences.map((difference) => (difference.change === 'changed' ? difference.table : `${difference.table} (${difference.change})`)).join(', ')}\n`;
}
