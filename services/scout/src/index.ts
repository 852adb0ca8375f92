export { companyRow, storeCompanies } from "./CompanyStore.js";
export {
  dedupeCompanies,
  dedupeKey,
  isSharedHost,
  makeDeduper,
  normalizeDomain,
  normalizeName,
} from "./Dedupe.js";
export {
  type ParsedAddress,
  type ParsedLocation,
  parseLocation,
  parseUsAddress,
  stateCode,
  US_STATES,
} from "./Location.js";
export { type GatherResult, gather } from "./Scout.js";
export { ScoutPlugin } from "./ScoutPlugin.js";
export {
  type FoundCompany,
  type ScoutSource,
  ScoutSources,
  type SearchQuery,
  SourceError,
} from "./Source.js";
export {
  parseSourceList,
  ScoutSourcesLive,
  type SourceName,
  SourceNames,
  sourceNamesConfig,
} from "./Sources.js";
export { CsvSourceLive, makeCsvSource, parseCsvCompanies } from "./sources/CsvSource.js";
export { GooglePlacesSourceLive, makeGooglePlacesSource } from "./sources/GooglePlacesSource.js";
export { buildOverpassQuery, makeOverpassSource, OverpassSourceLive } from "./sources/OverpassSource.js";
export { generateSampleCompanies, SampleSourceLive, sampleSource } from "./sources/SampleSource.js";
export { makeYelpSource, YelpSourceLive } from "./sources/YelpSource.js";
