export { EnrichmentPlugin } from "./EnrichmentPlugin.js";
