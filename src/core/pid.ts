import { readFileSync } from 'node:fs';

/** Whether the process with this pid, on this host, no longer exists (a pid in use by any process counts as alive). */
export function pidGone(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * When the process with this pid started, as /proc has it (field 22 of /proc/<pid>/stat, clock
 * ticks after boot): with the pid, it names one process, where a pid alone is used again. Undefined
 * when /proc cannot tell (not Linux, or no such process).
 */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command's closing parenthesis start at field 3.
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return start !== undefined && /^\d+$/.test(start) ? start : undefined;
  } catch {
    return undefined;
  }
}
