import type { IncomingMessage } from 'node:http';

export type BodyResult = { kind: 'ok'; value: unknown } | { kind: 'empty' } | { kind: 'too-large' } | { kind: 'invalid'; message: string };

/**
 * Reads a JSON request body, refusing it as soon as it passes `limit` bytes (by
 * Content-Length up front, or while streaming when the length is not declared).
 * Plain stream events rather than `for await`: the async iterator cost more than the rest of
 * reading a small body.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) {
    req.resume();
    return Promise.resolve({ kind: 'too-large' });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      resolve({ kind: 'too-large' });
    };
    req.on('data', onData);
    req.once('error', reject);
    req.once('end', () => {
      if (size > limit) return;
      // Told by the bytes read, not by a Content-Length header: a chunked body has none.
      if (size === 0) return resolve({ kind: 'empty' });
      try {
        resolve({ kind: 'ok', value: JSON.parse(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')) });
      } catch (error) {
        resolve({ kind: 'invalid', message: (error as Error).message });
      }
    });
  });
}
