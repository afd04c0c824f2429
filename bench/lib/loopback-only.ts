/**
 * Preload (`node --import <this file>`) for third-party servers that have no bind-address option
 * and listen on every interface (`app.listen(port)`): every TCP listen of the process is moved
 * to 127.0.0.1, so a benchmark exposes nothing beyond loopback. Pipes and inherited handles are
 * left alone. It has no exports; LOOPBACK_PRELOAD in ./processes.ts is its compiled path.
 */
import net from 'node:net';

const LOOPBACK = '127.0.0.1';
const original = net.Server.prototype.listen;

function isPort(value: unknown): boolean {
  return typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value));
}

net.Server.prototype.listen = function listenOnLoopback(this: net.Server, ...args: unknown[]) {
  const [first] = args;
  if (isPort(first)) {
    // listen(port[, host][, backlog][, callback]): replace the host, or insert one.
    if (typeof args[1] === 'string') args[1] = LOOPBACK;
    else args.splice(1, 0, LOOPBACK);
  } else if (typeof first === 'object' && first !== null && 'port' in first && !('path' in first && first.path)) {
    args[0] = { ...first, host: LOOPBACK };
  } else if (first === undefined || typeof first === 'function') {
    // listen() / listen(callback): a random port on every interface by default.
    args.unshift(0, LOOPBACK);
  }
  return (original as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof net.Server.prototype.listen;
