import {
  type EnrichmentCommand,
  EnrichmentCompletedEvent,
  EnrichmentEnrich,
  EnrichmentFailedEvent,
} from "@leadflow/contracts";
import { Db, definePlugin, type HandlerContext, ProviderHttpLive, stageFailureHook } from "@leadflow/runtime";
import { Effect, Layer } from "effect";
import { ContactChain, ContactChainLive } from "./contacts/ContactChain.js";
import { enrichmentConcurrencyConfig } from "./EnrichmentConfig.js";
import { type CompanyResult, loadCompanies, saveResults } from "./EnrichmentStore.js";
import { ProviderCache, ProviderCacheLive } from "./ProviderCache.js";
import { PhoneChain, PhoneChainLive } from "./phones/PhoneChain.js";
import { WebsiteLive } from "./web/Website.js";

interface Prepared {
  readonly results: ReadonlyArray<CompanyResult>;
  readonly phonesBySource: Record<string, number>;
  readonly contactsBySource: Record<string, number>;
  readonly skipped: ReadonlyArray<string>;
  readonly providerErrors: ReadonlyArray<{ provider: string; message: string }>;
}

const bump = (counts: Record<string, number>, key: string) => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/**
 * The lookups, outside any transaction: phone chain (unless the company has a phone), then the
 * contact chain, a few companies at a time; one provider's failure is recorded, not thrown.
 */
const lookUp = (command: EnrichmentCommand) =>
  Effect.gen(function* () {
    const { sql } = yield* Db;
    const phones = yield* PhoneChain;
    const contactChain = yield* ContactChain;
    const cache = yield* ProviderCache;
    const concurrency = yield* enrichmentConcurrencyConfig;
    const companies = yield* loadCompanies(sql, command.companyIds);
    const phonesBySource: Record<string, number> = {};
    const contactsBySource: Record<string, number> = {};
    const skipped = new Set<string>();
    const providerErrors = new Map<string, { provider: string; message: string }>();
    for (const s of phones.skipped) skipped.add(`phone source ${s.source}: ${s.reason}`);
    for (const s of contactChain.skipped) skipped.add(`contact source ${s.source}: ${s.reason}`);
    if (phones.order.length === 0) skipped.add("phone lookups: no phone source is configured");
    if (contactChain.order.length === 0) skipped.add("contact lookups: no contact source is configured");

    // the task's cache entries are read in one statement and written in a few
    const keys = companies
      .filter((c) => !c.is_sample)
      .flatMap((c) => [
        ...(c.phone ? [] : phones.cacheKeys(c)),
        ...contactChain.cacheKeys({ name: c.name, domain: c.domain, website: c.website }),
      ]);
    const lookups = Effect.forEach(
      companies,
      (company) =>
        Effect.gen(function* () {
          if (company.is_sample) {
            // sample companies have made-up numbers and .example websites: nothing to look up
            skipped.add("sample data: phones and contacts are not looked up for sample companies");
            if (company.phone) bump(phonesBySource, company.phone_source ?? "sample");
            return { companyId: company.id, phone: null, contacts: [] } satisfies CompanyResult;
          }
          let phone: CompanyResult["phone"] = null;
          if (company.phone) {
            bump(phonesBySource, company.phone_source ?? "scout");
          } else {
            const found = yield* phones.lookup(company);
            for (const a of found.attempts)
              if (a.error)
                providerErrors.set(`${a.source}:${a.error}`, { provider: a.source, message: a.error });
            if (found.hit && found.source) {
              phone = found.hit;
              bump(phonesBySource, found.source);
            }
          }
          const found = yield* contactChain.find({
            name: company.name,
            domain: company.domain,
            website: company.website,
          });
          for (const a of found.attempts)
            if (a.error)
              providerErrors.set(`${a.source}:${a.error}`, { provider: a.source, message: a.error });
          if (found.best && found.source) bump(contactsBySource, found.source);
          return {
            companyId: company.id,
            phone,
            contacts: found.best ? [found.best] : [],
          } satisfies CompanyResult;
        }),
      { concurrency },
    );
    const results = yield* cache.batched(keys, lookups);
    return {
      results,
      phonesBySource,
      contactsBySource,
      skipped: [...skipped],
      providerErrors: [...providerErrors.values()].slice(0, 20),
    } satisfies Prepared;
  }).pipe(
    Effect.withSpan("Enrichment.lookUp", {
      attributes: { runId: command.runId, taskId: command.taskId, companies: command.companyIds.length },
    }),
  );

const save = (command: EnrichmentCommand, ctx: HandlerContext, prepared: Prepared) =>
  Effect.gen(function* () {
    const autoApproved = yield* saveResults(ctx.tx, command.runId, prepared.results);
    ctx.publish(EnrichmentCompletedEvent, {
      runId: command.runId,
      taskId: command.taskId,
      attempt: command.attempt,
      enriched: prepared.results.length,
      phonesBySource: prepared.phonesBySource,
      contacts: prepared.results.filter((r) => r.contacts.length > 0).length,
      contactsBySource: prepared.contactsBySource,
      autoApproved,
      skipped: [...prepared.skipped],
      providerErrors: [...prepared.providerErrors],
    });
  });

const ChainsLive = Layer.mergeAll(PhoneChainLive, ContactChainLive).pipe(
  Layer.provideMerge(Layer.mergeAll(ProviderHttpLive, ProviderCacheLive, WebsiteLive)),
);

/** A bad ENRICHMENT_CONCURRENCY stops the service at start, rather than failing every task. */
const SettingsChecked = Layer.effectDiscard(enrichmentConcurrencyConfig);

/** Enrichment: a phone and a decision-maker for the high-tier companies of a run. */
export const EnrichmentPlugin = definePlugin({
  name: "enrichment",
  layer: Layer.merge(ChainsLive, SettingsChecked),
  consumers: [
    {
      contract: EnrichmentEnrich,
      concurrency: 2,
      maxDeliver: 3,
      prepare: lookUp,
      handle: save,
      onDeadLetter: stageFailureHook(EnrichmentFailedEvent),
    },
  ],
});
