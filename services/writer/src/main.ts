import { serviceMain } from "@leadflow/runtime";
import { WriterPlugin } from "./index.js";

serviceMain(WriterPlugin, 8014);
