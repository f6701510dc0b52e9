/**
 * A fixed pool of worker threads that scan files. Each worker keeps up to `depth` tasks queued so it never
 * waits for the main thread between files; `submit` resolves when a slot is free, so the walk never runs
 * unboundedly ahead of the scanning. Results arrive in completion order; the coordinator reorders them.
 */
import { Worker } from "node:worker_threads";
import type { FileResult, ScanTask, WorkerConfig, WorkerReply } from "./protocol.js";

interface Slot {
  readonly worker: Worker;
  inFlight: number;
}

export class ScanPool {
  private readonly slots: Slot[] = [];
  private readonly waiters: (() => void)[] = [];
  private failure: Error | null = null;
  private readonly ready: Promise<void>;

  constructor(
    threads: number,
    config: WorkerConfig,
    private readonly onResult: (result: FileResult) => void,
    private readonly depth = 4,
  ) {
    const url = new URL("./worker.js", import.meta.url);
    const readies: Promise<void>[] = [];
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(url, { workerData: config });
      const slot: Slot = { worker, inFlight: 0 };
      this.slots.push(slot);
      readies.push(
        new Promise<void>((resolve, reject) => {
          worker.on("message", (reply: WorkerReply) => {
            switch (reply.kind) {
              case "ready":
                resolve();
                break;
              case "init-error":
                reject(new Error(reply.message));
                break;
              case "result":
                slot.inFlight--;
                this.onResult(reply.result);
                this.wakeOne();
                break;
              default: {
                const unreachable: never = reply;
                throw new Error(`unknown worker reply ${String(unreachable)}`);
              }
            }
          });
          worker.on("error", (error) => {
            this.failure ??= error;
            reject(error);
            this.wakeAll();
          });
          worker.on("exit", (code) => {
            if (code !== 0 && !this.closing) {
              this.failure ??= new Error(`scan worker exited with code ${code}`);
              this.wakeAll();
            }
          });
        }),
      );
    }
    this.ready = Promise.all(readies).then(() => undefined);
    // Avoid an unhandled rejection before start() is awaited.
    this.ready.catch(() => {});
  }

  private closing = false;

  /** Resolves when every worker has loaded its rules; rejects with the first worker's error. */
  start(): Promise<void> {
    return this.ready;
  }

  private wakeOne(): void {
    this.waiters.shift()?.();
  }
  private wakeAll(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Hand a task to the least busy worker, waiting for a free slot first. */
  async submit(task: ScanTask): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      let best: Slot | undefined;
      for (const s of this.slots)
        if (s.inFlight < this.depth && (!best || s.inFlight < best.inFlight)) best = s;
      if (best) {
        best.inFlight++;
        best.worker.postMessage(task);
        return;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Wait until every submitted task has reported. */
  async drain(): Promise<void> {
    while (this.slots.some((s) => s.inFlight > 0)) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
