/**
 * The process that owns a pipeline run (ops.runs.owner) or a PostgreSQL session (its application_name), as host:pid,
 * and whether it is gone: what lets a later process clean up after one that was killed without harming a live one.
 */
import { hostname } from 'node:os';
import { pidGone } from '../../core/pid.js';

/** This process as the owner of the runs, sessions and working copies it starts (host:pid). */
export const processOwner = (): string => `${hostname()}:${process.pid}`;

/**
 * Whether the process an owner (host:pid) names is known to be gone: only one on this host can be told; one on another
 * host, this process itself, or a string that is not host:pid is taken as alive.
 */
export function ownerGone(owner: string): boolean {
  if (owner === processOwner()) return false;
  const at = owner.lastIndexOf(':');
  if (at < 0 || owner.slice(0, at) !== hostname() || !/^\d+$/.test(owner.slice(at + 1))) return false;
  return pidGone(Number(owner.slice(at + 1)));
}
