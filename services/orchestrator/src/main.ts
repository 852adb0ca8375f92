import { serviceMain } from "@leadflow/runtime";
import { OrchestratorPlugin } from "./index.js";

serviceMain(OrchestratorPlugin, 8010);
