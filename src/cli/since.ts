import { GatehouseError } from '../core/errors.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** YYYY-MM-DD, optionally with THH:MM[:SS[.fff]] and a zone (Z or ±HH:MM); a space may stand for the T. */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):?(\d{2}))?)?$/;

/**
 * `--since`: an ISO-8601 time, or a duration back from `now` (`90s`, `15m`, `24h`, `30d`); returns ISO-8601.
 * Date.parse alone is not used to decide: it takes `5` for May 2001 and rolls 2024-02-30 over to March.
 */
export function parseSince(value: string, now: Date): string {
  const at = durationBack(value.trim(), now) ?? isoTime(value.trim());
  if (at === undefined || !Number.isFinite(at) || Number.isNaN(new Date(at).getTime())) {
    throw new GatehouseError('GH_INVALID_ARGUMENTS', `--since: "${value}" is neither an ISO-8601 time nor a duration such as 30m, 24h, 7d`, { option: '--since', value });
  }
  return new Date(at).toISOString();
}

function durationBack(value: string, now: Date): number | undefined {
  const relative = /^(\d+)([smhd])$/.exec(value);
  return relative ? now.getTime() - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS] : undefined;
}

/** Milliseconds of an ISO-8601 date or date-time that names a real calendar day and clock time, else undefined. */
function isoTime(value: string): number | undefined {
  const parts = ISO_TIME.exec(value);
  if (!parts) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = parts.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part)));
  const [zoneHours = 0, zoneMinutes = 0] = [parts[8], parts[9]].map((part) => (part === undefined ? undefined : Number(part)));
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth(year!, month!)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || zoneHours > 23 || zoneMinutes > 59) return undefined;
  // What the day and time mean (a date alone is UTC, a time without a zone is local) is Date.parse's, as before.
  return Date.parse(value.replace(' ', 'T'));
}

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}
