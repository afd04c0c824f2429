import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { GatehouseError } from '../core/errors.js';

/** A `--snapshot-dir` file: `<dir>/<server>.json`, a tools/list `tools` array (or `{"tools": [...]}`), not yet checked tool by tool. */
export interface ToolSnapshot {
  file: string;
  tools: unknown[];
}

/**
 * The snapshots of the servers named, read before anything is opened: a --snapshot-dir that is
 * not a folder is GH_INVALID_ARGUMENTS (ignoring it would start every server live instead), and
 * a file there that is not JSON or not a snapshot is GH_CONFIG_INVALID naming it. A server
 * without a file is absent from the map.
 */
export function readSnapshots(dir: string, servers: readonly string[]): Map<string, ToolSnapshot> {
  let isFolder: boolean;
  try {
    isFolder = statSync(dir).isDirectory();
  } catch (error) {
    throw new GatehouseError('GH_INVALID_ARGUMENTS', `--snapshot-dir: "${dir}" cannot be used: ${(error as Error).message}`, { option: '--snapshot-dir', value: dir });
  }
  if (!isFolder) throw new GatehouseError('GH_INVALID_ARGUMENTS', `--snapshot-dir: "${dir}" is not a folder`, { option: '--snapshot-dir', value: dir });
  const snapshots = new Map<string, ToolSnapshot>();
  const problems: string[] = [];
  for (const server of servers) {
    const file = path.resolve(dir, `${server}.json`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      problems.push(`${file}: cannot read it: ${(error as Error).message}`);
      continue;
    }
    const tools = toolsOf(text);
    if (typeof tools === 'string') problems.push(`${file}: ${tools}`);
    else snapshots.set(server, { file, tools });
  }
  if (problems.length > 0) {
    throw new GatehouseError('GH_CONFIG_INVALID', problems.length === 1 ? problems[0]! : `${problems.length} snapshot files cannot be used:\n  ${problems.join('\n  ')}`, { problems });
  }
  return snapshots;
}

/** The tools array of a snapshot, or what is wrong with it. */
function toolsOf(text: string): unknown[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  const tools = Array.isArray(parsed) ? parsed : parsed !== null && typeof parsed === 'object' ? (parsed as { tools?: unknown }).tools : undefined;
  return Array.isArray(tools) ? tools : 'not a snapshot: expected a tools/list "tools" array, or {"tools": [...]}';
}
