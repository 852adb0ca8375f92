export { type ProviderLimits, providerLimitsConfig, providerRetryConfig } from "@leadflow/runtime";
