import { definePlugin } from "@leadflow/runtime";

/** Skeleton: filled in by the monitor work. */
export const MonitorPlugin = definePlugin({
  name: "monitor",
  consumers: [],
});
