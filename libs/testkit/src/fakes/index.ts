export {
  type FakeHandler,
  type FakeHttpServer,
  type FakeHttpServerOptions,
  type FakeReply,
  type Fault,
  type RateLimitOptions,
  type RecordedRequest,
  startFakeHttpServer,
} from "./FakeHttpServer.js";
export {
  type FakePlace,
  type GooglePlacesFake,
  type GooglePlacesFakeOptions,
  generatePlaces,
  startGooglePlacesFake,
} from "./GooglePlacesFake.js";
export {
  type FakeOsmElement,
  generateOsmElements,
  type OverpassFake,
  type OverpassFakeOptions,
  type ParsedOverpassQuery,
  parseOverpassQuery,
  startOverpassFake,
} from "./OverpassFake.js";
export type { ProviderFake } from "./ProviderFake.js";
export {
  type FakeYelpBusiness,
  generateYelpBusinesses,
  startYelpFake,
  type YelpFake,
  type YelpFakeOptions,
} from "./YelpFake.js";
