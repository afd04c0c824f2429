/**
 * The Linux process table (/proc), for what process groups do not cover: descendants that moved
 * to groups of their own, and CPU time of a whole process tree. Elsewhere these find nothing.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** A process seen in /proc: its pid and start time (so a reused pid is never signalled). */
export interface ProcessId {
  pid: number;
  startTime: string;
}

/** Every descendant of `root` now running (Linux /proc; empty elsewhere). */
export function descendantsOf(root: number): ProcessId[] {
  const table = processTable();
  const found: ProcessId[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const entry of table) {
      if (entry.ppid === parent) {
        found.push({ pid: entry.pid, startTime: entry.startTime });
        queue.push(entry.pid);
      }
    }
  }
  return found;
}

/** SIGKILL to each listed process that is still the same process. */
export function killSurvivors(processes: readonly ProcessId[]): void {
  for (const { pid, startTime } of processes) {
    if (statOf(pid)?.startTime === startTime) signal(pid, 'SIGKILL');
  }
}

/**
 * CPU time (user + system, ms) used so far by `root` and its live descendants, from /proc; at
 * 10 ms resolution, so take differences over hundreds of calls. Undefined where /proc is missing.
 */
export function treeCpuMs(root: number): number | undefined {
  const rootStat = statOf(root);
  if (!rootStat) return undefined;
  const ticks = [rootStat, ...descendantsOf(root).map((d) => statOf(d.pid))].reduce((sum, entry) => sum + (entry?.cpuTicks ?? 0), 0);
  return (ticks * 1000) / clockTicksPerSecond();
}

let ticksPerSecond: number | undefined;
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface ProcessEntry {
  pid: number;
  ppid: number;
  startTime: string;
  /** User + system CPU time so far, in clock ticks. */
  cpuTicks: number;
}

function processTable(): ProcessEntry[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const table: ProcessEntry[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = statOf(Number(name));
    if (stat) table.push(stat);
  }
  return table;
}

function statOf(pid: number): ProcessEntry | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: parse after its last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(fields[1]), startTime: fields[19]!, cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/** Sends a signal; a process (or group, for a negative pid) that is already gone is no error. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
