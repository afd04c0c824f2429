/**
 * One gate: its partition checks (which may hold a district × year back), its row checks (which
 * give each failing row its disposition), the ledger of every result per partition, the quarantine,
 * the view of the rows that passed (what the next layer reads), and the assertion that rows in =
 * rows promoted + rows quarantined.
 */
import { GatehouseError } from '../../core/errors.js';
import { countsSql, dispositionSql, duplicatesSql, joinsFor, rowRulesFor, type RowRule } from '../core/check-sql.js';
import { GATE_INPUT, type Check, type Gate } from '../definition/schema.js';
import { literal } from '../engines/engine.js';
import { count, naming, type GateCount, type RunContext } from './context.js';
import { fillRawText } from './raw-text.js';

const HELD = 'gh_held';

export function gateTables(context: RunContext, gate: Gate): string[] {
  const layer = GATE_INPUT[gate];
  return layer === 'raw' ? Object.keys(context.definition.sources) : Object.keys(context.definition.layers[layer as 'stage' | 'std' | 'enrich' | 'semantic']);
}

/** Gates A–D (gate E is the publish step, see publish.ts). */
export async function evaluateGate(context: RunContext, gate: Exclude<Gate, 'E'>): Promise<GateCount[]> {
  const { engine, definition, runId } = context;
  const layer = GATE_INPUT[gate];
  const checks = definition.gates[gate];
  const tables = gateTables(context, gate);
  await engine.exec(`DELETE FROM ops.quarantine WHERE gate = ${literal(gate)}`);
  await engine.exec(`DELETE FROM ops.partitions WHERE run_id = ${runId} AND gate = ${literal(gate)}`);
  context.step(`  gate ${gate}: partition checks`);
  const held = await partitionChecks(context, gate, checks, tables);
  const [released] = await engine.query('SELECT count(*) AS n FROM ops.releases WHERE file_id IS NOT NULL');
  const rowReleases = Number(released!.n) > 0;
  const counts: GateCount[] = [];
  for (const table of tables) {
    context.step(`  gate ${gate} ${table}`);
    const qualified = `${layer}.${table}`;
    const rules = rowRulesFor(checks, table, layer === 'raw' ? definition.sources[table] : undefined);
    for (const rule of rules) {
      if (rule.duplicates) await naming(`gate ${gate} on ${qualified}, check ${rule.id}`, () => engine.createTableAs(rule.duplicates!.table, duplicatesSql(qualified, rule.duplicates!.key)));
    }
    await naming(() => refusedCheck(context, gate, qualified, rules), () => engine.createTableAs('gh_counts', countsSql(qualified, rules)));
    for (const [index, rule] of rules.entries()) {
      const status = rule.action === 'quarantine' ? 'quarantined' : rule.action === 'coerce' ? 'coerced' : 'warn';
      await engine.exec(
        `INSERT INTO ops.check_results SELECT ${runId}, ${literal(gate)}, ${literal(rule.id)}, ${literal(rule.kind)}, ${literal(rule.action)}, ${literal(table)},
           district_key, year, CASE WHEN f${index} > 0 THEN ${literal(status)} ELSE 'pass' END, n, f${index}, NULL, NULL FROM gh_counts`,
      );
    }
    const disposition = dispositionSql(qualified, rules, held > 0 ? HELD : null, rowReleases);
    if (disposition) {
      await engine.exec(
        `INSERT INTO ops.quarantine
         SELECT (SELECT coalesce(max(quarantine_id), 0) FROM ops.quarantine) + row_number() OVER (ORDER BY x._file_id, x._line), ${runId}, ${literal(gate)}, ${literal(layer)}, ${literal(table)},
           x.rule, x._file_id, x._line, x._district_key, x._year, NULL
         FROM (${disposition}) x
         WHERE x.rule IS NOT NULL`,
      );
    }
    for (const rule of rules) if (rule.duplicates) await engine.exec(`DROP TABLE IF EXISTS ${rule.duplicates.table}`);
    // A left join on the (small) quarantine, not NOT EXISTS: DuckDB plans the latter as a delim join, several times slower on big tables.
    const [flagged] = await engine.query(`SELECT count(*) AS n FROM ops.quarantine WHERE gate = ${literal(gate)} AND table_name = ${literal(table)}`);
    await engine.createView(
      `${layer}_passed.${table}`,
      Number(flagged!.n) === 0
        ? `SELECT t.* FROM ${qualified} t`
        : `SELECT t.* FROM ${qualified} t LEFT JOIN (SELECT file_id, line FROM ops.quarantine WHERE gate = ${literal(gate)} AND table_name = ${literal(table)}) q
           ON q.file_id = t._file_id AND q.line = t._line WHERE q.line IS NULL`,
    );
    const [totals] = await engine.query(
      `SELECT (SELECT coalesce(sum(n), 0) FROM gh_counts) AS rows_in,
         (SELECT count(*) FROM ops.quarantine WHERE gate = ${literal(gate)} AND table_name = ${literal(table)}) AS quarantined,
         (SELECT count(*) FROM ${layer}_passed.${table}) AS promoted`,
    );
    const result: GateCount = { gate, table, rowsIn: Number(totals!.rows_in), promoted: Number(totals!.promoted), quarantined: Number(totals!.quarantined) };
    if (result.rowsIn !== result.promoted + result.quarantined) {
      throw new GatehouseError('GH_PIPELINE_INVARIANT', `gate ${gate}, ${table}: ${result.rowsIn} rows in but ${result.promoted} promoted + ${result.quarantined} quarantined`, { ...result });
    }
    await engine.exec(`INSERT INTO ops.gate_counts VALUES (${runId}, ${literal(gate)}, ${literal(table)}, ${result.rowsIn}, ${result.promoted}, ${result.quarantined})`);
    counts.push(result);
    context.progress(`  gate ${gate} ${table}: ${count(result.rowsIn)} in, ${count(result.promoted)} promoted, ${count(result.quarantined)} quarantined`);
  }
  await engine.exec('DROP TABLE IF EXISTS gh_counts');
  await fillRawText(context, gate);
  if (held > 0) await engine.exec(`DROP TABLE IF EXISTS ${HELD}`);
  return counts;
}

