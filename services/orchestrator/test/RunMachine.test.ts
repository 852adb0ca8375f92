import { describe, expect, it } from "vitest";
import { decide, type MachineConfig, type RunInput, type RunView } from "../src/RunMachine.js";

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

  describe("human decisions at the gate", () => {
    const full: MachineConfig = { pipeline: ["scout", "analyst", "enrichment", "writer"], maxAttempts: 3 };
    const decided = (over: Partial<Extract<RunInput, { _tag: "ApprovalDecided" }>> = {}) =>
      ({
        _tag: "ApprovalDecided",
        approvalId: "a1",
        approvalType: "leads",
        decision: "approved",
        decidedBy: "ops@example.com",
        toDraft: [],
        dispatched: false,
        otherPending: 0,
        ...over,
      }) as const;

    it("approved leads send the run back to writing for the companies with no draft", () => {
      const d = decide(run("awaiting_approval"), decided({ toDraft: ["c1", "c2"], otherPending: 1 }), full);
      expect(d.run).toMatchObject({ status: "writing", stage: "writer" });
      expect(d.commands).toEqual([
        { _tag: "DispatchStage", stage: "writer", companyIds: ["c1", "c2"], approvalId: "a1" },
        { _tag: "Announce" },
      ]);
      // and when the writer is done: the emails approval and the gate again
      const w = decide(d.run, { _tag: "TaskCompleted", stage: "writer", openChunks: 0, produced: 2 }, full);
      expect(w.run).toMatchObject({ status: "awaiting_approval", stage: null });
      expect(w.commands).toEqual([{ _tag: "RequestEmailApproval" }, { _tag: "Announce" }]);
    });

    it("adds chunks to a writer stage under way, and leaves a run before the writer alone", () => {
      const writing = decide(run("writing", "writer"), decided({ toDraft: ["c1"] }), full);
      expect(writing.run).toMatchObject({ status: "writing", stage: "writer" });
      expect(writing.commands).toEqual([
        { _tag: "DispatchStage", stage: "writer", companyIds: ["c1"], approvalId: "a1" },
      ]);
      const enriching = decide(run("enriching", "enrichment"), decided({ toDraft: ["c1"] }), full);
      expect(enriching).toEqual({ run: run("enriching", "enrichment"), commands: [] });
    });

    it("approved leads with nothing left to draft: a note, and the run stays at the gate while a request is pending", () => {
      const d = decide(run("awaiting_approval"), decided({ toDraft: [], otherPending: 1 }), full);
      expect(d.run.status).toBe("awaiting_approval");
      expect(d.commands).toEqual([
        {
          _tag: "Note",
          message: "leads approved by ops@example.com: nothing to draft (every approved company has a draft)",
        },
      ]);
    });

    it("the same decision again dispatches nothing", () => {
      const d = decide(run("awaiting_approval"), decided({ toDraft: [], dispatched: true }), full);
      expect(d).toEqual({ run: run("awaiting_approval"), commands: [] });
    });

    it("rejected leads: a note, no drafts; the run waits for the emails request still pending", () => {
      const d = decide(run("awaiting_approval"), decided({ decision: "rejected", otherPending: 1 }), full);
      expect(d.run.status).toBe("awaiting_approval");
      expect(d.commands).toEqual([
        { _tag: "Note", message: "leads rejected by ops@example.com: nothing drafted" },
      ]);
      // nothing else pending: nothing can happen to the run any more, so it is complete
      const last = decide(run("awaiting_approval"), decided({ decision: "rejected" }), full);
      expect(last.run.status).toBe("completed");
      expect(last.commands.at(-1)).toEqual({ _tag: "Announce" });
    });

    it("an emails decision completes the run when no other request is pending", () => {
      for (const decision of ["approved", "rejected"] as const) {
        const done = decide(run("awaiting_approval"), decided({ approvalType: "emails", decision }), full);
        expect(done.run).toMatchObject({ status: "completed", stage: null });
        expect(done.commands).toEqual([{ _tag: "Announce" }]);
      }
      const waiting = decide(
        run("awaiting_approval"),
        decided({ approvalType: "emails", otherPending: 1 }),
        full,
      );
      expect(waiting).toEqual({ run: run("awaiting_approval"), commands: [] });
      // a second writer pass under way: its emails request is still to come
      const writing = decide(run("writing", "writer"), decided({ approvalType: "emails" }), full);
      expect(writing.commands).toEqual([]);
      // a completed run ignores a late or repeated decision
      expect(decide(run("completed"), decided({ approvalType: "emails" }), full).commands).toEqual([]);
    });
  });
});
