/**
 * The floor of one extra stdio hop: a process that starts server-everything and copies bytes
 * both ways without parsing anything. Any stdio gateway (Gatehouse's `connect` included) pays at
 * least this on the machine at hand; the overhead bench shows it as its own row.
 * Run by the bench as `node byte-pipe-proxy.js`; not a product.
 */
import { spawn } from 'node:child_process';
import { EVERYTHING_STDIO } from './everything.js';

const child = spawn(EVERYTHING_STDIO.command, [...EVERYTHING_STDIO.args], { stdio: ['pipe', 'pipe', 'ignore'] });
process.stdin.pipe(child.stdin);
child.stdout.pipe(process.stdout);
process.stdin.on('end', () => child.kill());
child.on('exit', (code) => process.exit(code ?? 0));
