import { serviceMain } from "@leadflow/runtime";
import { MonitorPlugin } from "./index.js";

serviceMain(MonitorPlugin, 8001);
