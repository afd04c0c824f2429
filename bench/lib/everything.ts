import path from 'node:path';
import { REPO_ROOT } from './paths.js';

/** server-everything's entry point; `stdio` or `streamableHttp` as its first argument picks the transport. */
export const EVERYTHING_ENTRY = path.join(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');

/** server-everything over stdio, as a command line: what every proxy fronts. */
export const EVERYTHING_STDIO = { command: process.execPath, args: [EVERYTHING_ENTRY, 'stdio'] } as const;

/** The tool every overhead measurement calls, and its arguments. */
export const ECHO = { name: 'echo', arguments: { message: 'x' } } as const;
