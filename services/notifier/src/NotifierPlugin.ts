import { definePlugin } from "@leadflow/runtime";

/** Skeleton: filled in by the notifier work. */
export const NotifierPlugin = definePlugin({
  name: "notifier",
  consumers: [],
});
