/**
 * CAASPP Smarter Balanced research files (2024+ layout, caret-delimited): per year, a research
 * file with one row per entity × student group × grade × test, and an entities file naming every
 * entity with its Type ID.
 */
import path from 'node:path';
import { hasNonAscii, nameBytes, unknownSchoolCode, type GeneratorContext, type WrittenFile } from './context.js';
import { PSEUDO_NULLS, type RowFaultKind } from './faults.js';
import { CAASPP_HEADER, ENTITIES_HEADER, STUDENT_GROUPS, TYPE_IDS } from './layouts.js';
import { LineWriter } from './line-writer.js';
import { schoolYear } from './profile.js';
import { apportion, Random } from './random.js';
import { COUNTIES, pad, SCHOOL_KINDS } from './universe.js';

/** "All grades" in the research file. */
const ALL_GRADES = 13;
/** Per key: enrolled, tested, sum of scale scores × tested, 4 achievement levels, 12 area levels. */
const SLOTS = 19;
type Sums = Map<string, Float64Array>;

export const caasppFileName = (year: number) => `sb_ca${year}_all_csv_v1.txt`;
export const entitiesFileName = (year: number) => `sb_ca${year}entities_csv.txt`;

function addInto(sums: Sums, key: string, values: Float64Array): void {
  let target = sums.get(key);
  if (!target) sums.set(key, (target = new Float64Array(SLOTS)));
  for (let i = 0; i < SLOTS; i++) target[i]! += values[i]!;
}

/** `12.34`: a percentage with two decimals (toFixed is several times slower, and this runs ~20 times a row). */
const percent = (count: number, of: number): string => {
  const hundredths = Math.round((count * 10_000) / of);
  const rest = hundredths % 100;
  return `${(hundredths - rest) / 100}.${rest < 10 ? '0' : ''}${rest}`;
};

const oneDecimal = (value: number): string => {
  const tenths = Math.round(value * 10);
  return `${(tenths - (tenths % 10)) / 10}.${tenths % 10}`;
};

/** The printed statistics of one row from its sums; `*` for all of them when 10 or fewer were tested. */
function statistics(values: Float64Array): string[] {
  const tested = values[1]!;
  if (tested <= 10) return ['*', '*', '*', '*', '*', '*', '*', '*', '*', '*', ...new Array<string>(12).fill('*')];
  const levels = [values[3]!, values[4]!, values[5]!, values[6]!];
  const out = [String(tested), oneDecimal(values[2]! / tested), percent(levels[0]!, tested), percent(levels[1]!, tested), percent(levels[0]! + levels[1]!, tested), percent(levels[2]!, tested), percent(levels[3]!, tested), String(tested)];
  for (let i = 7; i < SLOTS; i++) out.push(percent(values[i]!, tested));
  return [String(tested), String(tested), ...out];
}

