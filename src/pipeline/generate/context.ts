import iconv from 'iconv-lite';
import type { FaultBook } from './faults.js';
import { utf8Bytes } from './line-writer.js';
import type { Random } from './random.js';
import type { Universe } from './universe.js';

/** What every file writer shares: the universe, the fault book, and the source of unknown codes. */
export interface GeneratorContext {
  universe: Universe;
  faults: FaultBook;
  random: Random;
  outDir: string;
  /** The next school code that resolves to nothing (9000000 and up, never used by a real school). */
  nextUnknownSchool: number;
  /** Told how many lines were written, as they are (for progress). */
  linesWritten: (lines: number) => void;
}

/** Stats of one written file, for the manifest. */
export interface WrittenFile {
  file: string;
  source: 'enrollment' | 'directory' | 'caaspp' | 'caaspp_entities';
  year?: number;
  /** Data rows (the header not counted). */
  rows: number;
  bytes: number;
}

/** A name as a clean UTF-8 file holds it, or (`cp1252`) as a Windows export does. */
export const nameBytes = (name: string, cp1252: boolean): string => (cp1252 ? iconv.encode(name, 'win1252').toString('latin1') : utf8Bytes(name));

/** Whether a name has a character that CP1252 and UTF-8 write differently. */
export const hasNonAscii = (name: string): boolean => /[^\x20-\x7e]/.test(name);

export const unknownSchoolCode = (context: GeneratorContext): string => String(context.nextUnknownSchool++);
