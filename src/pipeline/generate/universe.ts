/**
 * The synthetic California: counties (the real 58), districts and schools with names, grade spans
 * and sizes. Small enough to hold in memory at any scale (tens of thousands of schools); the rows
 * that are streamed to disk are drawn from it year by year.
 */
import { Random } from './random.js';

export const COUNTIES = [
  'Alameda', 'Alpine', 'Amador', 'Butte', 'Calaveras', 'Colusa', 'Contra Costa', 'Del Norte', 'El Dorado', 'Fresno',
  'Glenn', 'Humboldt', 'Imperial', 'Inyo', 'Kern', 'Kings', 'Lake', 'Lassen', 'Los Angeles', 'Madera',
  'Marin', 'Mariposa', 'Mendocino', 'Merced', 'Modoc', 'Mono', 'Monterey', 'Napa', 'Nevada', 'Orange',
  'Placer', 'Plumas', 'Riverside', 'Sacramento', 'San Benito', 'San Bernardino', 'San Diego', 'San Francisco', 'San Joaquin', 'San Luis Obispo',
  'San Mateo', 'Santa Barbara', 'Santa Clara', 'Santa Cruz', 'Shasta', 'Sierra', 'Siskiyou', 'Solano', 'Sonoma', 'Stanislaus',
  'Sutter', 'Tehama', 'Trinity', 'Tulare', 'Tuolumne', 'Ventura', 'Yolo', 'Yuba',
] as const;

const PLACES = ['Oak Grove', 'Cañada', 'Riverbend', 'Pine Valley', 'Mission', 'Sierra Vista', 'Lakeside', 'Los Robles', 'Ocean View', 'Valle Verde', 'Golden Hills', 'Redwood', 'Sunnyside', 'San José Creek', 'Willow Glen', 'Mesa', 'Harbor', 'Foothill', 'Bear Creek', 'Arroyo'];
const DISTRICT_KINDS = ['Unified', 'Elementary', 'Union High', 'Joint Unified', 'Union Elementary'];
const PEOPLE = ['Lincoln', 'César Chávez', 'Dolores Huerta', 'Jefferson', 'Roosevelt', 'José Martí', 'Sally Ride', 'Garfield', 'Muir', 'Niños Unidos', 'Washington', 'Del Mar', 'Grant', 'Fremont', 'Hoover', 'Kennedy', 'Madison', 'Peña Adobe', 'Franklin', 'Emerson'];
const STREETS = ['Main St.', 'Oak Ave.', 'Mission Blvd.', 'El Camino Real', 'School Rd.', 'Cañon Dr.', 'Park Way', 'First St.', 'Hillcrest Dr.', 'Vista Ln.'];

/** Grade spans: which enrollment grade columns a school fills and which CAASPP grades it tests. */
export const SCHOOL_KINDS = {
  elementary: { suffix: 'Elementary', eilCode: 'ELEM', grades: ['GR_TK', 'GR_KN', 'GR_01', 'GR_02', 'GR_03', 'GR_04', 'GR_05'], tested: [3, 4, 5], span: 'K-5' },
  middle: { suffix: 'Middle', eilCode: 'INTMIDJR', grades: ['GR_06', 'GR_07', 'GR_08'], tested: [6, 7, 8], span: '6-8' },
  high: { suffix: 'High', eilCode: 'HS', grades: ['GR_09', 'GR_10', 'GR_11', 'GR_12'], tested: [11], span: '9-12' },
  k8: { suffix: 'K-8 Academy', eilCode: 'ELEMHIGH', grades: ['GR_KN', 'GR_01', 'GR_02', 'GR_03', 'GR_04', 'GR_05', 'GR_06', 'GR_07', 'GR_08'], tested: [3, 4, 5, 6, 7, 8], span: 'K-8' },
} as const;
export type SchoolKind = keyof typeof SCHOOL_KINDS;

export interface School {
  countyCode: number;
  districtCode: number;
  schoolCode: number;
  name: string;
  kind: SchoolKind;
  charter: boolean;
  /** TOTAL_ENR in the first year; later years drift a few percent. */
  baseEnrollment: number;
  street: string;
  city: string;
  zip: string;
  closed: boolean;
  seed: number;
}

export interface District {
  countyCode: number;
  districtCode: number;
  name: string;
  schools: School[];
  zip: string;
}

export interface Universe {
  years: number[];
  districts: District[];
  schoolCount: number;
}

