/**
 * One phase of the pipeline benchmark, in a process of its own so that its peak RSS is its own:
 * `generate`, `baseline` (DuckDB's plain read_csv of the same files) or `pipeline` (every layer and
 * gate). Prints one JSON line: seconds, peak RSS and the phase's figures.
 */
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { loadDefinition } from '../src/pipeline/definition/load.js';
import { openEngine } from '../src/pipeline/engines/open.js';
import { literal } from '../src/pipeline/engines/engine.js';
import { generate } from '../src/pipeline/generate/generate.js';
import { runPipeline } from '../src/pipeline/run/run.js';

const [phase, ...args] = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};

async function main(): Promise<Record<string, unknown>> {
  const data = path.resolve(option('data')!);
  const threads = option('threads') ? Number(option('threads')) : undefined;
  const memoryLimit = option('memory-limit');
  if (phase === 'generate') {
    const manifest = generate({ rows: Number(option('rows')), seed: Number(option('seed') ?? 1), outDir: data });
    return { rows: manifest.counts.rows, factRows: manifest.counts.factRows, bytes: manifest.counts.bytes, files: manifest.files.length, faults: Object.fromEntries(Object.entries(manifest.faults).map(([kind, record]) => [kind, record.count])) };
  }
  const database = path.resolve(option('db')!);
  rmSync(database, { force: true });
  rmSync(`${database}.wal`, { force: true });
  if (phase === 'baseline') {
    // The plain load: DuckDB reads each file with its own sniffing into a table of the same database kind
    // (ignore_errors: it cannot read the few CP1252 lines the pipeline decodes, so it skips them).
    const engine = await openEngine({ engine: 'duckdb', database, ...(threads ? { threads } : {}), ...(memoryLimit ? { memoryLimit } : {}) });
    let rows = 0;
    try {
      const files = readdirSync(data).filter((name) => name.endsWith('.txt')).sort();
      for (const [index, name] of files.entries()) {
        const delimiter = name.startsWith('sb_') ? '^' : '\t';
        await engine.exec(`CREATE TABLE plain_${index} AS SELECT * FROM read_csv(${literal(path.join(data, name))}, delim = ${literal(delimiter)}, header = true, quote = '', ignore_errors = true)`);
        rows += Number((await engine.query(`SELECT count(*) AS n FROM plain_${index}`))[0]!.n);
      }
      await engine.exec('CHECKPOINT');
    } finally {
      await engine.close();
    }
    return { rows };
  }
  if (phase === 'pipeline') {
    const loaded = loadDefinition(path.resolve(option('definition')!));
    const engine = await openEngine({ engine: 'duckdb', database, ...(threads ? { threads } : {}), ...(memoryLimit ? { memoryLimit } : {}) });
    const steps: Array<{ step: string; seconds: number }> = [];
    let last = Date.now();
    const phaseStarted = Date.now();
    const progress = (message: string) => {
      const now = Date.now();
      process.stderr.write(`${((now - phaseStarted) / 1000).toFixed(1).padStart(6)}s ${message}\n`);
      if (/^\s{2}(raw |stage\.|std\.|enrich\.|semantic\.|final\.|gate [A-E])/.test(message) || /^gate [A-E] on/.test(message)) {
        steps.push({ step: message.trim().replace(/ done in .*$/, ' (views, raw text)').replace(/ \(.*$| in .*$|:.*$/, ''), seconds: (now - last) / 1000 });
      }
      last = now;
    };
    try {
      const report = await runPipeline(engine, loaded, { dataDir: data, progress });
      await engine.exec('CHECKPOINT');
      const runSeconds = (Date.now() - phaseStarted) / 1000;
      const replayStarted = Date.now();
      const replay = option('replay') === 'true' ? await runPipeline(engine, loaded, { from: 'raw' }) : null;
      const rows = report.files.reduce((sum, file) => sum + file.rows, 0);
      return {
        rows,
        runSeconds,
        status: report.status,
        held: report.held.length,
        quarantined: report.gates.filter((gate) => gate.gate !== 'E').reduce((sum, gate) => sum + gate.quarantined, 0),
        published: report.gates.filter((gate) => gate.gate === 'E').reduce((sum, gate) => sum + gate.promoted, 0),
        checks: new Set(report.checks.map((check) => check.check_id)).size,
        steps,
        ...(replay ? { replaySeconds: (Date.now() - replayStarted) / 1000, replayIdentical: JSON.stringify(replay.finalAfter) === JSON.stringify(report.finalAfter) } : {}),
      };
    } finally {
      await engine.close();
    }
  }
  throw new Error(`unknown phase ${phase}`);
}

const started = Date.now();
main().then(
  (figures) => {
    const usage = process.resourceUsage();
    // CPU of every thread (DuckDB's included): against the wall time it tells work from waiting (on disk, say).
    const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
    process.stdout.write(`${JSON.stringify({ phase, seconds: (Date.now() - started) / 1000, cpuSeconds, peakRssMiB: Math.round(usage.maxRSS / 1024), ...figures })}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
