import type { AnalystModelConfig } from "./AnalystConfig.js";
import { type CompanyInput, computeFeatures, type Features } from "./Features.js";
import { type LeadScore, scoreLead } from "./Scoring.js";

export interface Analysis {
  readonly features: Features;
  readonly score: LeadScore;
}

/** Features and score of one company: the whole model, pure and deterministic. */
export const analyze = (company: CompanyInput, config: AnalystModelConfig): Analysis => {
  const features = computeFeatures(company, config);
  return { features, score: scoreLead(company, features, config) };
};
