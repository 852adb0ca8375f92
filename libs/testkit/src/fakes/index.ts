export {
  type ApolloFake,
  type ApolloFakeOptions,
  type FakeApolloPerson,
  fakeApolloPerson,
  generateApolloPeople,
  startApolloFake,
} from "./ApolloFake.js";
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
  type GooglePlacesPhoneFake,
  type GooglePlacesPhoneFakeOptions,
  startGooglePlacesPhoneFake,
} from "./GooglePlacesPhoneFake.js";
export {
  type FakeHunterEmail,
  fakeHunterEmail,
  generateHunterEmails,
  type HunterFake,
  type HunterFakeOptions,
  startHunterFake,
} from "./HunterFake.js";
export {
  FAKE_EMAIL_ANSWER,
  type OllamaAnswer,
  type OllamaChatRequest,
  type OllamaFake,
  type OllamaFakeOptions,
  startOllamaFake,
} from "./OllamaFake.js";
export {
  type OpenAiAnswer,
  type OpenAiChatRequest,
  type OpenAiFake,
  type OpenAiFakeOptions,
  startOpenAiFake,
} from "./OpenAiFake.js";
export {
  type FakeOsmElement,
  generateOsmElements,
  type OverpassFake,
  type OverpassFakeOptions,
  type ParsedOverpassQuery,
  parseOverpassQuery,
  startOverpassFake,
} from "./OverpassFake.js";
export { type FakeListing, generateListings, searchDirectory, usPhoneForms } from "./PhoneDirectory.js";
export type { ProviderFake } from "./ProviderFake.js";
export {
  type SendGridFake,
  type SendGridFakeOptions,
  type SendGridMail,
  startSendGridFake,
} from "./SendGridFake.js";
export {
  type FakeYelpBusiness,
  generateYelpBusinesses,
  startYelpFake,
  type YelpFake,
  type YelpFakeOptions,
} from "./YelpFake.js";
export { startYelpPhoneFake, type YelpPhoneFake, type YelpPhoneFakeOptions } from "./YelpPhoneFake.js";