/** Where the row checks of a table failed: the first check whose condition the engine refuses on its own. */
async function refusedCheck(context: RunContext, gate: Gate, qualified: string, rules: readonly RowRule[]): Promise<string> {
  for (const rule of rules) {
    try {
      await context.engine.query(`SELECT 1 FROM ${qualified} t ${joinsFor(rules)} WHERE ${rule.when} LIMIT 0`);
    } catch {
      return `gate ${gate} on ${qualified}, check ${rule.id}`;
    }
  }
  return `gate ${gate} on ${qualified}`;
}

/**
 * Runs the partition and drift checks of a gate; writes every result (pass included, for every
 * partition of the gate's tables) to the ledger; returns how many partitions are held, kept in gh_held.
 */
async function partitionChecks(context: RunContext, gate: Gate, checks: readonly Check[], tables: readonly string[]): Promise<number> {
  const { engine, runId } = context;
  const layer = GATE_INPUT[gate];
  const judged = checks.filter((check) => check.kind === 'partition' || check.kind === 'drift');
  if (judged.length === 0) return 0;
  await engine.createTableAs('gh_partitions', tables.map((table) => `SELECT DISTINCT _district_key AS district_key, _year AS year FROM ${layer}.${table}`).join(' UNION '));
  await engine.createTableAs('gh_judged', `SELECT CAST(NULL AS VARCHAR) AS check_id, CAST(NULL AS INTEGER) AS check_order, CAST(NULL AS VARCHAR) AS district_key, CAST(NULL AS INTEGER) AS year, CAST(NULL AS DOUBLE PRECISION) AS observed, CAST(NULL AS BOOLEAN) AS ok, CAST(NULL AS VARCHAR) AS action WHERE 1 = 0`);
  for (const [order, check] of judged.entries()) {
    let sql: string;
    if (check.kind === 'partition') sql = `SELECT _district_key AS district_key, _year AS year, CAST(observed AS DOUBLE PRECISION) AS observed, ok FROM (${check.sql}) p`;
    else if (check.kind === 'drift') sql = await driftSql(context, check.tables, check.max_change, layer);
    else continue;
    await naming(`gate ${gate}, check ${check.id}`, () =>
      engine.exec(`INSERT INTO gh_judged SELECT ${literal(check.id)}, ${order}, district_key, year, observed, coalesce(ok, false), ${literal(check.action)} FROM (${sql}) j`),
    );
    // Every partition gets a result: those the check's SQL did not judge passed it.
    await engine.exec(
      `INSERT INTO ops.check_results
       SELECT ${runId}, ${literal(gate)}, ${literal(check.id)}, ${literal(check.kind)}, ${literal(check.action)}, NULL, p.district_key, p.year,
         CASE WHEN j.ok IS NULL OR j.ok THEN 'pass' WHEN ${literal(check.action)} = 'warn' THEN 'warn'
              WHEN EXISTS (SELECT 1 FROM ops.releases r WHERE r.rule = ${literal(check.id)} AND r.file_id IS NULL AND r.district_key = p.district_key AND r.year = p.year) THEN 'released'
              ELSE 'held' END,
         NULL, NULL, j.observed, NULL
       FROM gh_partitions p LEFT JOIN gh_judged j ON j.check_id = ${literal(check.id)} AND j.district_key = p.district_key AND j.year = p.year`,
    );
  }
  await engine.createTableAs(
    HELD,
    `SELECT district_key, year, rule FROM (
       SELECT j.district_key, j.year, j.check_id AS rule, row_number() OVER (PARTITION BY j.district_key, j.year ORDER BY j.check_order) AS pick
       FROM gh_judged j
       WHERE NOT j.ok AND j.action = 'hold'
         AND NOT EXISTS (SELECT 1 FROM ops.releases r WHERE r.rule = j.check_id AND r.file_id IS NULL AND r.district_key = j.district_key AND r.year = j.year)) h
     WHERE pick = 1`,
  );
  await engine.exec(`INSERT INTO ops.partitions SELECT ${runId}, ${literal(gate)}, district_key, year, 'held', rule FROM ${HELD}`);
  const [held] = await engine.query(`SELECT count(*) AS n FROM ${HELD}`);
  await engine.exec('DROP TABLE IF EXISTS gh_judged; DROP TABLE IF EXISTS gh_partitions');
  const heldCount = Number(held!.n);
  if (heldCount > 0) context.progress(`  gate ${gate}: ${heldCount} partition(s) held back`);
  else await engine.exec(`DROP TABLE IF EXISTS ${HELD}`);
  return heldCount;
}

/** Row counts per partition against the latest earlier run that recorded them; records this run's. */
async function driftSql(context: RunContext, tables: readonly string[], maxChange: number, layer: string): Promise<string> {
  const { engine, runId } = context;
  await engine.exec(`DELETE FROM ops.partition_stats WHERE run_id = ${runId} AND table_name IN (${tables.map(literal).join(', ')})`);
  for (const table of tables) {
    await engine.exec(`INSERT INTO ops.partition_stats SELECT ${runId}, ${literal(table)}, _district_key, _year, count(*) FROM ${layer}.${table} GROUP BY _district_key, _year`);
  }
  const previous = `(SELECT max(run_id) FROM ops.partition_stats WHERE run_id < ${runId})`;
  return `SELECT c.district_key, c.year, max(abs(c.rows - p.rows) * 1.0 / p.rows) AS observed, max(abs(c.rows - p.rows) * 1.0 / p.rows) <= ${maxChange} AS ok
    FROM ops.partition_stats c JOIN ops.partition_stats p ON p.table_name = c.table_name AND p.district_key = c.district_key AND p.year = c.year AND p.run_id = ${previous}
    WHERE c.run_id = ${runId} AND p.rows > 0 GROUP BY c.district_key, c.year`;
}
