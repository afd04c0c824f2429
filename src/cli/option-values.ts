/**
 * Parsers of command-line option values, for commander. A value an option cannot take is refused
 * before the command does anything, with GH_INVALID_ARGUMENTS and a message that names the option
 * and says what it takes (commander would print a stack trace for a plain Error).
 */
import { GatehouseError } from '../core/errors.js';

function refuse(option: string, value: string, takes: string): GatehouseError {
  return new GatehouseError('GH_INVALID_ARGUMENTS', `${option}: "${value}" is not ${takes}`, { option, value });
}

/**
 * A whole number from `min` to `max`, in decimal digits (underscores allowed between them as
 * separators: 60_000_000). Other forms JavaScript's Number() reads (`1e6`, `0x10`, ` 5 `, `5.0`)
 * are refused: a count typed as `0x10` is more likely a slip than a wish for 16.
 */
export function wholeNumber(option: string, min = 0, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  const range = max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : min > 0 ? ` of at least ${min}` : ' (0 or more)';
  return (value) => {
    const parsed = /^\d+(_\d+)*$/.test(value) ? Number(value.replace(/_/g, '')) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) throw refuse(option, value, `a whole number${range}`);
    return parsed;
  };
}

/** Like wholeNumber, for a repeatable option (`--id 3 --id 4` or `--id 3 4`): the values in order. */
export function wholeNumbers(option: string, min = 0): (value: string, previous?: number[]) => number[] {
  const one = wholeNumber(option, min);
  return (value, previous = []) => [...previous, one(value)];
}

/** A finite number of at least 0 (a rate, a scale). */
export function nonNegativeNumber(option: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) throw refuse(option, value, 'a number of at least 0');
    return parsed;
  };
}

/** A TCP port, 0 (any free port) to 65535. */
export function portNumber(option: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw refuse(option, value, 'a port number (0 to 65535)');
    return parsed;
  };
}

/**
 * Text that is not blank: who decides (`--by`), why (`--reason`). An empty or whitespace-only
 * value would record a decision made by nobody, or for no reason given.
 */
export function nonBlank(option: string, takes: string): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw refuse(option, value, `${takes}: it is blank`);
    return value;
  };
}

/** One of a fixed set of words. */
export function oneOf<T extends string>(option: string, allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(allowed as readonly string[]).includes(value)) throw refuse(option, value, `one of ${allowed.join(', ')}`);
    return value as T;
  };
}

/** A district key as the pipeline writes it: 7 digits, county 2 + district 5 (e.g. 1964733). */
export function districtKey(option: string): (value: string) => string {
  return (value) => {
    if (!/^\d{7}$/.test(value)) throw refuse(option, value, 'a district key (7 digits: county 2 + district 5, e.g. 1964733)');
    return value;
  };
}

/** Bytes per unit as DuckDB reads them (KB = 1000, KiB = 1024). */
const MEMORY_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/**
 * An amount of memory as DuckDB reads it: a number and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 6GB or
 * 512MiB, of at least `min` (written as such an amount).
 */
export function memorySize(option: string, min: string): (value: string) => string {
  const bytes = (value: string): number | undefined => {
    const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.exec(value.trim());
    return match ? Number(match[1]) * MEMORY_UNITS[match[2]!.toLowerCase()]! : undefined;
  };
  const least = bytes(min)!;
  return (value) => {
    const size = bytes(value);
    if (size === undefined || size < least) throw refuse(option, value, `an amount of memory such as 6GB or 512MiB, of at least ${min}`);
    return value.trim();
  };
}
