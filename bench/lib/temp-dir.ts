import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A fresh folder under the system temp folder, and the function that deletes it. */
export function makeTempDir(prefix: string): { path: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `${prefix}-`));
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `work` in a fresh temp folder (see makeTempDir), removed afterwards however `work` ends. */
export async function inTempDir<T>(prefix: string, work: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = makeTempDir(prefix);
  try {
    return await work(dir.path);
  } finally {
    dir.remove();
  }
}
