/**
 * Benchmark — the template writer alone: drafts per second through `Writer.write` with the
 * template backend (compose, parse, render HTML + text), with the MJML compiled once at layer
 * construction against a renderer that compiles the MJML for every email, in the same run.
 * Also the rendering step alone, the same two ways. Medians of several repetitions, after a
 * warm-up pass; the every-time baseline renders fewer emails per repetition (it is ~100× slower).
 */
import { Effect, Logger, LogLevel } from "effect";
import { WriterBackend } from "../services/writer/src/Backend.js";
import { templateBackend, templateEmail } from "../services/writer/src/backends/TemplateBackend.js";
import type { DraftInput } from "../services/writer/src/DraftInput.js";
import {
  EmailRenderer,
  type EmailRendererShape,
  everyTimeRenderer,
  makeEmailRenderer,
} from "../services/writer/src/EmailRender.js";
import { makeWriter, type WriterShape } from "../services/writer/src/Writer.js";
import { type Figure, rate, ratioOf, summarize } from "./stats.js";

const group = "7. Template writer alone (in process, one draft after another)";
const TARGET_DRAFTS_PER_SEC = 5_000;

/** Varied companies (names, places, contacts, figures), a few with hostile names. */
const makeInputs = (n: number): ReadonlyArray<DraftInput> =>
  Array.from({ length: n }, (_, i) => {
    const spend = 20_000 + ((i * 7_919) % 2_000_000);
    return {
      companyId: `bench-company-${i}`,
      company: {
        name: i % 50 === 0 ? `ACME ${i}\r\nBcc: x@y <script>alert(1)</script>` : `Company ${i} Hotel`,
        industry: i % 3 === 0 ? "Restaurant" : "Hotel",
        city: i % 4 === 0 ? null : "Buffalo",
        state: "NY",
        website: `https://company${i}.example`,
      },
      contact:
        i % 2 === 0
          ? null
          : {
              fullName: "Ann Smith",
              firstName: "Ann",
              title: "Facilities Manager",
              email: `ann@company${i}.example`,
            },
      features: {
        annualUtilitySpend: spend,
        savingsLow: Math.round(spend * 0.04),
        savingsMid: Math.round(spend * 0.08),
        savingsHigh: Math.round(spend * 0.15),
        sites: 1 + (i % 5),
        electricityPriceKwh: 0.09 + (i % 12) / 100,
        industryKey: "hotel",
      },
      score: { score: 80, tier: "high", reasons: [{ factor: "spend", points: 30, detail: "high spend" }] },
      sender: {
        name: "Sam Lee",
        company: "Brightline Utility Audits",
        email: "sam@brightline.example",
        postalAddress: "1200 Main St, Suite 200\nBuffalo, NY 14201",
        unsubscribeUrl: null,
      },
    };
  });

const buildWriter = (renderer: EmailRendererShape): Promise<WriterShape> =>
  Effect.runPromise(
    makeWriter.pipe(
      Effect.provideService(WriterBackend, templateBackend),
      Effect.provideService(EmailRenderer, renderer),
    ),
  );

/** Milliseconds to run `each` over `items`, one after the other (as a stage's handler would). */
const timeAll = async <A>(
  items: ReadonlyArray<A>,
  each: (a: A) => Effect.Effect<unknown>,
): Promise<number> => {
  const started = performance.now();
  await Effect.runPromise(
    Effect.forEach(items, each, { discard: true }).pipe(Logger.withMinimumLogLevel(LogLevel.Warning)),
  );
  return performance.now() - started;
};

const rates = async <A>(
  items: ReadonlyArray<A>,
  each: (a: A) => Effect.Effect<unknown>,
  reps: number,
): Promise<Array<number>> => {
  // one untimed pass: the first thousands of calls run unoptimised code
  await timeAll(items, each);
  const out: Array<number> = [];
  for (let r = 0; r < reps; r++) out.push(rate(items.length, await timeAll(items, each)));
  return out;
};

/** Drafts per second of the template writer, compile-once MJML vs compile-every-time, same run. */
export async function benchWriterTemplate(opts: { quick: boolean }): Promise<{
  readonly name: string;
  readonly figures: ReadonlyArray<Figure>;
}> {
  const reps = opts.quick ? 5 : 7;
  const inputs = makeInputs(opts.quick ? 2_000 : 10_000);
  const baselineInputs = inputs.slice(0, opts.quick ? 60 : 200);

  const onceRenderer = await Effect.runPromise(makeEmailRenderer());
  const everyTime = everyTimeRenderer();
  const onceWriter = await buildWriter(onceRenderer);
  const everyTimeWriter = await buildWriter(everyTime);

  const drafts = summarize(await rates(inputs, onceWriter.write, reps));
  const draftsBaseline = summarize(await rates(baselineInputs, everyTimeWriter.write, reps));

  const contents = inputs.map((input) => [templateEmail(input), input] as const);
  const renderOnce = summarize(await rates(contents, ([c, i]) => onceRenderer.render(c, i), reps));
  const renderBaseline = summarize(
    await rates(contents.slice(0, baselineInputs.length), ([c, i]) => everyTime.render(c, i), reps),
  );

  const figures: Array<Figure> = [
    {
      id: "writer.template.drafts",
      group,
      label: "template drafts (write + render, MJML compiled once)",
      unit: "drafts/s",
      value: drafts,
      baseline: { label: "MJML compiled for every draft", unit: "drafts/s", value: draftsBaseline },
      ratio: ratioOf(drafts, draftsBaseline),
      target: {
        text: `≥ ${TARGET_DRAFTS_PER_SEC.toLocaleString("en-US")} drafts/s`,
        met: drafts.median >= TARGET_DRAFTS_PER_SEC,
      },
      note: `${inputs.length} drafts × ${reps} (baseline ${baselineInputs.length} × ${reps}), one after another`,
    },
    {
      id: "writer.template.render",
      group,
      label: "rendering alone (fill the compiled HTML)",
      unit: "emails/s",
      value: renderOnce,
      baseline: { label: "compile MJML per email", unit: "emails/s", value: renderBaseline },
      ratio: ratioOf(renderOnce, renderBaseline),
    },
  ];
  return { name: "writerTemplate", figures };
}
