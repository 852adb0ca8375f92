import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { builtinModules, createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Services } from "@leadflow/cli";
import { CompanyStatuses } from "@leadflow/contracts";
import { freePort } from "@leadflow/runtime/embedded";
import {
  createTestDatabase,
  createTestNats,
  startTestHost,
  type TestDatabase,
  type TestHost,
  type TestNats,
  waitFor,
} from "@leadflow/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The deploy files (deploy/, Dockerfile) against the code: Prometheus's own tools check the
// rules and configs, a real Prometheus scrapes a host of every plugin through the Kubernetes
// relabelling and evaluates every dashboard and rule expression, every metric they name is
// exported, and the manifests agree with the services (ports, probes, limits, security).

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const deploy = join(root, "deploy");
const run = promisify(execFile);

// js-yaml is in node_modules through the notifier's MJML (mjml-core → htmlnano → cosmiconfig);
// it ships no types, so the two functions used are typed here.
const yaml = createRequire(import.meta.url)("js-yaml") as {
  load: (text: string) => unknown;
  loadAll: (text: string) => Array<unknown>;
};

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON documents are walked dynamically
type Doc = any;

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a template
const viaDatasourceVariable = { type: "prometheus", uid: "${datasource}" };

const readYaml = async (path: string): Promise<Doc> => yaml.load(await readFile(path, "utf8"));
const readYamlAll = async (path: string): Promise<Array<Doc>> =>
  yaml.loadAll(await readFile(path, "utf8")).filter((d) => d != null);

const hasBinary = async (name: string, ...args: Array<string>): Promise<boolean> =>
  run(name, args.length > 0 ? args : ["--version"]).then(
    () => true,
    () => false,
  );
const [promtool, prometheus, kubectl] = await Promise.all([
  hasBinary("promtool"),
  hasBinary("prometheus"),
  hasBinary("kubectl", "version", "--client"),
]);
for (const [name, ok] of [
  ["promtool", promtool],
  ["prometheus", prometheus],
  ["kubectl", kubectl],
] as const) {
  if (!ok) console.warn(`DeployFiles: ${name} is not installed; the checks that need it are skipped`);
}

// ---------------------------------------------------------------------------------------------
// PromQL: the metric names an expression selects

const keywords = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "and",
  "or",
  "unless",
  "inf",
  "nan",
]);

/**
 * Metric names selected by a PromQL expression (Grafana variables allowed): strings, label
 * matchers, ranges, label lists of by/without/on/ignoring/group_*, numbers and durations go;
 * an identifier followed by `(` is a function or aggregation; what is left are metric names.
 */
const metricNamesIn = (expr: string): Array<string> => {
  // Grafana's label_values(selector, label); label_values(label) names no metric
  const labelValues = /^\s*label_values\((.*),\s*\w+\s*\)\s*$/.exec(expr);
  if (labelValues) return metricNamesIn(labelValues[1]!);
  if (/^\s*label_values\(\s*\w+\s*\)\s*$/.test(expr)) return [];
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\b\d[\w.]*/g, " ");
  const names = new Set<string>();
  for (const m of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, word, call] = m;
    if (call || keywords.has(word!.toLowerCase())) continue;
    names.add(word!);
  }
  return [...names];
};

