import { cleanLine } from "@leadflow/contracts";
import type { FoundCompany } from "./Source.js";

const TEXT_FIELDS = [
  "industry",
  "address",
  "city",
  "state",
  "postalCode",
  "phone",
  "website",
  "sourceRef",
] as const;

/**
 * A company with every text field `cleanLine`d (what the scout keeps of a source's answer); the
 * same object when there was nothing to clean.
 */
export const cleanCompany = (c: FoundCompany): FoundCompany => {
  // a name of nothing but control characters is still a company the source reported
  const name = cleanLine(c.name) || "(no name)";
  const changed: Record<string, string | null> = name === c.name ? {} : { name };
  let any = name !== c.name;
  for (const field of TEXT_FIELDS) {
    const value = cleanLine(c[field]);
    if (value !== c[field]) {
      changed[field] = value;
      any = true;
    }
  }
  return any ? { ...c, ...changed } : c;
};
