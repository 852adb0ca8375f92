export { Services, serviceNames } from "./Plugins.js";
export { defaultDataDir, readStackFile, type StackInfo } from "./StackFile.js";
