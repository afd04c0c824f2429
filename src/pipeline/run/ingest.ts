/**
 * Raw: every source file matched in the data folder is hashed; a file whose hash Raw already holds
 * is skipped (Raw is write-once, so loading the same file again changes nothing); a new one is
 * decoded if it must be, mapped to the source's columns by header name, and appended to raw.<source>.
 * Gate A's file checks (hash match, row count, headers, layout era) are judged here, per file.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../../core/errors.js';
import { sourceColumns, type PipelineDefinition, type SourceDefinition } from '../definition/schema.js';
import { literal, makeScratchFolder } from '../engines/engine.js';
import { mapHeader } from '../raw/header.js';
import { decodeFile, RULE_CP1252, scanFile } from '../raw/scan.js';
import { count, now, seconds, type RunContext } from './context.js';

export interface IngestedFile {
  source: string;
  file: string;
  status: 'loaded' | 'skipped' | 'refused';
  rows: number;
  reason?: string;
}

/** `*` and `?` patterns on file names. */
function matcher(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/**
 * The files of each source in the data folder, by name. A folder that does not exist, or holds no
 * file of any source, is refused (GH_PIPELINE_DATA_MISSING): a run on it would publish nothing new
 * and is most likely pointed at the wrong place. A source without files is only reported.
 */
export function sourceFiles(definition: PipelineDefinition, dataDir: string): Map<string, string[]> {
  let names: string[];
  try {
    names = readdirSync(dataDir).sort();
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOTDIR' ? 'is not a folder' : 'does not exist or cannot be read';
    throw new GatehouseError('GH_PIPELINE_DATA_MISSING', `the data folder ${dataDir} ${why}`, { dataDir });
  }
  const bySource = new Map(Object.entries(definition.sources).map(([source, spec]) => [source, names.filter((name) => matcher(spec.files).test(name))]));
  if ([...bySource.values()].every((files) => files.length === 0)) {
    const patterns = Object.values(definition.sources).map((spec) => spec.files).join(', ');
    throw new GatehouseError('GH_PIPELINE_DATA_MISSING', `no file in ${dataDir} belongs to a source of pipeline "${definition.name}" (file names it takes: ${patterns})`, { dataDir });
  }
  return bySource;
}

export async function ingest(context: RunContext, dataDir: string, bySource: Map<string, string[]>): Promise<IngestedFile[]> {
  const { definition } = context;
  const results: IngestedFile[] = [];
  const temp = makeScratchFolder(context.engine, 'gatehouse-raw-');
  try {
    for (const [source, spec] of Object.entries(definition.sources)) {
      await createRawTable(context, source, spec);
      const files = bySource.get(source) ?? [];
      if (files.length === 0) context.progress(`  raw ${source}: no file matches ${spec.files} in ${dataDir}`);
      for (const name of files) results.push(await ingestFile(context, source, spec, path.join(dataDir, name), temp));
    }
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
  return results;
}

async function createRawTable(context: RunContext, source: string, spec: SourceDefinition): Promise<void> {
  await context.engine.prepareRaw(`raw.${source}`, sourceColumns(spec).map((column) => column.name));
}

async function fileCheck(context: RunContext, source: string, file: string, id: string, ok: boolean, detail: string, flagged = ok ? 0 : 1): Promise<void> {
  if (!context.definition.gates.A.some((check) => check.id === id)) return;
  await context.engine.exec(
    `INSERT INTO ops.check_results VALUES (${context.runId}, 'A', ${literal(id)}, 'builtin', 'refuse', ${literal(source)}, '*', NULL, ${literal(ok ? 'pass' : 'refused')}, 1, ${flagged}, NULL, ${literal(`${path.basename(file)}: ${detail}`)})`,
  );
}

async function ingestFile(context: RunContext, source: string, spec: SourceDefinition, file: string, temp: string): Promise<IngestedFile> {
  const { engine, runId } = context;
  const started = Date.now();
  const name = path.basename(file);
  context.step(`  raw ${source}: ${name}`);
  const scanned = await scanFile(file, spec.delimiter);
  const [known] = await engine.query(`SELECT file_id FROM ops.raw_files WHERE sha256 = ${literal(scanned.sha256)} AND source = ${literal(source)}`);
  if (known) {
    context.progress(`  raw ${source}: ${name} unchanged (sha256 ${scanned.sha256.slice(0, 12)}…), skipped`);
    return { source, file: name, status: 'skipped', rows: 0 };
  }
  const mapping = mapHeader(scanned.header, spec);
  const renamed = mapping.renamed.map((entry) => `${entry.header} → ${entry.column}`).join(', ');
  await fileCheck(context, source, file, 'A.headers_mapped', mapping.missing.length === 0, mapping.missing.length ? `missing ${mapping.missing.join(', ')}` : renamed ? `renamed: ${renamed}` : 'all columns by their published names', mapping.missing.length || mapping.renamed.length);
  await fileCheck(context, source, file, 'A.layout_era', mapping.era !== null, mapping.era ?? 'no known layout era matches the header');
  if (mapping.missing.length > 0 || mapping.era === null) {
    const reason = mapping.missing.length ? `header lacks ${mapping.missing.join(', ')}` : 'unknown layout era';
    context.progress(`  raw ${source}: ${name} REFUSED (${reason})`);
    return { source, file: name, status: 'refused', rows: 0, reason };
  }
  let loadPath = file;
  let coercedLines = scanned.coercedLines;
  let hashMatches = true;
  if (!scanned.ascii) {
    loadPath = path.join(temp, `${scanned.sha256}.utf8`);
    const decoded = await decodeFile(scanned, loadPath);
    coercedLines = decoded.coercedLines;
    hashMatches = decoded.sha256 === scanned.sha256;
  }
  const [next] = await engine.query('SELECT coalesce(max(file_id), 0) + 1 AS id FROM ops.raw_files');
  const fileId = Number(next!.id);
  const columns = sourceColumns(spec);
  const canonicalColumns = columns.map((column) => column.name);
  // Every required column is in the header (mapHeader refused the file otherwise).
  const fieldsNeeded = Math.max(0, ...columns.filter((column) => !column.optional).map((column) => mapping.fileColumns.indexOf(column.name) + 1));
  const loaded = await engine.loadRaw({ table: `raw.${source}`, path: loadPath, delimiter: spec.delimiter, fileColumns: mapping.fileColumns, canonicalColumns, fieldsNeeded, fileId, coercedLines, partition: spec.partition });
  if (scanned.ascii) {
    const after = statSync(file);
    hashMatches = after.size === scanned.bytes && after.mtimeMs === scanned.mtimeMs;
  }
  await fileCheck(context, source, file, 'A.hash_match', hashMatches, hashMatches ? `sha256 ${scanned.sha256}` : 'the file changed while it was loaded');
  await fileCheck(context, source, file, 'A.row_count', loaded.rows > 0, `${loaded.rows} data rows`);
  if (!hashMatches) {
    await engine.removeRawFile(`raw.${source}`, fileId, canonicalColumns);
    throw new GatehouseError('GH_PIPELINE_SOURCE_INVALID', `${file} changed while it was loaded; nothing of it was kept`, { file });
  }
  // A line CP1252 leaves undefined bytes in is marked too, for gate A to quarantine (A.encoding_valid): it was not decoded.
  const decodedLines = coercedLines.filter((entry) => entry.rule === RULE_CP1252).length;
  const invalidLines = coercedLines.length - decodedLines;
  await engine.exec(
    `INSERT INTO ops.raw_files VALUES (${fileId}, ${literal(source)}, ${literal(file)}, ${literal(scanned.sha256)}, ${scanned.bytes}, ${loaded.rows}, ${loaded.rejected},
       ${!scanned.ascii}, ${decodedLines}, ${literal(mapping.era)}, ${literal(JSON.stringify(mapping.fileColumns))}, ${literal(JSON.stringify(mapping.renamed))},
       ${literal(JSON.stringify(mapping.unknown))}, ${runId}, ${literal(now())})`,
  );
  const notes = [decodedLines ? `${decodedLines} CP1252 line(s) decoded` : '', invalidLines ? `${invalidLines} line(s) in no known encoding` : '', renamed ? `renamed ${renamed}` : '', loaded.rejected ? `${loaded.rejected} malformed line(s)` : ''].filter(Boolean);
  context.progress(`  raw ${source}: ${name} ${count(loaded.rows)} rows${notes.length ? ` (${notes.join('; ')})` : ''} in ${seconds(started)}`);
  return { source, file: name, status: 'loaded', rows: loaded.rows };
}