/** Fact rows one school adds in one year: 33 enrollment categories plus CAASPP rows (17 groups × tests × grades incl. "all"). */
const ENROLLMENT_ROWS_PER_SCHOOL_YEAR = 33;
const AVERAGE_CAASPP_ROWS_PER_SCHOOL_YEAR = 17 * 2 * 3.9;

/** The spring year of the newest generated files; older years count back from it. */
export const LAST_GENERATED_YEAR = 2025;

/**
 * Sizes the universe for about `rows` fact rows (enrollment + CAASPP research rows): more years
 * first (up to 12, as California has published since 2014), then more schools.
 */
export function buildUniverse(rows: number, random: Random, yearsWanted?: number): Universe {
  const yearCount = yearsWanted ?? Math.min(12, Math.max(2, Math.ceil(rows / 2_000_000)));
  const years = Array.from({ length: yearCount }, (_, index) => LAST_GENERATED_YEAR - yearCount + 1 + index);
  // Aggregate rows (district, county, state) add about a sixth on top of the school rows.
  const perSchoolYear = (ENROLLMENT_ROWS_PER_SCHOOL_YEAR + AVERAGE_CAASPP_ROWS_PER_SCHOOL_YEAR) * 1.17;
  const schoolCount = Math.max(2, Math.round(rows / (yearCount * perSchoolYear)));
  const districtCount = Math.max(Math.min(schoolCount, 5), Math.ceil(schoolCount / 7));
  const districts: District[] = [];
  const usedDistrictCodes = new Set<number>();
  for (let index = 0; index < districtCount; index++) {
    // Spread over the counties, the first ones in 01–09 so that even tiny data sets have codes with a leading zero.
    const countyCode = ((index * 7) % COUNTIES.length) + 1;
    let districtCode = random.int(10_000, 79_999);
    while (usedDistrictCodes.has(districtCode)) districtCode = random.int(10_000, 79_999);
    usedDistrictCodes.add(districtCode);
    const place = random.pick(PLACES);
    districts.push({ countyCode, districtCode, name: `${place} ${random.pick(DISTRICT_KINDS)}`, schools: [], zip: String(random.int(90_001, 96_162)) });
  }
  districts.sort((x, y) => x.countyCode - y.countyCode || x.districtCode - y.districtCode);
  const kinds: SchoolKind[] = ['elementary', 'elementary', 'elementary', 'elementary', 'elementary', 'elementary', 'middle', 'middle', 'high', 'high', 'k8'];
  const usedSchoolCodes = new Set<number>();
  for (let index = 0; index < schoolCount; index++) {
    const district = districts[index % districtCount]!;
    const kind = random.pick(kinds);
    // School codes 0100000-8999999; 9xxxxxx is never used, so the generator can make codes that resolve to nothing.
    let schoolCode = random.int(100_000, 8_999_999);
    while (usedSchoolCodes.has(schoolCode)) schoolCode = random.int(100_000, 8_999_999);
    usedSchoolCodes.add(schoolCode);
    const person = random.pick(PEOPLE);
    const dualImmersion = random.next() < 0.05 ? ' — Dual Immersion' : '';
    const size = kind === 'high' ? random.int(400, 2400) : kind === 'middle' ? random.int(250, 1200) : random.int(60, 800);
    district.schools.push({
      countyCode: district.countyCode,
      districtCode: district.districtCode,
      schoolCode,
      name: `${person} ${SCHOOL_KINDS[kind].suffix}${dualImmersion}`,
      kind,
      charter: random.next() < 0.12,
      baseEnrollment: size,
      street: `${random.int(100, 9999)} ${random.pick(STREETS)}`,
      city: random.pick(PLACES),
      zip: String(random.int(90_001, 96_162)),
      closed: false,
      seed: random.uint32(),
    });
  }
  for (const district of districts) district.schools.sort((x, y) => x.schoolCode - y.schoolCode);
  return { years, districts: districts.filter((district) => district.schools.length > 0), schoolCount };
}

/** `01`, `61119`, `0000000`: the zero-padded parts of a CDS code. */
export const pad = (value: number, width: number): string => String(value).padStart(width, '0');
export const cdsCode = (county: number, district: number, school: number): string => pad(county, 2) + pad(district, 5) + pad(school, 7);
/** `2023-24` for the year ending in 2024 (the partition year is the spring year). */
export const academicYear = (year: number): string => `${year - 1}-${String(year % 100).padStart(2, '0')}`;
