import { pino, type Logger } from 'pino';

/**
 * Structured logs on stderr (stdout belongs to the MCP protocol under `gatehouse connect`).
 * Anything that looks like a credential is redacted wherever it appears in a log object.
 */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { name: 'gatehouse' },
      redact: {
        paths: ['token', '*.token', 'authorization', '*.authorization', 'headers', '*.headers', 'env', '*.env', 'password', '*.password'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
