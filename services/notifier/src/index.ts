export { type ApprovalRequestRow, listRequests } from "./ApprovalStore.js";
export { reviewUrl, signToken, verifyToken } from "./LinkToken.js";
export { linkTtlConfig } from "./NotifierConfig.js";
export { NotifierPlugin } from "./NotifierPlugin.js";
