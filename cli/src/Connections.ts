import { Data, Effect, Option } from "effect";
import { defaultDataDir, readStackFile } from "./StackFile.js";

export class NoStackError extends Data.TaggedError("NoStackError")<{ readonly message: string }> {}

export interface Connections {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly singleConnection: boolean;
  readonly http: Record<string, string>;
}

/**
 * Where the database and NATS are: `DATABASE_URL` / `NATS_URL` when set, else the running
 * `leadflow dev` stack recorded under `.data/`, so a second terminal just works.
 */
export const resolveConnections = Effect.gen(function* () {
  const env = process.env;
  const stack = yield* readStackFile(defaultDataDir()).pipe(Effect.orElseSucceed(() => Option.none()));
  const fromStack = Option.getOrUndefined(stack);
  const databaseUrl = env.DATABASE_URL || fromStack?.databaseUrl;
  const natsUrl = env.NATS_URL || fromStack?.natsUrl;
  if (!databaseUrl || !natsUrl) {
    return yield* new NoStackError({
      message:
        "No running Leadflow stack found: start one with `npx leadflow dev` in another terminal, " +
        "or set DATABASE_URL and NATS_URL.",
    });
  }
  return {
    databaseUrl,
    natsUrl,
    singleConnection: !env.DATABASE_URL && (fromStack?.embedded.postgres ?? false),
    http: fromStack?.http ?? {},
  } satisfies Connections;
});
