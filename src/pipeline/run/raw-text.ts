/** Quarantined rows keep their raw text: the line as Raw read it, or, for a line the reader rejected, why and the text. */
import type { Gate } from '../definition/schema.js';
import { literal } from '../engines/engine.js';
import type { RunContext } from './context.js';

export async function fillRawText(context: RunContext, gate: Gate): Promise<void> {
  const { engine, definition } = context;
  for (const source of Object.keys(definition.sources)) {
    await engine.exec(
      `UPDATE ops.quarantine SET raw_text = x.text
       FROM (SELECT r._file_id, r._line, coalesce(r._reject, r._text) AS text
             FROM raw.${source} r JOIN ops.quarantine q ON q.file_id = r._file_id AND q.line = r._line AND q.gate = ${literal(gate)}) x
       WHERE ops.quarantine.gate = ${literal(gate)} AND ops.quarantine.raw_text IS NULL AND ops.quarantine.file_id = x._file_id AND ops.quarantine.line = x._line`,
    );
  }
}
