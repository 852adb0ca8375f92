import { serviceMain } from "@leadflow/runtime";
import { EnrichmentPlugin } from "./index.js";

serviceMain(EnrichmentPlugin, 8013);
