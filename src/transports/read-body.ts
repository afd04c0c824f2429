import type { IncomingMessage } from 'node:http';

export type BodyResult = { kind: 'ok'; value: unknown } | { kind: 'too-large' } | { kind: 'invalid'; message: string };

/**
 * Reads a JSON request body, refusing it as soon as it passes `limit` bytes (by
 * Content-Length up front, or while streaming when the length is not declared).
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) {
    req.resume();
    return { kind: 'too-large' };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      return { kind: 'too-large' };
    }
    chunks.push(chunk);
  }
  try {
    return { kind: 'ok', value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch (error) {
    return { kind: 'invalid', message: (error as Error).message };
  }
}
