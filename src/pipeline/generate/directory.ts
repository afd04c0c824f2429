/**
 * The public schools directory (pubschls.txt): one row per district and per school, tab-delimited,
 * `No Data` wherever the directory has no value.
 */
import path from 'node:path';
import { hasNonAscii, nameBytes, type GeneratorContext, type WrittenFile } from './context.js';
import type { RowFaultKind } from './faults.js';
import { DIRECTORY_HEADER } from './layouts.js';
import { LineWriter } from './line-writer.js';
import { cdsCode, COUNTIES, pad, SCHOOL_KINDS } from './universe.js';

export const DIRECTORY_FILE = 'pubschls.txt';
/** The renamed header of the directory (mapped back by name). */
export const DIRECTORY_RENAME = { from: 'CDSCode', to: 'CDS Code' } as const;
const NO_DATA = 'No Data';

export function writeDirectory(context: GeneratorContext, renameHeader: boolean): WrittenFile {
  const { universe, faults, random } = context;
  const writer = new LineWriter(path.join(context.outDir, DIRECTORY_FILE), context.linesWritten);
  const header: string[] = [...DIRECTORY_HEADER];
  if (renameHeader) {
    header[0] = DIRECTORY_RENAME.to;
    faults.renamedHeaders.push({ file: DIRECTORY_FILE, ...DIRECTORY_RENAME });
    faults.record('renamed_header', DIRECTORY_FILE, 1);
  }
  writer.write(header.join('\t'));
  let rows = 0;
  // A CP1252 line is CP1252 throughout, as a Windows export writes it; every other line is UTF-8.
  const emit = (values: Record<string, string>, fault: RowFaultKind | undefined) => {
    const fields = DIRECTORY_HEADER.map((column) => (column in values ? nameBytes(values[column]!, fault === 'cp1252') : NO_DATA));
    if (fault === 'leading_zeros_dropped') fields[0] = fields[0]!.replace(/^0/, '');
    rows++;
    return writer.write(fields.join('\t'));
  };
  for (const district of universe.districts) {
    const county = COUNTIES[district.countyCode - 1]!;
    const ncesDist = pad(600_000 + (district.districtCode % 100_000), 7);
    emit(
      {
        CDSCode: cdsCode(district.countyCode, district.districtCode, 0), NCESDist: ncesDist, StatusType: 'Active', County: county, District: district.name,
        Zip: district.zip, State: 'CA', DOC: '54', DOCType: 'Unified School District', LastUpDate: '2025-06-30',
      },
      undefined,
    );
    for (const school of district.schools) {
      const kind = SCHOOL_KINDS[school.kind];
      const eligible: RowFaultKind[] = ['duplicate_key'];
      if (district.countyCode < 10) eligible.push('leading_zeros_dropped');
      if (hasNonAscii(school.name) || hasNonAscii(school.street) || hasNonAscii(district.name)) eligible.push('cp1252');
      const fault = faults.draw(eligible);
      const values: Record<string, string> = {
        CDSCode: cdsCode(district.countyCode, district.districtCode, school.schoolCode), NCESDist: ncesDist, NCESSchool: pad(school.schoolCode % 100_000, 5),
        StatusType: 'Active', County: county, District: district.name, School: school.name, Street: school.street, StreetAbr: school.street,
        City: school.city, Zip: school.zip, State: 'CA', MailStreet: school.street, MailStrAbr: school.street, MailCity: school.city, MailZip: school.zip,
        MailState: 'CA', Phone: `(${random.int(209, 951)}) ${random.int(200, 999)}-${pad(random.int(0, 9999), 4)}`, OpenDate: `${random.int(1950, 2015)}-08-15`,
        Charter: school.charter ? 'Y' : 'N', DOC: '54', DOCType: 'Unified School District', SOC: school.kind === 'high' ? '66' : school.kind === 'middle' ? '62' : '60',
        SOCType: `${kind.suffix} School`, EdOpsCode: 'TRAD', EdOpsName: 'Traditional', EILCode: kind.eilCode, EILName: kind.suffix, GSoffered: kind.span, GSserved: kind.span,
        Virtual: 'N', Magnet: 'N', YearRoundYN: 'N', Latitude: (32.5 + random.next() * 9).toFixed(5), Longitude: (-124 + random.next() * 9.5).toFixed(5),
        AdmFName: 'Pat', AdmLName: 'Rivera', LastUpDate: '2025-06-30', Multilingual: 'N',
      };
      if (school.charter) {
        values.CharterNum = pad(school.schoolCode % 10_000, 4);
        values.FundingType = school.seed % 2 === 0 ? 'Directly funded' : 'Locally funded';
      }
      const line = emit(values, fault);
      if (fault === 'leading_zeros_dropped' || fault === 'cp1252') faults.record(fault, DIRECTORY_FILE, line);
      if (fault === 'duplicate_key') faults.record(fault, DIRECTORY_FILE, emit(values, undefined));
    }
  }
  writer.close();
  return { file: DIRECTORY_FILE, source: 'directory', rows, bytes: writer.bytes };
}
