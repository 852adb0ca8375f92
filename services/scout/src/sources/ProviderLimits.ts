export { type ProviderLimits, providerLimitsConfig } from "@leadflow/runtime";
