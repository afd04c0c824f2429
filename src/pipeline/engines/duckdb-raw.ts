/**
 * How DuckDB keeps Raw: one row per source line with the line's text, not one column per field.
 * Writing a VARCHAR value costs DuckDB about as much as parsing it (compression analysis, string
 * statistics), and a CAASPP line has 32 fields: a 889k-row file took 5.0 s to load field by field
 * and 0.8 s as lines. raw.<source> is a view that splits the text and maps each field to its
 * canonical column by the position it had in its own file's header, so the pipeline's SQL sees
 * the same columns as on PostgreSQL, and Raw still holds every byte as read.
 *
 * Pure: names and layouts in, SQL out.
 */
import { literal, quoteIdentifier } from './engine.js';

/** One loaded file as the view needs it: its delimiter and, for each of its fields in order, the canonical column or null. */
export interface RawFileLayout {
  fileId: number;
  delimiter: string;
  fileColumns: Array<string | null>;
}

/** Separates a line's number from its text in the numbered copy DuckDB reads (see raw/number-lines.ts). */
export const LINE_NUMBER_SEPARATOR = '\u0001\u0002';

export const linesTable = (table: string): string => `${table}__lines`;
export const layoutsTable = (table: string): string => `${table}__files`;

export function createRawTablesSql(table: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${linesTable(table)} (_file_id INTEGER, _line BIGINT, _text VARCHAR, _district_key VARCHAR, _year INTEGER, _rules VARCHAR, _reject VARCHAR, _short BOOLEAN)`,
    `CREATE TABLE IF NOT EXISTS ${layoutsTable(table)} (file_id INTEGER, delimiter VARCHAR, file_columns VARCHAR)`,
  ];
}

/** Files grouped by a value: one `_file_id IN (...)` test per distinct value, the most common value last (as ELSE). */
function byFile<T>(files: readonly RawFileLayout[], valueOf: (file: RawFileLayout) => T, render: (value: T) => string): string {
  const groups = new Map<string, { sql: string; ids: number[] }>();
  for (const file of files) {
    const sql = render(valueOf(file));
    const group = groups.get(sql) ?? { sql, ids: [] };
    group.ids.push(file.fileId);
    groups.set(sql, group);
  }
  const ordered = [...groups.values()].sort((a, b) => a.ids.length - b.ids.length);
  const common = ordered.pop()!;
  if (ordered.length === 0) return common.sql;
  return `CASE ${ordered.map((group) => `WHEN _file_id IN (${group.ids.join(', ')}) THEN ${group.sql}`).join(' ')} ELSE ${common.sql} END`;
}

/**
 * raw.<source>: the canonical columns, then _file_id, _line, _text, _district_key, _year, _rules, _reject, _short.
 * A field a line lacks is NULL (as the reader's null padding gave); a rejected line has no fields.
 * Row checks should not filter on the fields: DuckDB pushes such a filter below the split and splits
 * the line once per field named (gate A's row shape is _short, judged at load, for that reason).
 */
export function rawViewSql(table: string, canonicalColumns: readonly string[], files: readonly RawFileLayout[]): string {
  const meta = '_file_id, _line, _text, _district_key, _year, _rules, _reject, _short';
  if (files.length === 0) {
    return `SELECT ${canonicalColumns.map((name) => `NULL::VARCHAR AS ${quoteIdentifier(name)}`).join(', ')}, ${meta} FROM ${linesTable(table)}`;
  }
  const delimiter = byFile(files, (file) => file.delimiter, literal);
  const columns = canonicalColumns.map((name) => {
    const field = byFile(
      files,
      (file) => file.fileColumns.indexOf(name),
      (index) => (index < 0 ? 'NULL::VARCHAR' : `_fields[${index + 1}]`),
    );
    return `${field} AS ${quoteIdentifier(name)}`;
  });
  return `SELECT ${columns.join(', ')}, ${meta} FROM (SELECT *, string_split(_text, ${delimiter}) AS _fields FROM ${linesTable(table)})`;
}
