export { waitFor } from "./Conditions.js";
export { adminUrl, createTestDatabase, type TestDatabase } from "./TestDatabase.js";
export { createTestNats, type TestNats } from "./TestNats.js";
