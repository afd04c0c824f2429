/**
 * `gatehouse pipeline generate`: a deterministic synthetic California K-12 data set in the real
 * file layouts, with faults injected at known rates and a manifest.json that records exactly what
 * was injected where. Rows stream to disk: memory holds the universe (schools), never the rows.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeCaaspp, writeEntities } from './caaspp.js';
import type { GeneratorContext, WrittenFile } from './context.js';
import { writeDirectory } from './directory.js';
import { writeEnrollment } from './enrollment.js';
import { FaultBook } from './faults.js';
import { GENERATOR, MANIFEST_FILE, prepareOutputFolder } from './output-folder.js';
import { Random } from './random.js';
import { buildUniverse } from './universe.js';

export interface GenerateOptions {
  /** About this many fact rows (enrollment + CAASPP research rows); the manifest has the exact count. */
  rows: number;
  seed: number;
  outDir: string;
  /** Multiplies every default fault rate (0 = a clean data set). */
  faultScale?: number;
  /** Number of school years (default: from the row count, 2 to 12). */
  years?: number;
  /** Called after each file. */
  onFile?: (file: WrittenFile) => void;
  /** Called with the number of lines written so far, about every MiB (the run is synchronous: a timer would not fire). */
  onLines?: (linesSoFar: number) => void;
}

export interface Manifest {
  generator: typeof GENERATOR;
  version: 1;
  seed: number;
  rowsRequested: number;
  years: number[];
  counts: { counties: number; districts: number; schools: number; factRows: number; rows: number; bytes: number };
  files: WrittenFile[];
  rates: Record<string, number>;
  faults: Record<string, { count: number; byFile: Record<string, number>; lines: string[]; linesComplete: boolean; partitions?: string[]; headers?: unknown[] }>;
}

export function generate(options: GenerateOptions): Manifest {
  prepareOutputFolder(options.outDir);
  const root = new Random(options.seed);
  const universe = buildUniverse(options.rows, root.fork(1), options.years);
  const faultScale = options.faultScale ?? 1;
  let lines = 0;
  const linesWritten = (count: number) => {
    lines += count;
    options.onLines?.(lines);
  };
  const context: GeneratorContext = { universe, faults: new FaultBook(root.fork(2), faultScale), random: root.fork(3), outDir: options.outDir, nextUnknownSchool: 9_000_000, linesWritten };
  const files: WrittenFile[] = [];
  const done = (file: WrittenFile) => {
    files.push(file);
    options.onFile?.(file);
  };
  const renameHeaders = faultScale > 0;
  done(writeDirectory(context, renameHeaders));
  for (const year of universe.years) {
    done(writeEnrollment(context, year, renameHeaders && year === universe.years.at(-1)));
    done(writeEntities(context, year));
    done(writeCaaspp(context, year));
  }
  const { rates, faults } = context.faults.toJSON() as Pick<Manifest, 'rates' | 'faults'>;
  const manifest: Manifest = {
    generator: GENERATOR,
    version: 1,
    seed: options.seed,
    rowsRequested: options.rows,
    years: universe.years,
    counts: {
      counties: new Set(universe.districts.map((district) => district.countyCode)).size,
      districts: universe.districts.length,
      schools: universe.districts.reduce((sum, district) => sum + district.schools.length, 0),
      factRows: files.filter((file) => file.source === 'enrollment' || file.source === 'caaspp').reduce((sum, file) => sum + file.rows, 0),
      rows: files.reduce((sum, file) => sum + file.rows, 0),
      bytes: files.reduce((sum, file) => sum + file.bytes, 0),
    },
    files,
    rates,
    faults,
  };
  writeFileSync(path.join(options.outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
