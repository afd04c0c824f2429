/**
 * Quarantined rows keep their raw text: rebuilt from Raw, whose columns hold each field exactly as
 * read, joined in the order of the row's own file header (the formats have no quoting).
 */
import type { Gate } from '../definition/schema.js';
import { literal, quoteIdentifier } from '../engines/engine.js';
import type { RunContext } from './context.js';

export async function fillRawText(context: RunContext, gate: Gate): Promise<void> {
  const { engine, definition } = context;
  for (const [source, spec] of Object.entries(definition.sources)) {
    const files = await engine.query(`SELECT file_id, header FROM ops.raw_files WHERE source = ${literal(source)} ORDER BY file_id`);
    if (files.length === 0) continue;
    const delimiter = literal(spec.delimiter);
    const branches = files.map((file) => {
      const columns = JSON.parse(String(file.header)) as Array<string | null>;
      const fields = columns.map((column) => (column ? `coalesce(r.${quoteIdentifier(column)}, '')` : `''`));
      return `WHEN ${Number(file.file_id)} THEN ${fields.join(` || ${delimiter} || `)}`;
    });
    await engine.exec(
      `UPDATE ops.quarantine SET raw_text = x.text
       FROM (SELECT r._file_id, r._line, coalesce(r._reject, CASE r._file_id ${branches.join(' ')} END) AS text
             FROM raw.${source} r JOIN ops.quarantine q ON q.file_id = r._file_id AND q.line = r._line AND q.gate = ${literal(gate)}) x
       WHERE ops.quarantine.gate = ${literal(gate)} AND ops.quarantine.raw_text IS NULL AND ops.quarantine.file_id = x._file_id AND ops.quarantine.line = x._line`,
    );
  }
}
