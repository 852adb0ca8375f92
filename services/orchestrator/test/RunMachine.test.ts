import { describe, expect, it } from "vitest";
import { decide, type MachineConfig, type RunView } from "../src/RunMachine.js";

const config: MachineConfig = { pipeline: ["scout", "analyst"], maxAttempts: 3 };
const run = (status: RunView["status"], stage: RunView["stage"] = null): RunView => ({
  id: "r1",
  status,
  stage,
});

describe("run state machine", () => {
  it("starts with the first stage of the pipeline", () => {
    const d = decide(run("requested"), { _tag: "Start" }, config);
    expect(d.run).toMatchObject({ status: "scouting", stage: "scout" });
    expect(d.commands).toEqual([{ _tag: "DispatchStage", stage: "scout" }, { _tag: "Announce" }]);
  });

  it("waits for every chunk before moving on", () => {
    const d = decide(
      run("analyzing", "analyst"),
      { _tag: "TaskCompleted", stage: "analyst", openChunks: 2, produced: 250 },
      config,
    );
    expect(d.commands).toEqual([]);
    expect(d.run.status).toBe("analyzing");
  });

  it("moves scout → analyst → the lead-approval gate", () => {
    const a = decide(
      run("scouting", "scout"),
      { _tag: "TaskCompleted", stage: "scout", openChunks: 0, produced: 50 },
      config,
    );
    expect(a.run).toMatchObject({ status: "analyzing", stage: "analyst" });
    expect(a.commands[0]).toEqual({ _tag: "DispatchStage", stage: "analyst" });
    const b = decide(a.run, { _tag: "TaskCompleted", stage: "analyst", openChunks: 0, produced: 50 }, config);
    expect(b.run).toMatchObject({ status: "awaiting_approval", stage: null });
    expect(b.commands).toContainEqual({ _tag: "RequestLeadApproval" });
  });

  it("goes through enrichment and writer when the pipeline has them", () => {
    const full: MachineConfig = { pipeline: ["scout", "analyst", "enrichment", "writer"], maxAttempts: 3 };
    const d = decide(
      run("analyzing", "analyst"),
      { _tag: "TaskCompleted", stage: "analyst", openChunks: 0, produced: 5 },
      full,
    );
    expect(d.run).toMatchObject({ status: "enriching", stage: "enrichment" });
  });

  it("completes a run that found nothing, with a note", () => {
    const d = decide(
      run("scouting", "scout"),
      { _tag: "TaskCompleted", stage: "scout", openChunks: 0, produced: 0 },
      config,
    );
    expect(d.run.status).toBe("completed");
    expect(d.commands[0]).toMatchObject({ _tag: "Note" });
  });

  it("retries a failed task with attempt + 1 and the schedule's delay, then fails the run", () => {
    const failed = (attempt: number) =>
      decide(
        run("analyzing", "analyst"),
        { _tag: "TaskFailed", stage: "analyst", chunk: 3, attempt, error: "boom", retryDelayMs: 1234 },
        config,
      );
    expect(failed(1).commands).toEqual([
      { _tag: "RetryTask", stage: "analyst", chunk: 3, attempt: 2, delayMs: 1234 },
    ]);
    expect(failed(2).commands[0]).toMatchObject({ attempt: 3 });
    const last = failed(3);
    expect(last.run).toMatchObject({
      status: "failed",
      error: { stage: "analyst", message: "boom (after 3 attempts)" },
    });
    expect(last.commands).toEqual([{ _tag: "Announce" }]);
  });

  it("ignores events for a stage the run has left, and anything after the end", () => {
    expect(
      decide(
        run("analyzing", "analyst"),
        { _tag: "TaskCompleted", stage: "scout", openChunks: 0, produced: 9 },
        config,
      ).commands,
    ).toEqual([]);
    expect(decide(run("failed"), { _tag: "Start" }, config).commands).toEqual([]);
    expect(decide(run("scouting", "scout"), { _tag: "Start" }, config).commands).toEqual([]);
    expect(
      decide(
        run("awaiting_approval"),
        { _tag: "TaskFailed", stage: "scout", chunk: 0, attempt: 1, error: "x", retryDelayMs: 0 },
        config,
      ).commands,
    ).toEqual([]);
  });
});
