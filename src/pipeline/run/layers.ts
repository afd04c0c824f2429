/** Builds the tables of one layer from the definition's SQL, in the order the definition lists them. */
import type { Layer } from '../definition/schema.js';
import { literal } from '../engines/engine.js';
import { count, type LayerCount, type RunContext } from './context.js';

export async function buildLayer(context: RunContext, layer: Exclude<Layer, 'raw' | 'final'>): Promise<LayerCount[]> {
  const { engine, definition, runId } = context;
  const counts: LayerCount[] = [];
  for (const [table, sql] of Object.entries(definition.layers[layer])) {
    const started = Date.now();
    context.step(`  ${layer}.${table}`);
    await engine.createTableAs(`${layer}.${table}`, sql);
    const [row] = await engine.query(`SELECT count(*) AS n FROM ${layer}.${table}`);
    const result: LayerCount = { layer, table, rows: Number(row!.n), seconds: (Date.now() - started) / 1000 };
    await engine.exec(`INSERT INTO ops.layer_counts VALUES (${runId}, ${literal(layer)}, ${literal(table)}, ${result.rows}, ${result.seconds})`);
    counts.push(result);
    context.progress(`  ${layer}.${table}: ${count(result.rows)} rows (${result.seconds.toFixed(1)} s)`);
  }
  return counts;
}

/** Reference tables (crosswalks, code lists) written from the definition: ref.<name>. */
export async function writeReferenceTables(context: RunContext): Promise<void> {
  const { engine, definition } = context;
  const sqlType = { integer: 'BIGINT', number: 'DOUBLE PRECISION', text: 'VARCHAR', boolean: 'BOOLEAN' } as const;
  for (const [name, table] of Object.entries(definition.reference)) {
    const columns = Object.entries(table.columns);
    await engine.exec(`DROP TABLE IF EXISTS ref.${name}`);
    await engine.exec(`CREATE TABLE ref.${name} (${columns.map(([column, type]) => `${column} ${sqlType[type]}`).join(', ')})`);
    const values = table.rows.map((row) => `(${row.map((value, index) => (value === null ? `CAST(NULL AS ${sqlType[columns[index]![1]]})` : typeof value === 'string' ? literal(value) : String(value))).join(', ')})`);
    if (values.length > 0) await engine.exec(`INSERT INTO ref.${name} VALUES ${values.join(', ')}`);
  }
}
