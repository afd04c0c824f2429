/**
 * One school in one year: its total enrollment split into the reporting categories and grades.
 * Computed from the school's own seed and the year only, so the enrollment and CAASPP files agree
 * on the same school without holding anything between them.
 */
import { CATEGORY_FAMILIES, SUBGROUP_CATEGORIES } from './layouts.js';
import { apportion, Random } from './random.js';
import { SCHOOL_KINDS, type School } from './universe.js';

const FAMILY_WEIGHTS: Record<keyof typeof CATEGORY_FAMILIES, number[]> = {
  race: [0.1, 0.05, 0.01, 0.03, 0.5, 0.005, 0.005, 0.04, 0.25],
  gender: [0.485, 0.5, 0.01, 0.005],
  englishStatus: [0.005, 0.18, 0.55, 0.07, 0.005, 0.18, 0.01],
  age: [1, 0, 0, 0, 0, 0],
};
const SUBGROUP_SHARES = [0, 0.12, 0.6, 0.01, 0.005, 0.03];

export interface SchoolYear {
  total: number;
  /** Every reporting category (TA included) to its total. */
  categories: Map<string, number>;
  /** The grade columns the school fills, and the share of each. */
  grades: readonly string[];
  gradeWeights: number[];
  /** Share of the school's students in each CAASPP student group. */
  groupShares: Map<number, number>;
}

export function schoolYear(school: School, year: number, firstYear: number): SchoolYear {
  const random = new Random((school.seed ^ Math.imul(year, 0x9e3779b1)) >>> 0);
  const growth = 1 + 0.02 * (year - firstYear) + (random.next() - 0.5) * 0.1;
  const total = Math.max(60, Math.round(school.baseEnrollment * growth));
  const categories = new Map<string, number>([['TA', total]]);
  const familyValues = {} as Record<keyof typeof CATEGORY_FAMILIES, number[]>;
  for (const family of Object.keys(CATEGORY_FAMILIES) as Array<keyof typeof CATEGORY_FAMILIES>) {
    const weights = FAMILY_WEIGHTS[family].map((weight) => weight * (0.5 + random.next()));
    if (family === 'age' && school.kind === 'high') weights[1] = 0.004;
    const values = apportion(total, weights);
    familyValues[family] = values;
    CATEGORY_FAMILIES[family].forEach((category, index) => categories.set(category, values[index]!));
  }
  const el = categories.get('ELAS_EL')!;
  SUBGROUP_CATEGORIES.forEach((category, index) => {
    categories.set(category, index === 0 ? el : Math.round(total * SUBGROUP_SHARES[index]! * (0.5 + random.next())));
  });
  const grades = SCHOOL_KINDS[school.kind].grades;
  const gradeWeights = grades.map(() => 0.8 + random.next() * 0.4);
  const share = (category: string) => categories.get(category)! / total;
  const groupShares = new Map<number, number>([
    [1, 1], [3, share('GN_M')], [4, share('GN_F')], [31, share('SG_SD')], [111, 1 - share('SG_SD')], [128, share('SG_DS')], [99, 1 - share('SG_DS')],
    [160, share('ELAS_EL')], [180, share('ELAS_EO')], [74, share('RE_B')], [75, share('RE_I')], [76, share('RE_A')], [77, share('RE_F')],
    [78, share('RE_H')], [79, share('RE_P')], [80, share('RE_W')], [144, share('RE_T')],
  ]);
  return { total, categories, grades, gradeWeights, groupShares };
}

/** A count as the enrollment file prints it: `*` for 1–10 students (suppressed), else the number. */
export const suppressed = (value: number): string => (value >= 1 && value <= 10 ? '*' : String(value));
