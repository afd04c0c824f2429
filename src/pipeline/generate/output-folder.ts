import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../../core/errors.js';

/** The manifest every generation writes last (generate.ts), and the generator it names. */
export const MANIFEST_FILE = 'manifest.json';
export const GENERATOR = 'gatehouse-ca-k12';

/**
 * Makes `outDir` ready for a generation: created when missing; an earlier generation's files
 * (those its manifest lists, and the manifest) removed, so that a smaller or shorter data set
 * written over a larger one leaves no stale year behind for a run to load. Anything else in the
 * folder is refused, and nothing is removed: it is not ours to delete.
 */
export function prepareOutputFolder(outDir: string): void {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    throw new GatehouseError('GH_INVALID_ARGUMENTS', `the output folder ${outDir} cannot be made: ${(error as Error).message}`, { outDir }, { cause: error });
  }
  const entries = readdirSync(outDir);
  if (entries.length === 0) return;
  const earlier = earlierGeneration(outDir);
  const foreign = entries.filter((entry) => !earlier.has(entry));
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, … (${foreign.length} in all)` : '');
    const why = earlier.size === 0 ? 'and no manifest.json of an earlier `pipeline generate`' : 'that the manifest.json of the earlier generation does not list';
    throw new GatehouseError(
      'GH_INVALID_ARGUMENTS',
      `the output folder ${outDir} holds files ${why}: ${shown} (choose an empty or new folder; nothing was written)`,
      { outDir, foreign: foreign.slice(0, 20) },
    );
  }
  for (const entry of entries) rmSync(path.join(outDir, entry));
}

/** The names an earlier generation wrote into `outDir` (none when its manifest is missing or not ours). */
function earlierGeneration(outDir: string): Set<string> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(path.join(outDir, MANIFEST_FILE), 'utf8'));
  } catch {
    return new Set();
  }
  const { generator, files } = (manifest ?? {}) as { generator?: unknown; files?: unknown };
  if (generator !== GENERATOR || !Array.isArray(files)) return new Set();
  const names = files.map((file: { file?: unknown }) => file?.file).filter((name): name is string => typeof name === 'string' && path.basename(name) === name);
  return new Set([MANIFEST_FILE, ...names]);
}
