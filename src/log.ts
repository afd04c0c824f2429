import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Keys whose value is a credential wherever it appears in a log object, up to four levels deep
 * (`token`, `err.data.confirmToken`, `server.headers.authorization`, …). Paths are exact: pino
 * compiles them once, so a log line pays nothing for the list's length beyond the lookups.
 */
export const SECRET_KEYS = [
  'token', 'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'idToken', 'id_token',
  'confirmToken', 'confirm_token', 'bearer', 'authorization', 'Authorization', 'proxy-authorization',
  'cookie', 'Cookie', 'set-cookie', 'apiKey', 'api_key', 'apikey', 'x-api-key', 'X-Api-Key',
  'password', 'passwd', 'secret', 'clientSecret', 'client_secret', 'privateKey', 'private_key', 'credentials',
  // Whole objects that hold credentials: a server's environment and HTTP headers (and an OTLP exporter's).
  'env', 'headers',
] as const;

const DEPTH = 4;

/** `token`, `*.token`, `*.*.token`, …; keys that are not identifiers in brackets (`*["x-api-key"]`). */
function redactPaths(): string[] {
  return SECRET_KEYS.flatMap((key) => {
    const identifier = /^[A-Za-z_$][\w$]*$/.test(key);
    const paths = [identifier ? key : `["${key}"]`];
    for (let depth = 1; depth < DEPTH; depth += 1) paths.push(`${Array(depth).fill('*').join('.')}${identifier ? `.${key}` : `["${key}"]`}`);
    return paths;
  });
}

const CENSOR = '[redacted]';

/** Credentials in free text (messages, error messages, stderr tails) that no key names. */
const SECRET_PATTERNS: Array<[RegExp, string]> = [
  // An Authorization header's credentials: 8+ token characters with a digit, a symbol or a
  // capital inside (so that "bearer authentication" in a sentence stays readable).
  [/\b([Bb]earer|BEARER|[Bb]asic|BASIC)\s+(?=[A-Za-z]*[0-9._~+/=-]|[A-Za-z]*[a-z][A-Z])[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${CENSOR}`],
  // Confirm tokens (src/core/confirm-token.ts): ghc1.<claims>.<signature>.
  [/\bghc1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/g, `ghc1.${CENSOR}`],
  // Passwords in URLs: scheme://user:password@host.
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s:/@"]+:[^\s@/"]+@/gi, `$1${CENSOR}@`],
];

/**
 * Secret values the process knows of (a server's credential env and header values, an OTLP
 * exporter's headers), replaced wherever they appear in a log line, e.g. in the stderr of a
 * server that prints the API key it was given.
 */
export class SecretValues {
  private readonly values = new Set<string>();

  /** Values shorter than 6 characters are not scrubbed: they would censor ordinary words. */
  add(values: Iterable<string>): void {
    for (const value of values) {
      if (value.length < 6) continue;
      this.values.add(value);
      const escaped = JSON.stringify(value).slice(1, -1); // how it appears inside a JSON log line
      if (escaped !== value) this.values.add(escaped);
    }
  }

  scrub(line: string): string {
    let out = line;
    for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
    for (const value of this.values) if (out.includes(value)) out = out.split(value).join(CENSOR);
    return out;
  }
}

export interface LoggerOptions {
  /** Default: stderr (stdout belongs to the MCP protocol under `gatehouse connect`). */
  destination?: DestinationStream;
  secrets?: SecretValues;
}

/**
 * Structured logs (JSON lines). Secrets are removed twice: by key, wherever a credential key
 * appears in a log object (pino's `redact`), and in the finished line, by pattern (bearer
 * credentials, confirm tokens, passwords in URLs) and by known value (`SecretValues`).
 */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const secrets = options.secrets ?? new SecretValues();
  return pino(
    {
      level,
      base: { name: 'gatehouse' },
      redact: { paths: redactPaths(), censor: CENSOR },
      hooks: { streamWrite: (line) => secrets.scrub(line) },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
