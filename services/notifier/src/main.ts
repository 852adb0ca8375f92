import { serviceMain } from "@leadflow/runtime";
import { NotifierPlugin } from "./index.js";

serviceMain(NotifierPlugin, 8002);
