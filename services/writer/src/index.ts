export { templateBackend, templateEmail } from "./backends/TemplateBackend.js";
export type { Draft, DraftInput } from "./DraftInput.js";
export {
  EmailRenderer,
  EmailRendererLive,
  escapeHtml,
  everyTimeRenderer,
  makeEmailRenderer,
  renderEveryTime,
} from "./EmailRender.js";
export { Sender, SenderLive } from "./SenderConfig.js";
export { makeWriter, Writer, WriterFromConfigLive, WriterLive } from "./Writer.js";
export { WriterPlugin } from "./WriterPlugin.js";
