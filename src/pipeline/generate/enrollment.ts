/**
 * Census Day enrollment (cdenroll): one tab-delimited file per year; school rows, then each
 * district's rows (the sums of its schools), each county's, and the state's.
 */
import path from 'node:path';
import { hasNonAscii, nameBytes, unknownSchoolCode, type GeneratorContext, type WrittenFile } from './context.js';
import { PSEUDO_NULLS, type RowFaultKind } from './faults.js';
import { CATEGORY_FAMILIES, ENROLLMENT_GRADES, ENROLLMENT_HEADER, SUBGROUP_CATEGORIES } from './layouts.js';
import { LineWriter, utf8Bytes } from './line-writer.js';
import { schoolYear, suppressed } from './profile.js';
import { apportion } from './random.js';
import { academicYear, COUNTIES, pad, type District } from './universe.js';

export const CATEGORIES = ['TA', ...Object.values(CATEGORY_FAMILIES).flat(), ...SUBGROUP_CATEGORIES];
const GRADE_INDEX = new Map<string, number>(ENROLLMENT_GRADES.map((grade, index) => [grade, index + 1]));
/** The renamed header the newest year's file carries (a fault the pipeline must map back by name). */
export const ENROLLMENT_RENAME = { from: 'TOTAL_ENR', to: 'Total Enrollment' } as const;

type Sums = Map<string, number[]>;
const emptyValues = () => new Array<number>(1 + ENROLLMENT_GRADES.length).fill(0);

function addInto(sums: Sums, category: string, values: readonly number[]): void {
  let target = sums.get(category);
  if (!target) sums.set(category, (target = emptyValues()));
  for (let i = 0; i < values.length; i++) target[i]! += values[i]!;
}

export function enrollmentFileName(year: number): string {
  return `cdenroll${String((year - 1) % 100).padStart(2, '0')}${String(year % 100).padStart(2, '0')}.txt`;
}

export function writeEnrollment(context: GeneratorContext, year: number, renameHeader: boolean): WrittenFile {
  const { universe, faults, random } = context;
  const name = enrollmentFileName(year);
  const writer = new LineWriter(path.join(context.outDir, name), context.linesWritten);
  const header: string[] = [...ENROLLMENT_HEADER];
  if (renameHeader) {
    header[header.indexOf(ENROLLMENT_RENAME.from)] = ENROLLMENT_RENAME.to;
    faults.renamedHeaders.push({ file: name, ...ENROLLMENT_RENAME });
    faults.record('renamed_header', name, 1);
  }
  writer.write(header.join('\t'));
  const yearLabel = academicYear(year);
  let rows = 0;
  const row = (level: string, county: string, district: string, school: string, names: [string, string, string], charter: string, category: string, cells: readonly string[]) => {
    rows++;
    return writer.write([yearLabel, level, county, district, school, ...names, charter, category, ...cells].join('\t'));
  };
  const cells = (values: readonly number[]) => values.map(suppressed);

  const stateSums: Sums = new Map();
  let countySums: Sums = new Map();
  const flushCounty = (countyCode: number) => {
    for (const category of CATEGORIES) {
      const values = countySums.get(category) ?? emptyValues();
      row('C', pad(countyCode, 2), '00000', '0000000', [COUNTIES[countyCode - 1]!, '', ''], 'All', category, cells(values));
      addInto(stateSums, category, values);
    }
    countySums = new Map();
  };

  const districts = universe.districts;
  for (let d = 0; d < districts.length; d++) {
    const district: District = districts[d]!;
    const countyName = COUNTIES[district.countyCode - 1]!;
    const districtName = utf8Bytes(district.name);
    const perturbed = faults.drawPartition();
    const districtSums: Sums = new Map();
    for (const school of district.schools) {
      const profile = schoolYear(school, year, universe.years[0]!);
      for (const category of CATEGORIES) {
        const total = profile.categories.get(category)!;
        const values = emptyValues();
        values[0] = total;
        apportion(total, profile.gradeWeights).forEach((value, index) => (values[GRADE_INDEX.get(profile.grades[index]!)!] = value));
        addInto(districtSums, category, values);
        const eligible: RowFaultKind[] = ['unknown_cds', 'duplicate_key'];
        if (district.countyCode < 10) eligible.push('leading_zeros_dropped');
        if (!perturbed) eligible.push('pseudo_null');
        if (hasNonAscii(school.name) || hasNonAscii(district.name)) eligible.push('cp1252');
        const fault = faults.draw(eligible);
        const printed = cells(values);
        if (fault === 'pseudo_null') printed[GRADE_INDEX.get(random.pick(profile.grades))!] = random.pick(PSEUDO_NULLS);
        const countyField = fault === 'leading_zeros_dropped' ? String(district.countyCode) : pad(district.countyCode, 2);
        const schoolName = nameBytes(school.name, fault === 'cp1252');
        const charter = school.charter ? 'Y' : 'N';
        const line = row('S', countyField, pad(district.districtCode, 5), pad(school.schoolCode, 7), [countyName, nameBytes(district.name, fault === 'cp1252'), schoolName], charter, category, printed);
        if (fault === 'pseudo_null' || fault === 'leading_zeros_dropped' || fault === 'cp1252') faults.record(fault, name, line);
        if (fault === 'duplicate_key') {
          faults.record(fault, name, row('S', countyField, pad(district.districtCode, 5), pad(school.schoolCode, 7), [countyName, districtName, schoolName], charter, category, printed));
        }
        if (fault === 'unknown_cds') {
          const extra = emptyValues();
          extra[0] = random.int(11, 90);
          extra[GRADE_INDEX.get(profile.grades[0]!)!] = extra[0];
          faults.record(fault, name, row('S', pad(district.countyCode, 2), pad(district.districtCode, 5), unknownSchoolCode(context), [countyName, districtName, 'Unlisted Learning Center'], 'N', category, cells(extra)));
        }
      }
    }
    if (perturbed) {
      // The district row says fewer students than its schools have: a lower-bound break that no suppression or quarantine can explain.
      const values = districtSums.get('TA')!;
      const delta = random.int(1, 5);
      values[0]! -= delta;
      let largest = 1;
      for (let i = 2; i < values.length; i++) if (values[i]! > values[largest]!) largest = i;
      values[largest]! -= delta;
      faults.hierarchyPartitions.push(`${pad(district.countyCode, 2)}${pad(district.districtCode, 5)}:${year}`);
    }
    for (const category of CATEGORIES) {
      const values = districtSums.get(category)!;
      const line = row('D', pad(district.countyCode, 2), pad(district.districtCode, 5), '0000000', [countyName, districtName, ''], 'All', category, cells(values));
      if (perturbed && category === 'TA') faults.record('hierarchy_mismatch', name, line);
      addInto(countySums, category, values);
    }
    const next = districts[d + 1];
    if (!next || next.countyCode !== district.countyCode) flushCounty(district.countyCode);
  }
  for (const category of CATEGORIES) row('T', '00', '00000', '0000000', ['State', '', ''], 'All', category, cells(stateSums.get(category) ?? emptyValues()));
  writer.close();
  return { file: name, source: 'enrollment', year, rows, bytes: writer.bytes };
}
