export { MonitorPlugin } from "./MonitorPlugin.js";
