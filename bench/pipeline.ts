/**
 * Pipeline benchmark: generate N rows of synthetic California K-12 files, then, in the same run and
 * on the same files, DuckDB's plain read_csv load (the baseline) and the full pipeline (Raw → Final,
 * every gate). Each phase runs in its own process (its peak RSS is its own). Reports rows/s, wall
 * time, peak RSS and pipeline ÷ plain load. Targets (issue 7): 60M rows end to end ≤ 5 min, within
 * 3× the plain load, peak RSS < 8 GiB.
 * `npm run bench:pipeline -- --rows 1000000 [--seed 1] [--threads 2] [--memory-limit 6GB] [--keep] [--replay]`
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './lib/paths.js';
import { writeResults } from './lib/results.js';
import { formatTable } from './lib/table.js';

const args = process.argv.slice(2);
const option = (name: string, fallback?: string) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : fallback;
};
const flag = (name: string) => args.includes(`--${name}`);

interface Phase {
  phase: string;
  seconds: number;
  /** CPU of the phase's process, all threads (it includes a --replay when one is asked for). */
  cpuSeconds: number;
  peakRssMiB: number;
  rows: number;
  [key: string]: unknown;
}

function runPhase(phase: string, phaseArgs: string[]): Promise<Phase> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist/bench/pipeline-phase.js'), phase, ...phaseArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let lastLine = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      process.stderr.write(text.replace(/^/gm, `  [${phase}] `).replace(/ {2}\[[a-z]+\] $/, ''));
      lastLine = text;
    });
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Phase) : reject(new Error(`${phase} exited ${code}: ${lastLine}`))));
  });
}

async function main(): Promise<void> {
  const rows = Number((option('rows', '1000000') ?? '').replace(/_/g, ''));
  const work = mkdtempSync(path.join(option('dir', tmpdir())!, 'gatehouse-bench-pipeline-'));
  const data = path.join(work, 'data');
  const tuning = [...(option('threads') ? ['--threads', option('threads')!] : []), ...(option('memory-limit') ? ['--memory-limit', option('memory-limit')!] : [])];
  try {
    process.stderr.write(`pipeline bench: ${rows.toLocaleString('en-US')} rows in ${work}\n`);
    const generated = await runPhase('generate', ['--rows', String(rows), '--seed', option('seed', '1')!, '--data', data]);
    const plainDatabase = path.join(work, 'plain.duckdb');
    const baseline = await runPhase('baseline', ['--data', data, '--db', plainDatabase, ...tuning]);
    // Measured: its gigabytes would only crowd the pipeline's files out of the page cache (and the disk).
    for (const file of [plainDatabase, `${plainDatabase}.wal`, `${plainDatabase}.tmp`]) rmSync(file, { recursive: true, force: true });
    const pipeline = await runPhase('pipeline', ['--data', data, '--db', path.join(work, 'pipeline.duckdb'), '--definition', path.join(REPO_ROOT, 'examples/pipeline/ca-k12.yaml'), '--replay', String(flag('replay')), ...tuning]);
    // The run alone (a --replay afterwards is reported on its own); peak RSS covers both.
    const pipelineSeconds = Number(pipeline.runSeconds ?? pipeline.seconds);
    const table = [
      ['generate', generated.rows.toLocaleString('en-US'), generated.seconds.toFixed(1), generated.cpuSeconds.toFixed(1), Math.round(generated.rows / generated.seconds).toLocaleString('en-US'), generated.peakRssMiB, '-'],
      ['plain read_csv load (baseline)', baseline.rows.toLocaleString('en-US'), baseline.seconds.toFixed(1), baseline.cpuSeconds.toFixed(1), Math.round(baseline.rows / baseline.seconds).toLocaleString('en-US'), baseline.peakRssMiB, '1.00'],
      ['pipeline Raw → Final, gates A–E', pipeline.rows.toLocaleString('en-US'), pipelineSeconds.toFixed(1), pipeline.cpuSeconds.toFixed(1), Math.round(pipeline.rows / pipelineSeconds).toLocaleString('en-US'), pipeline.peakRssMiB, (pipelineSeconds / baseline.seconds).toFixed(2)],
    ];
    process.stdout.write(`\n${formatTable(['phase', 'rows', 'wall s', 'CPU s', 'rows/s', 'peak RSS MiB', '× plain load'], table)}\n`);
    const steps = (pipeline.steps as Array<{ step: string; seconds: number }>) ?? [];
    process.stdout.write(`\n${formatTable(['pipeline step', 'seconds'], steps.map((step) => [step.step, step.seconds.toFixed(1)]))}\n`);
    process.stdout.write(`\n${pipeline.checks} checks; ${Number(pipeline.quarantined).toLocaleString('en-US')} rows quarantined, ${Number(pipeline.published).toLocaleString('en-US')} published, ${pipeline.held} partitions held` +
      (pipeline.replaySeconds !== undefined ? `; replay from raw ${Number(pipeline.replaySeconds).toFixed(1)} s, Final ${pipeline.replayIdentical ? 'identical' : 'DIFFERENT'}` : '') + '\n');
    const file = writeResults(`pipeline-${rows}`, { rows, generated, baseline, pipeline, ratio: pipelineSeconds / baseline.seconds });
    process.stdout.write(`results: ${path.relative(REPO_ROOT, file)}\n`);
  } finally {
    if (!flag('keep')) rmSync(work, { recursive: true, force: true });
    else process.stderr.write(`kept ${work}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = 1;
});
