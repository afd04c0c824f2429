/** The column layouts of the California files, as published (2024+ layouts). */

export const ENROLLMENT_GRADES = ['GR_TK', 'GR_KN', 'GR_01', 'GR_02', 'GR_03', 'GR_04', 'GR_05', 'GR_06', 'GR_07', 'GR_08', 'GR_09', 'GR_10', 'GR_11', 'GR_12'] as const;

/** Census Day enrollment (cdenroll), tab-delimited. */
export const ENROLLMENT_HEADER = [
  'AcademicYear', 'AggregateLevel', 'CountyCode', 'DistrictCode', 'SchoolCode', 'CountyName', 'DistrictName', 'SchoolName', 'Charter',
  'ReportingCategory', 'TOTAL_ENR', ...ENROLLMENT_GRADES,
] as const;

/** Reporting categories, grouped by the families that each add up to the total (TA). */
export const CATEGORY_FAMILIES = {
  race: ['RE_A', 'RE_B', 'RE_D', 'RE_F', 'RE_H', 'RE_I', 'RE_P', 'RE_T', 'RE_W'],
  gender: ['GN_F', 'GN_M', 'GN_X', 'GN_Z'],
  englishStatus: ['ELAS_ADEL', 'ELAS_EL', 'ELAS_EO', 'ELAS_IFEP', 'ELAS_MISS', 'ELAS_RFEP', 'ELAS_TBD'],
  age: ['AR_0418', 'AR_1922', 'AR_2329', 'AR_3039', 'AR_4049', 'AR_50P'],
} as const;
/** Student groups: subsets of the total, each on its own. */
export const SUBGROUP_CATEGORIES = ['SG_EL', 'SG_DS', 'SG_SD', 'SG_MG', 'SG_FS', 'SG_HM'] as const;

/** Public schools directory (pubschls.txt), tab-delimited, `No Data` for a missing value. */
export const DIRECTORY_HEADER = [
  'CDSCode', 'NCESDist', 'NCESSchool', 'StatusType', 'County', 'District', 'School', 'Street', 'StreetAbr', 'City', 'Zip', 'State',
  'MailStreet', 'MailStrAbr', 'MailCity', 'MailZip', 'MailState', 'Phone', 'Ext', 'FaxNumber', 'WebSite', 'OpenDate', 'ClosedDate',
  'Charter', 'CharterNum', 'FundingType', 'DOC', 'DOCType', 'SOC', 'SOCType', 'EdOpsCode', 'EdOpsName', 'EILCode', 'EILName',
  'GSoffered', 'GSserved', 'Virtual', 'Magnet', 'YearRoundYN', 'FederalDFCDistrictID', 'Latitude', 'Longitude', 'AdmFName',
  'AdmLName', 'LastUpDate', 'Multilingual',
] as const;

const AREA_COLUMNS = [1, 2, 3, 4].flatMap((area) => ['Above', 'Near', 'Below'].map((level) => `Area ${area} Percentage ${level} Standard`));

/** CAASPP Smarter Balanced research file, caret-delimited, 2024+ layout (Type ID moved to the entities file). */
export const CAASPP_HEADER = [
  'County Code', 'District Code', 'School Code', 'Filler', 'Test Year', 'Student Group ID', 'Test Type',
  'Total Tested at Reporting Level', 'Total Tested with Scores at Reporting Level', 'Grade', 'Test ID', 'Students Enrolled',
  'Students Tested', 'Mean Scale Score', 'Percentage Standard Exceeded', 'Percentage Standard Met', 'Percentage Standard Met and Above',
  'Percentage Standard Nearly Met', 'Percentage Standard Not Met', 'Students with Scores', ...AREA_COLUMNS,
] as const;

/** CAASPP entities file, caret-delimited. */
export const ENTITIES_HEADER = ['County Code', 'District Code', 'School Code', 'Type ID', 'Filler', 'Test Year', 'County Name', 'District Name', 'School Name', 'Zip Code'] as const;

/** CAASPP student groups, with the share of a school's students each stands for (see caaspp.ts). */
export const STUDENT_GROUPS = [1, 3, 4, 31, 111, 128, 99, 160, 180, 74, 75, 76, 77, 78, 79, 80, 144] as const;

/** Entity type ids of the entities file. */
export const TYPE_IDS = { state: '04', county: '05', district: '06', school: '07', directFundedCharter: '09', locallyFundedCharter: '10' } as const;