export function writeCaaspp(context: GeneratorContext, year: number): WrittenFile {
  const { universe, faults } = context;
  const name = caasppFileName(year);
  const writer = new LineWriter(path.join(context.outDir, name), context.linesWritten);
  writer.write(CAASPP_HEADER.join('^'));
  let rows = 0;
  // The research file has its own fault stream, so that adding a fault kind to enrollment does not move these.
  const random = context.random.fork(year * 7 + 1);
  const row = (county: string, district: string, school: string, group: number, grade: number, test: number, enrolled: number, stats: string[]) => {
    rows++;
    // stats = [tested at level, with scores at level, students tested, mean, 4+1 percentages, with scores, areas…]
    return writer.write([county, district, school, '', String(year), String(group), 'B', stats[0], stats[1], String(grade), String(test), String(enrolled), ...stats.slice(2)].join('^'));
  };
  const flush = (sums: Sums, county: string, district: string, school: string) => {
    for (const [key, values] of sums) {
      const [test, grade, group] = key.split('|').map(Number) as [number, number, number];
      row(county, district, school, group, grade, test, values[0]!, statistics(values));
    }
  };
  const state: Sums = new Map();
  let county: Sums = new Map();
  const values = new Float64Array(SLOTS);
  const districts = universe.districts;
  for (let d = 0; d < districts.length; d++) {
    const district = districts[d]!;
    const districtSums: Sums = new Map();
    for (const school of district.schools) {
      const profile = schoolYear(school, year, universe.years[0]!);
      const gradeCounts = new Map<string, number>();
      apportion(profile.total, profile.gradeWeights).forEach((count, index) => gradeCounts.set(profile.grades[index]!, count));
      const schoolRandom = new Random((school.seed ^ Math.imul(year, 0x85ebca6b) ^ 0x5bd1e995) >>> 0);
      const tested = SCHOOL_KINDS[school.kind].tested;
      for (const test of [1, 2]) {
        for (const grade of [...tested, ALL_GRADES]) {
          const gradeEnrollment = grade === ALL_GRADES ? tested.reduce((sum, g) => sum + (gradeCounts.get(`GR_${pad(g, 2)}`) ?? 0), 0) : (gradeCounts.get(`GR_${pad(grade, 2)}`) ?? 0);
          const baseScore = 2350 + (grade === ALL_GRADES ? 6 : grade) * 28 + (test === 2 ? -15 : 0);
          for (const group of STUDENT_GROUPS) {
            const enrolled = Math.round(gradeEnrollment * profile.groupShares.get(group)!);
            const testedCount = Math.max(0, enrolled - schoolRandom.int(0, 2));
            values.fill(0);
            values[0] = enrolled;
            values[1] = testedCount;
            values[2] = (baseScore + (schoolRandom.next() - 0.5) * 120) * testedCount;
            const levels = apportion(testedCount, [0.2 + schoolRandom.next(), 0.3 + schoolRandom.next(), 0.25 + schoolRandom.next(), 0.25 + schoolRandom.next()]);
            for (let i = 0; i < 4; i++) values[3 + i] = levels[i]!;
            for (let area = 0; area < 4; area++) {
              const parts = apportion(testedCount, [0.2 + schoolRandom.next(), 0.5 + schoolRandom.next(), 0.3 + schoolRandom.next()]);
              for (let i = 0; i < 3; i++) values[7 + area * 3 + i] = parts[i]!;
            }
            addInto(districtSums, `${test}|${grade}|${group}`, values);
            const eligible: RowFaultKind[] = ['unknown_cds', 'duplicate_key', 'pseudo_null'];
            if (district.countyCode < 10) eligible.push('leading_zeros_dropped');
            const fault = faults.draw(eligible);
            const stats = statistics(values);
            if (fault === 'pseudo_null') stats[3] = random.pick(PSEUDO_NULLS);
            const countyField = fault === 'leading_zeros_dropped' ? String(district.countyCode) : pad(district.countyCode, 2);
            const line = row(countyField, pad(district.districtCode, 5), pad(school.schoolCode, 7), group, grade, test, enrolled, stats);
            if (fault === 'pseudo_null' || fault === 'leading_zeros_dropped') faults.record(fault, name, line);
            if (fault === 'duplicate_key') faults.record(fault, name, row(countyField, pad(district.districtCode, 5), pad(school.schoolCode, 7), group, grade, test, enrolled, stats));
            if (fault === 'unknown_cds') faults.record(fault, name, row(pad(district.countyCode, 2), pad(district.districtCode, 5), unknownSchoolCode(context), group, grade, test, enrolled, stats));
          }
        }
      }
    }
    flush(districtSums, pad(district.countyCode, 2), pad(district.districtCode, 5), '0000000');
    for (const [key, sums] of districtSums) addInto(county, key, sums);
    const next = districts[d + 1];
    if (!next || next.countyCode !== district.countyCode) {
      flush(county, pad(district.countyCode, 2), '00000', '0000000');
      for (const [key, sums] of county) addInto(state, key, sums);
      county = new Map();
    }
  }
  flush(state, '00', '00000', '0000000');
  writer.close();
  return { file: name, source: 'caaspp', year, rows, bytes: writer.bytes };
}

export function writeEntities(context: GeneratorContext, year: number): WrittenFile {
  const { universe, faults } = context;
  const name = entitiesFileName(year);
  const writer = new LineWriter(path.join(context.outDir, name), context.linesWritten);
  writer.write(ENTITIES_HEADER.join('^'));
  let rows = 0;
  const row = (fields: string[]) => {
    rows++;
    return writer.write(fields.join('^'));
  };
  row(['00', '00000', '0000000', TYPE_IDS.state, '', String(year), 'State of California', '', '', '']);
  const counties = [...new Set(universe.districts.map((district) => district.countyCode))];
  for (const county of counties) row([pad(county, 2), '00000', '0000000', TYPE_IDS.county, '', String(year), COUNTIES[county - 1]!, '', '', '']);
  for (const district of universe.districts) {
    const countyName = COUNTIES[district.countyCode - 1]!;
    row([pad(district.countyCode, 2), pad(district.districtCode, 5), '0000000', TYPE_IDS.district, '', String(year), countyName, nameBytes(district.name, false), '', district.zip]);
    for (const school of district.schools) {
      const eligible: RowFaultKind[] = [];
      if (district.countyCode < 10) eligible.push('leading_zeros_dropped');
      if (hasNonAscii(school.name) || hasNonAscii(district.name)) eligible.push('cp1252');
      const fault = faults.draw(eligible);
      const typeId = school.charter ? (school.seed % 2 === 0 ? TYPE_IDS.directFundedCharter : TYPE_IDS.locallyFundedCharter) : TYPE_IDS.school;
      const countyField = fault === 'leading_zeros_dropped' ? String(district.countyCode) : pad(district.countyCode, 2);
      const line = row([countyField, pad(district.districtCode, 5), pad(school.schoolCode, 7), typeId, '', String(year), countyName, nameBytes(district.name, fault === 'cp1252'), nameBytes(school.name, fault === 'cp1252'), school.zip]);
      if (fault) faults.record(fault, name, line);
    }
  }
  writer.close();
  return { file: name, source: 'caaspp_entities', year, rows, bytes: writer.bytes };
}
