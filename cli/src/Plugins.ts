import { AnalystPlugin } from "@leadflow/analyst";
import { EnrichmentPlugin } from "@leadflow/enrichment";
import { MonitorPlugin } from "@leadflow/monitor";
import { NotifierPlugin } from "@leadflow/notifier";
import { OrchestratorPlugin } from "@leadflow/orchestrator";
import type { AnyPlugin } from "@leadflow/runtime";
import { ScoutPlugin } from "@leadflow/scout";
import { WriterPlugin } from "@leadflow/writer";

/** Every service the CLI can run, with its default HTTP port (`PORT` overrides it). */
export const Services: Record<string, { readonly plugin: AnyPlugin; readonly port: number }> = {
  orchestrator: { plugin: OrchestratorPlugin, port: 8010 },
  scout: { plugin: ScoutPlugin, port: 8011 },
  analyst: { plugin: AnalystPlugin, port: 8012 },
  enrichment: { plugin: EnrichmentPlugin, port: 8013 },
  writer: { plugin: WriterPlugin, port: 8014 },
  monitor: { plugin: MonitorPlugin, port: 8001 },
  notifier: { plugin: NotifierPlugin, port: 8002 },
};

export const serviceNames = Object.keys(Services);
