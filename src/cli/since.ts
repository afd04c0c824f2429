import { GatehouseError } from '../core/errors.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `--since`: an ISO-8601 time, or a duration back from `now` (`90s`, `15m`, `24h`, `30d`); returns ISO-8601. */
export function parseSince(value: string, now: Date): string {
  const relative = /^(\d+)([smhd])$/.exec(value.trim());
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS]).toISOString();
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new GatehouseError('GH_INVALID_ARGUMENTS', `--since: "${value}" is neither an ISO-8601 time nor a duration such as 30m, 24h, 7d`);
  return new Date(at).toISOString();
}
