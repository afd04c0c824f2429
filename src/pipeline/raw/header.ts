/**
 * Maps a file's header to the source's canonical columns by name (never by position), telling
 * renamed columns, unknown columns, missing ones and the layout era. Pure: no I/O.
 */
import { sourceColumns, type SourceDefinition } from '../definition/schema.js';

export interface HeaderMapping {
  /** Per file column, in file order: the canonical column, or null. */
  fileColumns: Array<string | null>;
  /** Header names that matched a canonical column under another name than its first (published) one. */
  renamed: Array<{ header: string; column: string; published: string }>;
  unknown: string[];
  /** Required canonical columns no header name matched. */
  missing: string[];
  era: string | null;
}

/** Case, spaces and punctuation do not make a different column: "Total Enrollment" = "TOTAL_ENROLLMENT". */
const normalize = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

export function mapHeader(header: readonly string[], source: SourceDefinition): HeaderMapping {
  const columns = sourceColumns(source);
  const byName = new Map<string, { column: string; published: string; exact: boolean }>();
  for (const column of columns) {
    column.headers.forEach((name, index) => {
      const entry = { column: column.name, published: column.headers[0]!, exact: index === 0 };
      if (!byName.has(name)) byName.set(name, entry);
      const loose = `~${normalize(name)}`;
      if (!byName.has(loose)) byName.set(loose, { ...entry, exact: false });
    });
  }
  const fileColumns: Array<string | null> = [];
  const renamed: HeaderMapping['renamed'] = [];
  const unknown: string[] = [];
  const seen = new Set<string>();
  for (const name of header) {
    const match = byName.get(name) ?? byName.get(`~${normalize(name)}`);
    if (!match || seen.has(match.column)) {
      fileColumns.push(null);
      unknown.push(name);
      continue;
    }
    seen.add(match.column);
    fileColumns.push(match.column);
    if (!(match.exact && name === match.published)) renamed.push({ header: name, column: match.column, published: match.published });
  }
  const missing = columns.filter((column) => !column.optional && !seen.has(column.name)).map((column) => column.name);
  // By the same loose names as the columns: a header whose columns all map must not be of "no known era" for its case.
  const names = new Set(header.map(normalize));
  const era = source.eras ? (source.eras.find((candidate) => candidate.header_has.every((name) => names.has(normalize(name))))?.name ?? null) : 'default';
  return { fileColumns, renamed, unknown, missing, era };
}
