export { AnalystConfig, AnalystConfigLive, analystConfig, defaultAnalystConfig } from "./AnalystConfig.js";
export { AnalystPlugin } from "./AnalystPlugin.js";
export { computeFeatures } from "./Features.js";
export { analyze } from "./Model.js";
export { scoreLead } from "./Scoring.js";
