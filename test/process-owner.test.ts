import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { processStart } from '../src/core/pid.js';
import { GATEWAY_PROCESS, ownerState, processOwner } from '../src/governance/crash-recovery.js';

// Who owns a claim (src/governance/crash-recovery.ts): a pid alone is used again (a container's
// gateway restarted as pid 1 has its dead predecessor's), so an owner also names when it started.

test('an owner names its process by host, pid and start, and a pid used again is told from the process that had it', () => {
  const here = hostname();
  const start = processStart(process.pid);
  assert.match(start ?? '', /^\d+$/, '/proc gives this process\'s start');
  assert.equal(GATEWAY_PROCESS, `${here}:${process.pid}:${start}`);
  assert.equal(processOwner(), GATEWAY_PROCESS);
  const parent = process.ppid;
  const exited = spawnSync(process.execPath, ['-e', '0']).pid!;
  const cases: Array<[string, string | undefined, ReturnType<typeof ownerState>]> = [
    ['this process', GATEWAY_PROCESS, 'alive'],
    ['this pid, started at another time: a process before this one', `${here}:${process.pid}:1`, 'gone'],
    ['this pid, written without a start (an older version): not this process', `${here}:${process.pid}`, 'gone'],
    ['a running process, its start as /proc has it', `${here}:${parent}:${processStart(parent)}`, 'alive'],
    ['a running pid that another process had before', `${here}:${parent}:1`, 'gone'],
    ['a running pid, written without a start: taken as alive', `${here}:${parent}`, 'alive'],
    ['a pid no process has', `${here}:${exited}:1`, 'gone'],
    ['another host', `far-away:${process.pid}:${start}`, 'unknown'],
    ['not an owner at all', 'nonsense', 'unknown'],
    ['no owner (a record older than owners)', undefined, 'gone'],
  ];
  for (const [what, owner, state] of cases) assert.equal(ownerState(owner), state, what);
});
