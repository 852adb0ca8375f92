export { OrchestratorPlugin, Pipeline, retryDelayMs, retrySchedule } from "./Orchestrator.js";
export { OrchestratorConfig, OrchestratorConfigLive, orchestratorConfig } from "./OrchestratorConfig.js";
export { decide, type MachineConfig, type RunCommand, type RunInput, type RunView } from "./RunMachine.js";
export { computeSummary } from "./RunStore.js";
