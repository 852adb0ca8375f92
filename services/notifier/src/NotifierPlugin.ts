import { ApprovalRequestedEvent } from "@leadflow/contracts";
import { definePlugin } from "@leadflow/runtime";
import { Layer } from "effect";
import { ApprovalEmailRendererLive } from "./ApprovalEmail.js";
import { NotifierConfigLive } from "./NotifierConfig.js";
import { NotifierMetricsLive } from "./NotifierMetrics.js";
import { recordNotification, sendApprovalEmail } from "./Notify.js";
import { reviewRoutes } from "./ReviewRoutes.js";
import { EmailTransportLive } from "./Transports.js";

/**
 * The notifier: emails a signed review link for every approval request, serves the review
 * pages, and turns a decision into Postgres rows and `leadflow.evt.approval.decided`.
 */
export const NotifierPlugin = definePlugin({
  name: "notifier",
  layer: Layer.mergeAll(
    NotifierConfigLive,
    NotifierMetricsLive,
    EmailTransportLive,
    ApprovalEmailRendererLive,
  ),
  consumers: [
    {
      contract: ApprovalRequestedEvent,
      concurrency: 2,
      // a transport outage or a claim left by a crashed sender is waited out over ~20 minutes
      maxDeliver: 8,
      backoff: ["5 seconds", "30 seconds", "1 minute", "2 minutes", "5 minutes"],
      ackWait: "60 seconds",
      prepare: sendApprovalEmail,
      handle: recordNotification,
    },
  ],
  routes: reviewRoutes,
});
