/**
 * Gate E and the publish step: each semantic table is judged against its serving contract and the
 * contract last published; only if every table passes is Final written. A partition held back at an
 * earlier gate keeps the rows it had in Final (the last good publication); every other partition
 * is replaced by this run's rows. The swap of all Final tables, the contracts published and the run's
 * status `published` are one transaction.
 */
import { judgeContract, type Contract } from '../core/contracts.js';
import { literal } from '../engines/engine.js';
import { count, now, type GateCount, type RunContext } from './context.js';

export interface ContractResult {
  table: string;
  check: string;
  ok: boolean;
  detail: string;
}

export interface PublishResult {
  counts: GateCount[];
  contract: ContractResult[];
  refused: boolean;
  /** Rows kept in Final for held partitions, per table. */
  kept: Record<string, number>;
  /** The Final tables' content hashes once published (not for a dry run or a refused publish). */
  finalAfter?: Record<string, string>;
}

export async function publish(context: RunContext): Promise<PublishResult> {
  const { engine, definition, runId } = context;
  const checks = new Map(definition.gates.E.filter((check) => check.kind === 'builtin').map((check) => [check.kind === 'builtin' ? check.rule : '', check.id]));
  const results: ContractResult[] = [];
  const counts: GateCount[] = [];
  for (const [table, contract] of Object.entries(definition.contracts)) {
    const semantic = `semantic.${table}`;
    const actual = (await engine.columns(semantic)).map((column) => ({ name: column.name, type: column.type }));
    const [stored] = await engine.query(`SELECT version, columns, key_columns FROM ops.contracts WHERE table_name = ${literal(table)}`);
    const published: Contract | null = stored ? { version: Number(stored.version), columns: JSON.parse(String(stored.columns)), key: JSON.parse(String(stored.key_columns)) } : null;
    const findings: Array<{ rule: string; ok: boolean; detail: string; warnOnly?: boolean }> = judgeContract(actual, contract, published);
    // One pass over the view (it is computed from Std at every read): its rows and its duplicated keys.
    const [keys] = await engine.query(`SELECT coalesce(sum(n), 0) AS rows, count(*) FILTER (WHERE n > 1) AS duplicated FROM (SELECT count(*) AS n FROM ${semantic} GROUP BY ${contract.key.join(', ')}) k`);
    const rows = Number(keys!.rows);
    const duplicated = Number(keys!.duplicated);
    findings.push({ rule: 'contract_key_unique', ok: duplicated === 0, detail: duplicated === 0 ? `key (${contract.key.join(', ')}) unique` : `${duplicated} duplicated key(s)` });
    findings.push({ rule: 'not_empty', ok: rows > 0, detail: `${rows} rows`, warnOnly: true });
    for (const finding of findings) {
      const id = checks.get(finding.rule);
      if (!id) continue;
      results.push({ table, check: id, ok: finding.ok || finding.warnOnly === true, detail: finding.detail });
      const status = finding.ok ? 'pass' : finding.warnOnly ? 'warn' : 'refused';
      await engine.exec(`INSERT INTO ops.check_results VALUES (${runId}, 'E', ${literal(id)}, 'builtin', ${literal(finding.warnOnly ? 'warn' : 'refuse')}, ${literal(table)}, '*', NULL, ${literal(status)}, ${rows}, ${finding.ok ? 0 : 1}, NULL, ${literal(finding.detail)})`);
    }
    counts.push({ gate: 'E', table, rowsIn: rows, promoted: rows, quarantined: 0 });
  }
  const refused = results.some((result) => !result.ok);
  const kept: Record<string, number> = {};
  if (refused) {
    for (const result of results.filter((entry) => !entry.ok)) context.progress(`  gate E ${result.table}: ${result.check} FAILED: ${result.detail}`);
    return { counts: counts.map((entry) => ({ ...entry, promoted: 0 })), contract: results, refused, kept };
  }
  for (const entry of counts) await engine.exec(`INSERT INTO ops.gate_counts VALUES (${runId}, 'E', ${literal(entry.table)}, ${entry.rowsIn}, ${entry.promoted}, 0)`);
  if (context.dryRun) {
    context.progress('  gate E: dry run, nothing written to Final');
    return { counts, contract: results, refused, kept };
  }
  await engine.exec('BEGIN TRANSACTION');
  try {
    for (const [table, contract] of Object.entries(definition.contracts)) {
      context.step(`  final.${table}`);
      const semanticColumns = (await engine.columns(`semantic.${table}`)).map((column) => `${column.name}:${column.engineType}`).join(',');
      const finalExists = await engine.tableExists(`final.${table}`);
      const sameShape = finalExists && (await engine.columns(`final.${table}`)).map((column) => `${column.name}:${column.engineType}`).join(',') === semanticColumns;
      const keep = sameShape
        ? ` UNION ALL SELECT f.* FROM final.${table} f JOIN (SELECT DISTINCT district_key, year FROM ops.partitions WHERE run_id = ${runId} AND status = 'held') p ON p.district_key = f._district_key AND p.year = f._year`
        : '';
      await engine.exec(`DROP TABLE IF EXISTS final.${table}__next`);
      await engine.exec(`CREATE TABLE final.${table}__next AS SELECT * FROM semantic.${table}${keep}`);
      await engine.exec(`DROP TABLE IF EXISTS final.${table}`);
      await engine.exec(`ALTER TABLE final.${table}__next RENAME TO ${table}`);
      const gateCount = counts.find((entry) => entry.table === table)!;
      const [finalRows] = await engine.query(`SELECT count(*) AS n FROM final.${table}`);
      kept[table] = Number(finalRows!.n) - gateCount.rowsIn;
      await engine.exec(`DELETE FROM ops.contracts WHERE table_name = ${literal(table)}`);
      await engine.exec(`INSERT INTO ops.contracts VALUES (${literal(table)}, ${contract.version}, ${literal(JSON.stringify(contract.columns))}, ${literal(JSON.stringify(contract.key))}, ${runId})`);
      context.progress(`  final.${table}: ${count(gateCount.promoted)} rows published${kept[table] ? `, ${count(kept[table])} kept for held partitions` : ''}`);
    }
    // The run is marked published in the same transaction, so that a process stopped after the swap never leaves a
    // published run `running` (nor a run marked published whose Final was not written).
    const finalAfter = await finalHashes(context);
    await engine.exec(`UPDATE ops.runs SET finished_at = ${literal(now())}, status = 'published', final_hashes = ${literal(JSON.stringify(finalAfter))} WHERE run_id = ${runId}`);
    await engine.exec('COMMIT');
    return { counts, contract: results, refused, kept, finalAfter };
  } catch (error) {
    await engine.exec('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Content hashes of the Final tables (what replay compares). */
export async function finalHashes(context: Pick<RunContext, 'engine' | 'definition'>): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const table of Object.keys(context.definition.contracts)) {
    if (await context.engine.tableExists(`final.${table}`)) hashes[table] = await context.engine.tableHash(`final.${table}`);
  }
  return hashes;
}

/** A Final table whose content hash a run changed: new (not in Final before), removed (not after) or changed. */
export interface FinalDifference {
  table: string;
  change: 'new' | 'removed' | 'changed';
}

/** The Final tables whose hashes differ between two sets of content hashes, over the tables of both. */
export function finalDifferences(before: Record<string, string>, after: Record<string, string>): FinalDifference[] {
  const tables = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return tables
    .filter((table) => before[table] !== after[table])
    .map((table) => ({ table, change: before[table] === undefined ? 'new' : after[table] === undefined ? 'removed' : 'changed' }));
}
