/**
 * Crash recovery for the pipeline's runs: a run whose process stopped midway (killed, a signal it
 * did not catch, a power cut) would stay `running` in ops.runs for ever. At the start of the next
 * run or replay, and in status, each one whose process is gone is marked `interrupted`, saying
 * whether it had changed Final: the publish writes the Final tables and ops.contracts (naming the
 * run) in one transaction, so a run that ops.contracts names had replaced Final, and one it does
 * not name had left Final as it was.
 */
import { literal, type PipelineEngine } from '../engines/engine.js';
import { ownerGone as processGone, processOwner } from '../engines/owner.js';
import { now } from './context.js';

export { processOwner } from '../engines/owner.js';

/**
 * Whether the process that started a run is gone. DuckDB: the file is locked to one process, the
 * one asking, so every run but its own is gone (an owner-less one, from before runs named theirs,
 * too). PostgreSQL: an owner on this host whose pid no longer exists; one on another host, or none,
 * cannot be told and stays `running`.
 */
function ownerGone(engine: PipelineEngine, owner: string | null): boolean {
  if (owner === processOwner()) return false;
  if (engine.dialect === 'duckdb') return true;
  if (owner === null) return false;
  return processGone(owner);
}

export interface InterruptedRun {
  runId: number;
  owner: string | null;
  /** The Final tables the run had published before it stopped (none: Final is as it was before it). */
  published: string[];
  /** What ops.runs.error now says. */
  message: string;
}

/** Marks each run left `running` by a process that is gone as `interrupted`; returns them. */
export async function closeInterruptedRuns(engine: PipelineEngine): Promise<InterruptedRun[]> {
  const closed: InterruptedRun[] = [];
  for (const row of await engine.query(`SELECT run_id, owner FROM ops.runs WHERE status = 'running' ORDER BY run_id`)) {
    const runId = Number(row.run_id);
    const owner = row.owner === null ? null : String(row.owner);
    if (!ownerGone(engine, owner)) continue;
    const published = (await engine.query(`SELECT table_name FROM ops.contracts WHERE run_id = ${runId} ORDER BY table_name`)).map((table) => String(table.table_name));
    const by = owner ? `the process running it (${owner})` : 'the process running it';
    let finalHashes: string | null = null;
    let message: string;
    if (published.length > 0) {
      // Published before it stopped: Final holds this run's tables, so its record gets their hashes, as a finished run's has.
      const hashes: Record<string, string> = {};
      for (const table of published) if (await engine.tableExists(`final.${table}`)) hashes[table] = await engine.tableHash(`final.${table}`);
      finalHashes = JSON.stringify(hashes);
      message = `interrupted: ${by} stopped after it had published Final (${published.join(', ')}): Final holds this run's tables; found at ${now()}`;
    } else {
      message = `interrupted: ${by} stopped before it published; Final was not changed by it; found at ${now()}`;
    }
    await engine.exec(
      `UPDATE ops.runs SET status = 'interrupted', error = ${literal(message)}${finalHashes === null ? '' : `, final_hashes = ${literal(finalHashes)}`} WHERE run_id = ${runId} AND status = 'running'`,
    );
    closed.push({ runId, owner, published, message });
  }
  return closed;
}
