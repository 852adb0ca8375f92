import { isDatabaseUrl, setEnv } from "@leadflow/runtime";
import { Data, Effect, Option } from "effect";
import { defaultDataDir, readStackFile } from "./StackFile.js";

export class NoStackError extends Data.TaggedError("NoStackError")<{ readonly message: string }> {}

export interface Connections {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly singleConnection: boolean;
  readonly http: Record<string, string>;
}

const find = (needNats: boolean) =>
  Effect.gen(function* () {
    const env = setEnv();
    const stack = yield* readStackFile(defaultDataDir()).pipe(Effect.orElseSucceed(() => Option.none()));
    const fromStack = Option.getOrUndefined(stack);
    if (env.DATABASE_URL && !isDatabaseUrl(env.DATABASE_URL)) {
      return yield* new NoStackError({ message: "DATABASE_URL is not a postgres:// (or postgresql://) URL" });
    }
    const databaseUrl = env.DATABASE_URL ?? fromStack?.databaseUrl;
    const natsUrl = env.NATS_URL ?? fromStack?.natsUrl;
    if (!databaseUrl || (needNats && !natsUrl)) {
      return yield* new NoStackError({
        message:
          "No running Leadflow stack found: start one with `npx leadflow dev` in another terminal, " +
          (needNats ? "or set DATABASE_URL and NATS_URL." : "or set DATABASE_URL."),
      });
    }
    return {
      databaseUrl,
      natsUrl: natsUrl ?? "",
      singleConnection: !env.DATABASE_URL && (fromStack?.embedded.postgres ?? false),
      http: fromStack?.http ?? {},
    } satisfies Connections;
  });

/**
 * Where the database and NATS are: `DATABASE_URL` / `NATS_URL` when set, else the running
 * `leadflow dev` stack recorded under `.data/`, so a second terminal just works.
 */
export const resolveConnections = find(true);

/** The database alone (`leadflow migrate`), found the same way; NATS is neither needed nor asked for. */
export const resolveDatabase = Effect.map(find(false), (c) => ({
  databaseUrl: c.databaseUrl,
  singleConnection: c.singleConnection,
}));
