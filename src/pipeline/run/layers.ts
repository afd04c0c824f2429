/** Builds the tables (or views) of one layer from the definition's SQL, in the order the definition lists them. */
import { GatehouseError } from '../../core/errors.js';
import type { Layer } from '../definition/schema.js';
import { literal } from '../engines/engine.js';
import { count, naming, type LayerCount, type RunContext } from './context.js';

/**
 * Layers whose tables are views. Enrich is Std's passed rows joined to small lookups: DuckDB
 * computes that join some twenty times faster than it writes the result (2M CAASPP rows: 0.19 s
 * against 4.4 s), so gate D's checks read the join rather than a copy of it. Semantic is the
 * published shape of Enrich's passed rows, written once, to Final, by the publish step. Stage and
 * Std stay tables: recomputing them (the line split, the repairs) on every check of their gate
 * costs more than writing them once.
 */
const VIEW_LAYERS: ReadonlySet<Layer> = new Set(['enrich', 'semantic']);

export async function buildLayer(context: RunContext, layer: Exclude<Layer, 'raw' | 'final'>): Promise<LayerCount[]> {
  const { engine, definition, runId } = context;
  const counts: LayerCount[] = [];
  for (const [table, sql] of Object.entries(definition.layers[layer])) {
    const started = Date.now();
    context.step(`  ${layer}.${table}`);
    const [row] = await naming(`${layer}.${table} (layers.${layer}.${table} of the definition)`, async () => {
      if (VIEW_LAYERS.has(layer)) await replaceWithView(context, `${layer}.${table}`, sql);
      else await engine.createTableAs(`${layer}.${table}`, sql);
      // A view's SQL runs here first.
      return engine.query(`SELECT count(*) AS n FROM ${layer}.${table}`);
    });
    const result: LayerCount = { layer, table, rows: Number(row!.n), seconds: (Date.now() - started) / 1000 };
    await engine.exec(`INSERT INTO ops.layer_counts VALUES (${runId}, ${literal(layer)}, ${literal(table)}, ${result.rows}, ${result.seconds})`);
    counts.push(result);
    context.progress(`  ${layer}.${table}: ${count(result.rows)} rows (${result.seconds.toFixed(1)} s)`);
  }
  return counts;
}

/** A view in place of a table that a run before these layers were views left there (it is derived data, rebuilt by every run). */
async function replaceWithView(context: RunContext, name: string, sql: string): Promise<void> {
  const [schema, table] = name.split('.') as [string, string];
  const [found] = await context.engine.query(`SELECT table_type FROM information_schema.tables WHERE table_schema = ${literal(schema)} AND table_name = ${literal(table)}`);
  if (found?.table_type === 'BASE TABLE') await context.engine.exec(`DROP TABLE ${name}`);
  await context.engine.createView(name, sql);
}

/**
 * Reference tables (crosswalks, code lists) written from the definition: ref.<name>. A table whose
 * columns did not change keeps its place and only its rows are replaced: on PostgreSQL, dropping it
 * would take the Enrich views that join it along. One whose columns changed is rebuilt, which
 * the layers built on it must follow: a replay from Enrich or Semantic (which keeps those layers as
 * they are) is then refused before anything is dropped.
 */
export async function writeReferenceTables(context: RunContext, from: Layer): Promise<void> {
  const { engine, definition } = context;
  const sqlType = { integer: 'BIGINT', number: 'DOUBLE PRECISION', text: 'VARCHAR', boolean: 'BOOLEAN' } as const;
  const tables = [];
  for (const [name, table] of Object.entries(definition.reference)) {
    const columns = Object.entries(table.columns);
    const existing = (await engine.tableExists(`ref.${name}`)) ? await engine.columns(`ref.${name}`) : undefined;
    const kept = existing !== undefined && JSON.stringify(existing.map((column) => [column.name, column.type])) === JSON.stringify(columns);
    tables.push({ name, table, columns, kept, existed: existing !== undefined });
  }
  const reshaped = tables.filter((entry) => entry.existed && !entry.kept).map((entry) => `ref.${entry.name}`);
  if (reshaped.length > 0 && VIEW_LAYERS.has(from)) {
    throw new GatehouseError('GH_PIPELINE_NOT_LOADED', `cannot start at ${from}: the columns of ${reshaped.join(', ')} changed in the definition, and the Enrich layer is built on them; replay from std (or earlier) to rebuild it`, { layer: from, tables: reshaped });
  }
  for (const { name, table, columns, kept } of tables) {
    if (kept) {
      await engine.exec(`DELETE FROM ref.${name}`);
    } else {
      await engine.exec(`DROP TABLE IF EXISTS ref.${name} CASCADE`);
      await engine.exec(`CREATE TABLE ref.${name} (${columns.map(([column, type]) => `${column} ${sqlType[type]}`).join(', ')})`);
    }
    const values = table.rows.map((row) => `(${row.map((value, index) => (value === null ? `CAST(NULL AS ${sqlType[columns[index]![1]]})` : typeof value === 'string' ? literal(value) : String(value))).join(', ')})`);
    if (values.length > 0) await engine.exec(`INSERT INTO ref.${name} VALUES ${values.join(', ')}`);
  }
}
