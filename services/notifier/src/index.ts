export { NotifierPlugin } from "./NotifierPlugin.js";
