import { serviceMain } from "@leadflow/runtime";
import { AnalystPlugin } from "./index.js";

serviceMain(AnalystPlugin, 8012);