/** Metric families in a Prometheus text exposition, with their types. */
const exportedFamilies = (exposition: string): Map<string, string> =>
  new Map(
    [...exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(([, name, type]) => [name!, type!] as const),
  );

/** The family a sample name belongs to: `x_bucket` of histogram `x` is `x`. */
const familyOf = (name: string, families: Map<string, string>): string | undefined => {
  if (families.has(name)) return name;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  const base = m?.[1];
  if (base === undefined) return undefined;
  const type = families.get(base);
  if (type === "histogram" || (type === "summary" && m?.[2] !== "bucket")) return base;
  return undefined;
};

// ---------------------------------------------------------------------------------------------
// The deploy files, read once

interface Expression {
  readonly where: string;
  readonly expr: string;
}

const dashboardPath = join(deploy, "grafana/dashboards/leadflow.json");
const rulesDir = join(deploy, "prometheus/rules");

const dashboardExpressions = (dashboard: Doc): Array<Expression> => [
  ...dashboard.panels.flatMap((p: Doc) =>
    (p.targets ?? []).map((t: Doc) => ({ where: `dashboard panel "${p.title}" ${t.refId}`, expr: t.expr })),
  ),
  ...dashboard.templating.list
    .filter((v: Doc) => v.type === "query")
    .map((v: Doc) => ({
      where: `dashboard variable ${v.name}`,
      expr: typeof v.query === "string" ? v.query : v.query.query,
    })),
];

const ruleFiles = async () =>
  (await readdir(rulesDir)).filter((f) => f.endsWith(".yml")).map((f) => join(rulesDir, f));

const ruleExpressions = async (): Promise<Array<Expression>> => {
  const out: Array<Expression> = [];
  for (const file of await ruleFiles()) {
    const doc = await readYaml(file);
    for (const group of doc.groups) {
      for (const rule of group.rules) {
        out.push({ where: `rule ${rule.alert ?? rule.record} (${group.name})`, expr: rule.expr });
      }
    }
  }
  return out;
};

/** The lag queries of the KEDA example (deploy/k8s/examples/keda.yaml). */
const kedaExpressions = async (): Promise<Array<Expression>> =>
  (await readYamlAll(join(deploy, "k8s/examples/keda.yaml"))).flatMap((d) =>
    (d.spec.triggers as Array<Doc>)
      .filter((t) => t.type === "prometheus")
      .map((t) => ({ where: `KEDA ScaledObject ${d.metadata.name}`, expr: t.metadata.query as string })),
  );

/** Grafana's variables replaced by values Prometheus accepts. */
const forPrometheus = (expr: string) =>
  expr.replace(/\$__rate_interval|\$__interval|\$__range/g, "1m").replace(/\$service\b|\$\{service\}/g, ".*");

describe("PromQL metric name extraction", () => {
  it("finds selectors and nothing else", () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (le, consumer) (rate(leadflow_handler_duration_seconds_bucket{service=~"$service",x="a(b)"}[$__rate_interval])))',
      ),
    ).toEqual(["leadflow_handler_duration_seconds_bucket"]);
    expect(
      metricNamesIn(
        'sum without (pod) (a_total offset 1h) / on (provider) group_left (tier) b unless absent(c{d="e"}) > bool 1e-3',
      ).sort(),
    ).toEqual(["a_total", "b", "c"]);
    expect(
      metricNamesIn('label_replace(up, "dst", "$1", "src", "(.*)") and ignoring(x) max(y) by (z)'),
    ).toEqual(["up", "y"]);
    expect(metricNamesIn("label_values(leadflow_process_resident_memory_bytes, service)")).toEqual([
      "leadflow_process_resident_memory_bytes",
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

describe("alert rules", () => {
  it("the missing-heartbeat alert names every service", async () => {
    const rule = (await ruleExpressions()).find((r) => r.where.startsWith("rule LeadflowHeartbeatMissing"));
    const named = [
      ...rule!.expr.matchAll(/absent\(leadflow_service_heartbeat_age_seconds\{service="(\w+)"\}\)/g),
    ];
    expect(named.map((m) => m[1]).sort()).toEqual(Object.keys(Services).sort());
  });
});

describe.skipIf(!promtool)("Prometheus rules and configs (promtool)", () => {
  it("check rules passes on every rule file", async () => {
    const files = await ruleFiles();
    expect(files.length).toBeGreaterThan(0);
    const { stdout } = await run("promtool", ["check", "rules", ...files]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("the alert rules' unit tests pass (promtool test rules)", async () => {
    const dir = join(deploy, "prometheus/tests");
    const files = (await readdir(dir)).filter((f) => f.endsWith(".yml")).map((f) => join(dir, f));
    expect(files.length).toBeGreaterThan(0);
    const result = await run("promtool", ["test", "rules", ...files]).catch((e) => e);
    expect(`${result.stdout}${result.stderr}`).toContain("SUCCESS");
    expect(result.code ?? 0).toBe(0);
  });

  it("check config passes on the compose config, its rule files resolved", async () => {
    const { stdout } = await run("promtool", [
      "check",
      "config",
      join(deploy, "prometheus/prometheus.compose.yml"),
    ]);
    expect(stdout).toMatch(/SUCCESS: \d+ rule files? found/);
    expect(stdout).toMatch(/Checking .*leadflow-alerts\.yml\s+SUCCESS/);
  });

  it("check config passes on the Kubernetes config", async () => {
    const path = join(deploy, "prometheus/prometheus.yml");
    const direct = await run("promtool", ["check", "config", path]).catch((e) => e);
    const output = `${direct.stdout}${direct.stderr}`;
    if ((direct.code ?? 0) === 0) {
      expect(output).toMatch(/SUCCESS: \d+ rule files? found/);
      return;
    }
    // Debian builds Prometheus without Kubernetes discovery; then everything but the
    // kubernetes_sd_configs block (relabelling, rule files) is checked through a copy that
    // discovers from a file, and the block's shape is checked here.
    expect(output).toContain("field kubernetes_sd_configs not found");
    console.warn(
      "DeployFiles: this promtool has no Kubernetes discovery; checking prometheus.yml through a copy",
    );
    const config = await readYaml(path);
    for (const job of config.scrape_configs) {
      expect(job.kubernetes_sd_configs).toEqual([{ role: "pod", namespaces: { names: ["leadflow"] } }]);
    }
    const dir = await mkdtemp(join(tmpdir(), "leadflow-promcheck-"));
    try {
      await symlink(rulesDir, join(dir, "rules"));
      await writeFile(join(dir, "targets.json"), "[]");
      await writeFile(
        join(dir, "prometheus.yml"),
        JSON.stringify(withFileDiscovery(config, join(dir, "targets.json"))),
      );
      const { stdout } = await run("promtool", ["check", "config", join(dir, "prometheus.yml")]);
      expect(stdout).toMatch(/SUCCESS: \d+ rule files? found/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The Kubernetes config with file discovery in place of Kubernetes discovery (same relabelling). */
const withFileDiscovery = (config: Doc, targetsFile: string, interval?: string): Doc => ({
  ...config,
  global: interval
    ? { ...config.global, scrape_interval: interval, evaluation_interval: interval }
    : config.global,
  scrape_configs: config.scrape_configs.map(({ kubernetes_sd_configs: _, ...job }: Doc) => ({
    ...job,
    file_sd_configs: [{ files: [targetsFile], refresh_interval: "1s" }],
  })),
});

// ---------------------------------------------------------------------------------------------

/**
 * A real Prometheus on the Kubernetes config, with file discovery standing in for Kubernetes
 * discovery and handing over what it would for three pods: the host (its container port is
 * not the annotated one, so relabelling must move the address to the annotation), a pod
 * without the scrape annotation, and a finished Job's pod.
 */
const startPrometheus = async (hostPort: number) => {
  const dir = await mkdtemp(join(tmpdir(), "leadflow-prometheus-"));
  await symlink(rulesDir, join(dir, "rules"));
  const config = await readYaml(join(deploy, "prometheus/prometheus.yml"));
  const pod = (name: string, annotations: Record<string, string>, phase = "Running") => ({
    targets: ["127.0.0.1:9"],
    labels: {
      __meta_kubernetes_namespace: "leadflow",
      __meta_kubernetes_pod_name: name,
      __meta_kubernetes_pod_phase: phase,
      ...Object.fromEntries(
        Object.entries(annotations).map(([k, v]) => [
          `__meta_kubernetes_pod_annotation_prometheus_io_${k}`,
          v,
        ]),
      ),
    },
  });
  await writeFile(
    join(dir, "targets.json"),
    JSON.stringify([
      pod("all-plugins-0", { scrape: "true", port: String(hostPort), path: "/metrics" }),
      pod("no-annotation-0", {}),
      pod("leadflow-migrate-x", { scrape: "true", port: String(hostPort) }, "Succeeded"),
    ]),
  );
  await writeFile(
    join(dir, "prometheus.yml"),
    JSON.stringify(withFileDiscovery(config, join(dir, "targets.json"), "1s")),
  );
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const child = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: "ignore" },
  );
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  await waitFor(() => fetch(`${api}/-/ready`).then((r) => r.ok), { what: "Prometheus ready" }).catch(
    async (e) => {
      await stop();
      throw e;
    },
  );
  const query = async (expr: string) => {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
    return (await res.json()) as { status: string; error?: string; data: { result: Array<Doc> } };
  };
  return { api, query, stop };
};

describe("every metric the dashboard and the rules name is exported", () => {
  let db: TestDatabase;
  let nats: TestNats;
  let host: TestHost;
  let exposition: string;
  let prom: Awaited<ReturnType<typeof startPrometheus>> | undefined;
  let outbox: string;

  beforeAll(async () => {
    [db, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
    // the notifier makes its file outbox's folder at start: not ./.data/outbox in the checkout
    outbox = await mkdtemp(join(tmpdir(), "leadflow-deploy-outbox-"));
    process.env.NOTIFIER_OUTBOX_DIR = outbox;
    host = await startTestHost(
      Object.values(Services).map((s) => s.plugin),
      { databaseUrl: db.url, natsUrl: nats.url, port: 0, name: "deploy-files" },
    );
    exposition = await (await fetch(`http://127.0.0.1:${host.port}/metrics`)).text();
    if (prometheus) prom = await startPrometheus(host.port!);
  });

  afterAll(async () => {
    await prom?.stop();
    await host?.stop();
    delete process.env.NOTIFIER_OUTBOX_DIR;
    await Promise.all([db?.drop(), nats?.stop(), rm(outbox, { recursive: true, force: true })]);
  });

  it("every name in the dashboard and the rules is a metric some service exports", async () => {
    const families = exportedFamilies(exposition);
    // the runtime's own families are there, so the comparison is against a real exposition
    for (const name of ["leadflow_messages_handled_total", "leadflow_handler_duration_seconds"]) {
      expect(families.has(name), `${name} in /metrics`).toBe(true);
    }
    const dashboard = JSON.parse(await readFile(dashboardPath, "utf8"));
    const expressions = [
      ...dashboardExpressions(dashboard),
      ...(await ruleExpressions()),
      ...(await kedaExpressions()),
    ];
    expect(expressions.length).toBeGreaterThan(20);
    const unknown: Array<string> = [];
    for (const { where, expr } of expressions) {
      const names = metricNamesIn(expr);
      expect(names.length, `${where} selects a metric: ${expr}`).toBeGreaterThan(0);
      for (const name of names) {
        if (!familyOf(name, families)) unknown.push(`${name} (${where})`);
      }
    }
    expect(unknown, `not exported by any service:\n${unknown.join("\n")}`).toEqual([]);
  });

  describe.skipIf(!prometheus)("a real Prometheus with the Kubernetes config", () => {
    it("scrapes only the annotated running pod, on its annotated port, with namespace and pod labels", async () => {
      const active = await waitFor(
        async () => {
          const body = (await (await fetch(`${prom!.api}/api/v1/targets`)).json()) as Doc;
          const targets = body.data.activeTargets as Array<Doc>;
          return targets.length > 0 && targets.every((t) => t.health !== "unknown") && targets;
        },
        { what: "every target scraped once", timeoutMs: 20_000 },
      );
      expect(active.map((t: Doc) => [t.labels.pod, t.labels.namespace, t.scrapeUrl, t.health])).toEqual([
        ["all-plugins-0", "leadflow", `http://127.0.0.1:${host.port}/metrics`, "up"],
      ]);
      const up = await waitFor(async () => {
        const r = await prom!.query('leadflow_process_resident_memory_bytes{pod="all-plugins-0"}');
        return r.data.result.length > 0 && r;
      });
      expect(up.data.result[0].metric.service).toBe("deploy-files");
    });

    it("every dashboard, rule and KEDA expression parses and evaluates", async () => {
      const dashboard = JSON.parse(await readFile(dashboardPath, "utf8"));
      const expressions = [
        ...dashboardExpressions(dashboard).filter((e) => !e.expr.startsWith("label_values(")),
        ...(await ruleExpressions()),
        ...(await kedaExpressions()),
      ];
      const failures: Array<string> = [];
      for (const { where, expr } of expressions) {
        const r = await prom!.query(forPrometheus(expr));
        if (r.status !== "success") failures.push(`${where}: ${r.error}`);
      }
      expect(failures).toEqual([]);
    });

    it("the funnel panel shows all 11 statuses and the KEDA queries find their consumers", async () => {
      const dashboard = JSON.parse(await readFile(dashboardPath, "utf8"));
      const funnel = dashboardExpressions(dashboard).find((e) => e.where.includes("Companies by status"))!;
      const statuses = await waitFor(
        async () => {
          const r = await prom!.query(forPrometheus(funnel.expr));
          return r.data.result.length > 0 && r.data.result.map((x) => x.metric.status as string).sort();
        },
        { what: "the monitor's company gauges in Prometheus", timeoutMs: 30_000 },
      );
      expect(statuses).toEqual(CompanyStatuses.slice().sort());
      for (const { where, expr } of await kedaExpressions()) {
        const r = await waitFor(
          async () => {
            const res = await prom!.query(expr);
            return res.data.result.length > 0 && res;
          },
          { what: `${where}: a lag series`, timeoutMs: 30_000 },
        );
        expect(r.data.result).toHaveLength(1);
      }
    });

    it("loads every rule and evaluates them without errors", async () => {
      const count = (await ruleExpressions()).length;
      const rules = await waitFor(
        async () => {
          const body = (await (await fetch(`${prom!.api}/api/v1/rules`)).json()) as Doc;
          const all = (body.data.groups as Array<Doc>).flatMap((g) => g.rules as Array<Doc>);
          return all.length === count && all.every((r) => r.health !== "unknown") && all;
        },
        { what: "every rule evaluated", timeoutMs: 20_000 },
      );
      expect(
        rules.filter((r: Doc) => r.health !== "ok").map((r: Doc) => `${r.name}: ${r.lastError}`),
      ).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe("Grafana dashboard and provisioning", () => {
  it("is a provisionable dashboard: datasource variable, ids, grid positions, expressions", async () => {
    const dashboard = JSON.parse(await readFile(dashboardPath, "utf8"));
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    const ds = dashboard.templating.list.find((v: Doc) => v.name === "datasource");
    expect(ds).toMatchObject({ type: "datasource", query: "prometheus" });
    // no datasource uid is hard-coded anywhere: everything goes through the variable
    const uids = [...JSON.stringify(dashboard).matchAll(/"uid":\s*"([^"]*)"/g)].map((m) => m[1]);
    expect(
      uids.filter((u) => u !== viaDatasourceVariable.uid && u !== "-- Grafana --" && u !== dashboard.uid),
    ).toEqual([]);

    const ids = new Set<number>();
    const cells = new Set<string>();
    const panels = dashboard.panels as Array<Doc>;
    expect(panels.filter((p) => p.type !== "row").length).toBeGreaterThanOrEqual(12);
    for (const p of panels) {
      expect(Number.isInteger(p.id), `panel "${p.title}" id`).toBe(true);
      expect(ids.has(p.id), `panel id ${p.id} unique`).toBe(false);
      ids.add(p.id);
      const { x, y, w, h } = p.gridPos ?? {};
      expect(
        [x, y, w, h].every(Number.isInteger) && w > 0 && h > 0 && x >= 0 && x + w <= 24,
        `"${p.title}" gridPos`,
      ).toBe(true);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `"${p.title}" overlaps another panel at ${i},${j}`).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
      if (p.type === "row") {
        expect(p.targets ?? []).toEqual([]);
        continue;
      }
      expect(p.datasource, `"${p.title}" datasource`).toEqual(viaDatasourceVariable);
      expect(p.targets.length, `"${p.title}" has queries`).toBeGreaterThan(0);
      const refIds = p.targets.map((t: Doc) => t.refId);
      expect(new Set(refIds).size, `"${p.title}" refIds unique`).toBe(refIds.length);
      for (const t of p.targets) {
        expect(typeof t.expr === "string" && t.expr.trim() !== "", `"${p.title}" ${t.refId} expr`).toBe(true);
        expect(t.datasource, `"${p.title}" ${t.refId} datasource`).toEqual(viaDatasourceVariable);
      }
    }
    // the panels the issue asks for
    const titles = panels.map((p) => p.title.toLowerCase()).join("\n");
    for (const word of [
      "status",
      "value",
      "revenue",
      "approvals pending",
      "stuck",
      "throughput",
      "latency",
      "lag",
    ]) {
      expect(titles).toContain(word);
    }
    for (const word of ["provider", "rate-limit", "dead", "outbox", "heartbeat", "memory"]) {
      expect(titles).toContain(word);
    }
  });

  it("provisioning points at the dashboards folder the compose file mounts", async () => {
    const providers = await readYaml(join(deploy, "grafana/provisioning/dashboards/leadflow.yml"));
    const datasources = await readYaml(join(deploy, "grafana/provisioning/datasources/prometheus.yml"));
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ type: "prometheus", access: "proxy" }),
    ]);
    const compose = await readYaml(join(deploy, "compose/docker-compose.yml"));
    const mounts = compose.services.grafana.volumes as Array<string>;
    const path = providers.providers[0].options.path;
    expect(mounts).toContain(`../grafana/dashboards:${path}:ro`);
    expect(mounts).toContain("../grafana/provisioning:/etc/grafana/provisioning:ro");
    expect(compose.services.grafana.environment.PROMETHEUS_URL).toBe("http://prometheus:9090");
  });
});

// ---------------------------------------------------------------------------------------------
// Kubernetes

const k8sDir = join(deploy, "k8s");

/** CPU in millicores, memory in bytes. */
const quantity = (q: string | number): number => {
  const m = /^([0-9.]+)(m|Ki|Mi|Gi)?$/.exec(String(q));
  if (!m) throw new Error(`not a quantity: ${q}`);
  const n = Number(m[1]);
  return { m: n, Ki: n * 2 ** 10, Mi: n * 2 ** 20, Gi: n * 2 ** 30, "": n * 1000 }[m[2] ?? ""]!;
};

const kustomizedDocs = async (): Promise<Array<Doc>> => {
  const kustomization = await readYaml(join(k8sDir, "kustomization.yaml"));
  const docs: Array<Doc> = [];
  for (const file of kustomization.resources as Array<string>)
    docs.push(...(await readYamlAll(join(k8sDir, file))));
  return docs;
};

describe("Kubernetes manifests", () => {
  it("the kustomization lists every manifest but the examples", async () => {
    const kustomization = await readYaml(join(k8sDir, "kustomization.yaml"));
    const top = (await readdir(k8sDir)).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
    const services = (await readdir(join(k8sDir, "services"))).map((f) => `services/${f}`);
    const expected = [...top.filter((f) => !f.includes("example")), ...services].sort();
    expect([...kustomization.resources].sort()).toEqual(expected);
    expect(kustomization.namespace).toBe("leadflow");
  });

  it("one Deployment and Service per service: command, PORT, probes, resources, security, scraping", async () => {
    const docs = await kustomizedDocs();
    const deployments = docs.filter((d) => d.kind === "Deployment");
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(Object.keys(Services).sort());
    const configMaps = new Set(docs.filter((d) => d.kind === "ConfigMap").map((d) => d.metadata.name));
    const secretExample = await readYaml(join(k8sDir, "secret.example.yaml"));

    for (const d of deployments) {
      const name = d.metadata.name as string;
      const spec = d.spec.template.spec;
      const where = (what: string) => `${name}: ${what}`;
      expect(spec.containers, where("one container")).toHaveLength(1);
      const c = spec.containers[0];
      expect(c.args, where("args")).toEqual(["service", name]);
      const port = c.ports[0].containerPort;
      const env = Object.fromEntries((c.env as Array<Doc>).map((e) => [e.name, e.value]));
      expect(Number(env.PORT), where("PORT = containerPort")).toBe(port);
      expect(port, where("the service's default port (DESIGN section 9)")).toBe(Services[name]!.port);
      const portOf = (p: string | number) =>
        typeof p === "number" ? p : c.ports.find((x: Doc) => x.name === p)?.containerPort;
      expect(c.readinessProbe.httpGet.path, where("readiness")).toBe("/readyz");
      expect(portOf(c.readinessProbe.httpGet.port), where("readiness port")).toBe(port);
      expect(c.livenessProbe.httpGet.path, where("liveness")).toBe("/healthz");
      expect(portOf(c.livenessProbe.httpGet.port), where("liveness port")).toBe(port);

      for (const r of ["cpu", "memory"]) {
        const request = quantity(c.resources.requests[r]);
        const limit = quantity(c.resources.limits[r]);
        expect(request > 0 && limit >= request, where(`${r} request ≤ limit`)).toBe(true);
      }
      // V8's heap limit leaves room under the memory limit
      const heap = /--max-old-space-size=(\d+)/.exec(env.NODE_OPTIONS ?? "");
      expect(
        heap && Number(heap[1]) * 2 ** 20 < quantity(c.resources.limits.memory) * 0.8,
        where("heap < limit"),
      ).toBe(true);

      expect(spec.securityContext.runAsNonRoot, where("runAsNonRoot")).toBe(true);
      expect(spec.securityContext.runAsUser, where("a numeric non-root user")).toBeGreaterThan(0);
      expect(c.securityContext, where("container securityContext")).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
      // tsx's cache and LEADFLOW_DATA_DIR need a writable /tmp on a read-only root
      const tmp = c.volumeMounts.find((m: Doc) => m.mountPath === "/tmp");
      expect(
        spec.volumes.find((v: Doc) => v.name === tmp?.name)?.emptyDir,
        where("/tmp is an emptyDir"),
      ).toBeDefined();
      expect(spec.terminationGracePeriodSeconds, where("grace > the 25 s shutdown deadline")).toBeGreaterThan(
        25,
      );

      const annotations = d.spec.template.metadata.annotations;
      expect(annotations["prometheus.io/scrape"], where("scrape")).toBe("true");
      expect(Number(annotations["prometheus.io/port"]), where("scrape port")).toBe(port);
      expect(annotations["prometheus.io/path"], where("scrape path")).toBe("/metrics");

      for (const from of c.envFrom as Array<Doc>) {
        if (from.configMapRef)
          expect(configMaps.has(from.configMapRef.name), where("ConfigMap exists")).toBe(true);
        if (from.secretRef) expect(from.secretRef.name, where("Secret")).toBe(secretExample.metadata.name);
      }

      const selected = docs.filter(
        (s) =>
          s.kind === "Service" &&
          Object.entries(s.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v),
      );
      expect(selected, where("one Service selects it")).toHaveLength(1);
      expect(selected[0].spec.type ?? "ClusterIP", where("internal Service")).toBe("ClusterIP");
      expect(
        selected[0].spec.ports.map((p: Doc) => portOf(p.targetPort)),
        where("targetPort"),
      ).toEqual([port]);
      expect(
        Object.entries(d.spec.selector.matchLabels).every(
          ([k, v]) => d.spec.template.metadata.labels[k] === v,
        ),
      ).toBe(true);
    }
  });

  it("a PodDisruptionBudget per Deployment, selecting its pods only, that never blocks a drain", async () => {
    const docs = await kustomizedDocs();
    const deployments = docs.filter((d) => d.kind === "Deployment");
    const budgets = docs.filter((d) => d.kind === "PodDisruptionBudget");
    expect(budgets.map((b) => b.metadata.name).sort()).toEqual(
      deployments.map((d) => d.metadata.name).sort(),
    );
    for (const b of budgets) {
      const name = b.metadata.name as string;
      expect(b.apiVersion, name).toBe("policy/v1");
      // one pod may always go: a Deployment of one replica can be drained
      expect(b.spec.maxUnavailable, name).toBe(1);
      expect(b.spec.minAvailable, `${name}: no minAvailable`).toBeUndefined();
      const selects = (d: Doc) =>
        Object.entries(b.spec.selector.matchLabels).every(
          ([k, v]) => d.spec.template.metadata.labels[k] === v,
        );
      expect(
        deployments.filter(selects).map((d) => d.metadata.name),
        `${name} selects its own pods only`,
      ).toEqual([name]);
    }
  });

  it("a migration Job, an Ingress to the notifier's public routes only, a placeholder-only Secret", async () => {
    const docs = await kustomizedDocs();
    const job = docs.find((d) => d.kind === "Job");
    expect(job.spec.template.spec.containers[0].args).toEqual(["migrate"]);
    expect(job.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem).toBe(true);

    const ingresses = docs.filter((d) => d.kind === "Ingress");
    const paths = ingresses.flatMap((i) => i.spec.rules.flatMap((r: Doc) => r.http.paths));
    // /unsubscribe joins when outreach serves it: routed before, it would only answer 404
    expect(paths.map((p: Doc) => p.path).sort()).toEqual(["/approvals"]);
    for (const p of paths) {
      expect(p.backend.service).toEqual({ name: "notifier", port: { number: Services.notifier!.port } });
    }

    const secret = await readYaml(join(k8sDir, "secret.example.yaml"));
    expect(Object.keys(secret.stringData)).toEqual(expect.arrayContaining(["DATABASE_URL", "LINK_SECRET"]));
    for (const [key, value] of Object.entries(secret.stringData)) {
      expect(String(value), `${key} is a placeholder`).toContain("CHANGE_ME");
    }
    expect(
      docs.some((d) => d.kind === "Secret"),
      "no Secret is applied by the kustomization",
    ).toBe(false);
  });

  it("network policies: nothing reaches a pod but the notifier's port from the ingress and each service's port from monitoring", async () => {
    const docs = await kustomizedDocs();
    const policies = docs.filter((d) => d.kind === "NetworkPolicy");
    const deny = policies.find((p) => Object.keys(p.spec.podSelector).length === 0);
    expect(deny?.spec.policyTypes).toEqual(["Ingress"]);
    expect(deny?.spec.ingress ?? []).toEqual([]);
    const allowed = policies.flatMap((p) =>
      (p.spec.ingress ?? []).flatMap((rule: Doc) =>
        (rule.ports as Array<Doc>).map((port) => ({
          pods: p.spec.podSelector.matchLabels ?? {},
          from: rule.from,
          port: port.port as number,
        })),
      ),
    );
    // the public edge: only the notifier's port, only from the labelled ingress namespace
    const fromIngress = allowed.filter((a) =>
      a.from.some((f: Doc) => f.namespaceSelector?.matchLabels?.["leadflow.io/ingress"] === "true"),
    );
    expect(fromIngress).toEqual([
      {
        pods: { "app.kubernetes.io/name": "notifier" },
        from: expect.any(Array),
        port: Services.notifier!.port,
      },
    ]);
    // monitoring reaches every service's HTTP port (metrics, probes), on pods every Deployment labels
    const fromMonitoring = allowed.filter((a) =>
      a.from.some((f: Doc) => f.namespaceSelector?.matchLabels?.["leadflow.io/monitoring"] === "true"),
    );
    expect(fromMonitoring.map((a) => a.port).sort()).toEqual(
      Object.values(Services)
        .map((s) => s.port)
        .sort(),
    );
    const partOf = fromMonitoring[0]!.pods["app.kubernetes.io/part-of"];
    for (const d of docs.filter((x) => x.kind === "Deployment")) {
      expect(d.spec.template.metadata.labels["app.kubernetes.io/part-of"]).toBe(partOf);
    }
    // inside the namespace, only the monitor's API
    const inside = allowed.filter((a) => a.from.some((f: Doc) => f.podSelector !== undefined));
    expect(inside).toEqual([
      {
        pods: { "app.kubernetes.io/name": "monitor" },
        from: expect.any(Array),
        port: Services.monitor!.port,
      },
    ]);
    // every port a rule opens is one a service listens on
    const ports = new Set(Object.values(Services).map((s) => s.port));
    for (const a of allowed) expect(ports.has(a.port), `port ${a.port}`).toBe(true);
  });

  it("the example NATS lets the services in: the namespace's deny-all would otherwise cut them off", async () => {
    const docs = await readYamlAll(join(k8sDir, "examples/nats.yaml"));
    const natsLabels = docs.find((d) => d.kind === "StatefulSet").spec.template.metadata.labels;
    const policy = docs.find((d) => d.kind === "NetworkPolicy");
    expect(
      Object.entries(policy.spec.podSelector.matchLabels).every(([k, v]) => natsLabels[k] === v),
      "the policy selects the NATS pods",
    ).toBe(true);
    const clientRule = policy.spec.ingress.find((r: Doc) => r.ports.some((p: Doc) => p.port === 4222));
    const from = clientRule.from[0].podSelector.matchLabels;
    // every Deployment's pods carry the labels the rule lets in
    const deployments = (await kustomizedDocs()).filter((d) => d.kind === "Deployment");
    expect(deployments.length).toBe(Object.keys(Services).length);
    for (const d of deployments) {
      const labels = d.spec.template.metadata.labels;
      expect(
        Object.entries(from).every(([k, v]) => labels[k] === v),
        `${d.metadata.name} reaches NATS`,
      ).toBe(true);
    }
  });

  it.skipIf(!kubectl)("kubectl kustomize builds it, with the image and namespace set", async () => {
    const { stdout } = await run("kubectl", ["kustomize", k8sDir], { maxBuffer: 16 * 2 ** 20 });
    const docs = yaml.loadAll(stdout) as Array<Doc>;
    const kinds = docs.map((d) => d.kind);
    expect(kinds.filter((k) => k === "Deployment")).toHaveLength(Object.keys(Services).length);
    const namespaced = docs.filter((d) => d.kind !== "Namespace");
    expect(namespaced.every((d) => d.metadata.namespace === "leadflow")).toBe(true);
    const kustomization = await readYaml(join(k8sDir, "kustomization.yaml"));
    const image = `${kustomization.images[0].newName}:${kustomization.images[0].newTag}`;
    for (const d of docs.filter((x) => x.kind === "Deployment" || x.kind === "Job")) {
      expect(d.spec.template.spec.containers[0].image).toBe(image);
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe("docker compose and the Dockerfile", () => {
  it("compose runs postgres, NATS JetStream, a migration, every service, Prometheus and Grafana", async () => {
    const compose = await readYaml(join(deploy, "compose/docker-compose.yml"));
    const s = compose.services;
    expect(s.postgres.image).toBe("postgres:15");
    expect(s.nats.image).toMatch(/^nats:2\.10/);
    expect(s.nats.command).toContain("-js");
    expect(s.migrate.command).toEqual(["migrate"]);
    expect(s.migrate.depends_on.postgres.condition).toBe("service_healthy");
    expect(resolve(deploy, "compose", s.migrate.build.context)).toBe(root);
    expect(existsSync(join(root, s.migrate.build.dockerfile))).toBe(true);

    const prometheusConfig = await readYaml(join(deploy, "prometheus/prometheus.compose.yml"));
    const targets = prometheusConfig.scrape_configs.flatMap((j: Doc) =>
      j.static_configs.flatMap((c: Doc) => c.targets),
    );
    for (const [name, { port }] of Object.entries(Services)) {
      const svc = s[name];
      expect(svc, `compose service ${name}`).toBeDefined();
      expect(svc.command).toEqual(["service", name]);
      expect(svc.image).toBe(s.migrate.image);
      expect(Number(svc.environment.PORT), `${name} PORT`).toBe(port);
      expect(svc.environment.DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      expect(svc.environment.NATS_URL).toBe("nats://nats:4222");
      expect(svc.depends_on.migrate.condition).toBe("service_completed_successfully");
      expect(svc.healthcheck.test.join(" ")).toContain("/readyz");
      expect(svc.read_only).toBe(true);
      expect(svc.tmpfs).toContain("/tmp");
      expect(Number.parseInt(svc.stop_grace_period, 10)).toBeGreaterThan(25);
      expect(targets, `Prometheus scrapes ${name}`).toContain(`${name}:${port}`);
    }
    expect(targets).toHaveLength(Object.keys(Services).length);
    // an unset provider key stays unset (an empty one would count as configured)
    expect(s.scout.environment.GOOGLE_PLACES_API_KEY).toBeNull();

    expect(s.prometheus.volumes).toContain("../prometheus:/etc/prometheus:ro");
    const configFlag = s.prometheus.command.find((a: string) => a.startsWith("--config.file="));
    expect(configFlag).toBe("--config.file=/etc/prometheus/prometheus.compose.yml");
    for (const v of [...s.prometheus.volumes, ...s.grafana.volumes] as Array<string>) {
      const source = v.split(":")[0]!;
      if (source.startsWith("."))
        expect(existsSync(resolve(deploy, "compose", source)), `${v} exists`).toBe(true);
    }
  });

  it("the Dockerfile installs every workspace without dev dependencies and runs leadflow as non-root", async () => {
    const dockerfile = await readFile(join(root, "Dockerfile"), "utf8");
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
    const workspaces: Array<string> = [];
    for (const pattern of pkg.workspaces as Array<string>) {
      if (!pattern.endsWith("/*")) workspaces.push(pattern);
      else {
        const parent = pattern.slice(0, -2);
        for (const d of await readdir(join(root, parent))) {
          if (existsSync(join(root, parent, d, "package.json"))) workspaces.push(`${parent}/${d}`);
        }
      }
    }
    expect(workspaces.length).toBeGreaterThan(5);
    for (const w of workspaces) {
      expect(dockerfile, `Dockerfile copies ${w}/package.json before npm ci`).toContain(
        `COPY ${w}/package.json ${w}/`,
      );
    }
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(froms.every((f) => f === "node:20-slim")).toBe(true);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)![1]!);
    expect(entrypoint).toEqual(["node", "/app/cli/bin/leadflow.js"]);
    expect(existsSync(join(root, "cli/bin/leadflow.js"))).toBe(true);
    // the bin runs TypeScript through tsx, so it must survive --omit=dev
    const cli = JSON.parse(await readFile(join(root, "cli/package.json"), "utf8"));
    expect(cli.dependencies.tsx).toBeDefined();
    // `npm ci --omit=dev` keeps only declared dependencies (and theirs): every package the
    // runtime sources import must be one (libs/testkit is for tests and never loaded)
    const runtimeWorkspaces = workspaces.filter((w) => w !== "libs/testkit");
    const declared = new Set<string>();
    for (const w of runtimeWorkspaces) {
      const manifest = JSON.parse(await readFile(join(root, w, "package.json"), "utf8"));
      for (const d of Object.keys(manifest.dependencies ?? {})) declared.add(d);
    }
    const undeclared: Array<string> = [];
    let packageImports = 0;
    for (const w of runtimeWorkspaces) {
      for (const sub of ["src", "bin"]) {
        const dir = join(root, w, sub);
        if (!existsSync(dir)) continue;
        for (const file of await readdir(dir, { recursive: true })) {
          if (!/\.(ts|js|mjs)$/.test(file)) continue;
          const text = await readFile(join(dir, file), "utf8");
          for (const m of text.matchAll(
            /^\s*(?:import|export)\b[^"']*?from\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm,
          )) {
            const spec = (m[1] ?? m[2])!;
            if (spec.startsWith(".") || spec.startsWith("node:")) continue;
            packageImports++;
            const name = spec
              .split("/")
              .slice(0, spec.startsWith("@") ? 2 : 1)
              .join("/");
            if (name.startsWith("@leadflow/") || builtinModules.includes(name) || declared.has(name))
              continue;
            undeclared.push(`${name} (${w}/${sub}/${file})`);
          }
        }
      }
    }
    expect(packageImports).toBeGreaterThan(100);
    expect(undeclared, "imported at run time but not a production dependency").toEqual([]);
    const ignore = await readFile(join(root, ".dockerignore"), "utf8");
    expect(ignore.split("\n")).toEqual(expect.arrayContaining(["**/node_modules", ".git", ".data"]));
  });
});
