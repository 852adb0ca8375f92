/**
 * The process's environment with blank variables left out: a blank variable counts as unset
 * everywhere (`DATABASE_URL=` is the embedded database, `PORT=` the default port), as in the
 * services' configuration (`envConfigProvider`).
 */
export const setEnv = (
  env: Readonly<Record<string, string | undefined>> = process.env,
): Readonly<Record<string, string | undefined>> =>
  Object.fromEntries(Object.entries(env).filter(([, value]) => (value?.trim() ?? "") !== ""));
