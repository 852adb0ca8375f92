import { serviceMain } from "@leadflow/runtime";
import { ScoutPlugin } from "./index.js";

serviceMain(ScoutPlugin, 8011);
