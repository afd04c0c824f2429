/**
 * Seeded generators of random and mutated MCP/JSON-RPC traffic for the HTTP fuzzer: random JSON,
 * valid messages with fields deleted or replaced, byte-level corruption (flips, truncation,
 * invalid UTF-8), deep nesting, huge values, and wrong headers, paths, methods and session ids.
 */
export type Random = () => number;

export { seededRandom } from '../../bench/lib/seeded-random.js';

export const int = (random: Random, max: number): number => Math.floor(random() * max);
export const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)]!;

const WEIRD_STRINGS = ['', ' ', '\u0000', '\ud800', '💥', '__proto__', 'constructor', '../../etc/passwd', '%s%n', '${HOME}', 'a'.repeat(10_000), 'tools/call', 'initialize', '2.0', 'null'];
const WEIRD_NUMBERS = [0, -1, 1.5, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e308, -0, 2 ** 53 + 1];

export function randomValue(random: Random, depth = 0): unknown {
  const kind = int(random, depth > 3 ? 5 : 8);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return random() < 0.5 ? pick(random, WEIRD_NUMBERS) : int(random, 1000) - 500;
    case 3:
      return pick(random, WEIRD_STRINGS);
    case 4:
      return `s${int(random, 100)}`;
    case 5:
      return Array.from({ length: int(random, 4) }, () => randomValue(random, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = int(random, 4); i > 0; i -= 1) object[pick(random, ['id', 'method', 'params', 'jsonrpc', 'result', 'error', 'name', 'arguments', '_meta', 'x'])] = randomValue(random, depth + 1);
      return object;
    }
  }
}

/** Valid messages of a session, as templates for mutation. */
export function templates(random: Random, tool: string): Array<Record<string, unknown>> {
  const id = int(random, 1_000_000);
  return [
    { jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id, method: 'ping' },
    { jsonrpc: '2.0', id, method: 'tools/list', params: {} },
    { jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: { id: `fz${id}`, fault: pick(random, ['none', 'error', 'delay']), ms: int(random, 50) } } },
    { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'nope__nothing', arguments: {} } },
    { jsonrpc: '2.0', id, method: 'resources/list' },
    { jsonrpc: '2.0', id, method: 'resources/read', params: { uri: 'healthy+file:///x' } },
    { jsonrpc: '2.0', id, method: 'prompts/get', params: { name: 'healthy__p' } },
    { jsonrpc: '2.0', id, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name: 'x' }, argument: { name: 'a', value: 'b' } } },
    { jsonrpc: '2.0', id, method: 'logging/setLevel', params: { level: 'debug' } },
    { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'fuzz' } },
    { jsonrpc: '2.0', id, result: {} },
    { jsonrpc: '2.0', id, error: { code: -32000, message: 'client error' } },
    { jsonrpc: '2.0', id, method: 'sampling/createMessage', params: {} },
  ];
}

/** One of: delete a key, replace a value, wrap in a batch, change the envelope. */
export function mutate(random: Random, message: Record<string, unknown>): unknown {
  const copy: Record<string, unknown> = structuredClone(message);
  const keys = Object.keys(copy);
  switch (int(random, 9)) {
    case 0:
      delete copy[pick(random, keys)];
      return copy;
    case 1:
      copy[pick(random, keys)] = randomValue(random);
      return copy;
    case 2: {
      const params = copy.params;
      if (params && typeof params === 'object') {
        const inner = params as Record<string, unknown>;
        const key = pick(random, [...Object.keys(inner), 'arguments', 'name', '_meta']);
        inner[key] = randomValue(random);
      }
      return copy;
    }
    case 3:
      return Array.from({ length: int(random, 5) }, () => (random() < 0.6 ? copy : randomValue(random)));
    case 4:
      copy.jsonrpc = pick(random, ['1.0', '2', 2, null, '']);
      return copy;
    case 5:
      copy.id = pick(random, [null, -1, 1.5, '', 'x'.repeat(5000), [], {}, true, Number.MAX_SAFE_INTEGER]);
      return copy;
    case 6:
      copy.method = pick(random, ['', 'tools/nope', 'rpc.discover', 'notifications/x', '\u0000', 'initialize', 'tools/call']);
      return copy;
    case 7:
      return new RawJson(nested(int(random, 3) === 0 ? 50_000 : 2_000, random() < 0.5));
    default:
      copy.params = { ...(copy.params as object), padding: 'p'.repeat(int(random, 200_000)) };
      return copy;
  }
}

/** JSON text to send as it is (too deep for JSON.stringify, or deliberately odd). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An array or object nested `depth` levels, as JSON text (built as text: JSON.stringify itself would overflow). */
export function nested(depth: number, objects: boolean): string {
  return objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

/** Corrupts JSON text at the byte level. */
export function corrupt(random: Random, text: string): Buffer {
  const bytes = Buffer.from(text);
  switch (int(random, 4)) {
    case 0:
      return bytes.subarray(0, int(random, bytes.length));
    case 1: {
      const copy = Buffer.from(bytes);
      for (let i = 0; i < 1 + int(random, 4); i += 1) copy[int(random, copy.length)] = int(random, 256);
      return copy;
    }
    case 2:
      return Buffer.concat([bytes.subarray(0, int(random, bytes.length)), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), bytes.subarray(int(random, bytes.length))]);
    default:
      return Buffer.concat([bytes, Buffer.from(pick(random, ['\n{}', ',', ']', 'garbage', '\u0000']))]);
  }
}
