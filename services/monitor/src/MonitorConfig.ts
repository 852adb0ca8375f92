import { Config, Context, Duration, Layer, Option, Redacted } from "effect";

/** The providers whose keys the health check reports (configured or not, never the key). */
export const ProviderKeys = {
  google_places: "GOOGLE_PLACES_API_KEY",
  yelp: "YELP_API_KEY",
  hunter: "HUNTER_API_KEY",
  apollo: "APOLLO_API_KEY",
  tavily: "TAVILY_API_KEY",
} as const;
export type ProviderName = keyof typeof ProviderKeys;

/** Every service a healthy deployment runs; one without a live heartbeat is an error. */
export const DefaultExpectedServices = [
  "orchestrator",
  "scout",
  "analyst",
  "enrichment",
  "writer",
  "notifier",
  "monitor",
] as const;

export interface StuckThresholds {
  /** A company still `new` after this long: found but not analysed. */
  readonly newCompany: Duration.Duration;
  /** A high-tier lead not approved after this long. */
  readonly unapprovedLead: Duration.Duration;
  /** An approved draft not sent after this long. */
  readonly unsentDraft: Duration.Duration;
}

export interface MonitorSettings {
  /** The consultancy's share of the savings it finds (the original's TB_CONTINGENCY_FEE, 0.24). */
  readonly contingencyFee: number;
  /** How often the business gauges are recomputed (SQL and JetStream), independent of scrapes. */
  readonly refreshInterval: Duration.Duration;
  readonly stuck: StuckThresholds;
  readonly expectedServices: ReadonlyArray<string>;
  /** A heartbeat older than this is a warning (services beat every 10 s; the bucket forgets after 60 s). */
  readonly heartbeatStale: Duration.Duration;
  /** Timeout of each outward probe (LLM endpoint, SMTP). */
  readonly probeTimeout: Duration.Duration;
  readonly llm: {
    readonly ollamaBaseUrl: Option.Option<string>;
    readonly openaiBaseUrl: Option.Option<string>;
    readonly openaiApiKey: Option.Option<Redacted.Redacted>;
    readonly writerBackend: Option.Option<string>;
  };
  readonly email: {
    readonly smtpUrl: Option.Option<Redacted.Redacted>;
    readonly sendgridApiKey: Option.Option<Redacted.Redacted>;
  };
  readonly alertEmail: Option.Option<string>;
  /** Which provider keys are set (the keys themselves are not kept). */
  readonly providers: Readonly<Record<ProviderName, boolean>>;
}

const positiveDuration = (name: string, fallback: Duration.DurationInput) =>
  Config.duration(name).pipe(
    Config.withDefault(Duration.decode(fallback)),
    Config.validate({
      message: `${name} must be a positive duration, e.g. "15 seconds"`,
      validation: (d) => Duration.toMillis(d) > 0,
    }),
  );

const optionalText = (name: string) =>
  Config.option(Config.string(name)).pipe(Config.map(Option.filter((s) => s.trim() !== "")));

const optionalSecret = (name: string) =>
  Config.option(Config.redacted(name)).pipe(
    Config.map(Option.filter((s) => Redacted.value(s).trim() !== "")),
  );

const providers = Config.all(
  Object.fromEntries(
    Object.entries(ProviderKeys).map(([p, env]) => [p, optionalSecret(env).pipe(Config.map(Option.isSome))]),
  ) as Record<ProviderName, Config.Config<boolean>>,
);

export const monitorConfig: Config.Config<MonitorSettings> = Config.all({
  contingencyFee: Config.number("CONTINGENCY_FEE").pipe(
    Config.withDefault(0.24),
    Config.validate({
      message: "CONTINGENCY_FEE must be a share between 0 and 1",
      validation: (n) => n >= 0 && n <= 1,
    }),
  ),
  refreshInterval: positiveDuration("MONITOR_REFRESH_INTERVAL", "15 seconds"),
  stuck: Config.all({
    newCompany: positiveDuration("STUCK_NEW_AFTER", "24 hours"),
    unapprovedLead: positiveDuration("STUCK_UNAPPROVED_AFTER", "48 hours"),
    unsentDraft: positiveDuration("STUCK_UNSENT_AFTER", "6 hours"),
  }),
  expectedServices: Config.array(Config.string(), "MONITOR_EXPECTED_SERVICES").pipe(
    Config.map((xs) => xs.map((s) => s.trim()).filter((s) => s !== "")),
    Config.withDefault([...DefaultExpectedServices]),
  ),
  heartbeatStale: positiveDuration("MONITOR_HEARTBEAT_STALE", "30 seconds"),
  probeTimeout: positiveDuration("MONITOR_PROBE_TIMEOUT", "3 seconds"),
  llm: Config.all({
    ollamaBaseUrl: optionalText("OLLAMA_BASE_URL"),
    openaiBaseUrl: optionalText("OPENAI_BASE_URL"),
    openaiApiKey: optionalSecret("OPENAI_API_KEY"),
    writerBackend: optionalText("WRITER_BACKEND"),
  }),
  email: Config.all({
    smtpUrl: optionalSecret("SMTP_URL"),
    sendgridApiKey: optionalSecret("SENDGRID_API_KEY"),
  }),
  alertEmail: optionalText("ALERT_EMAIL"),
  providers,
});

export class MonitorConfig extends Context.Tag("leadflow/Monitor/MonitorConfig")<
  MonitorConfig,
  MonitorSettings
>() {}

export const MonitorConfigLive = Layer.effect(MonitorConfig, monitorConfig);
