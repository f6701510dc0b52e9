/**
 * Worker-thread entry of the scan pool: deserializes the compiled rules once (no recompilation), then
 * scans each file it is sent with the synchronous YARA-X call and posts the result back.
 */
import { parentPort, workerData } from "node:worker_threads";
import { FileScanner } from "./file-scanner.js";
import type { ScanTask, WorkerConfig, WorkerReply } from "./protocol.js";

const port = parentPort;
if (port) {
  let scanner: FileScanner | null = null;
  try {
    scanner = new FileScanner(workerData as WorkerConfig);
    port.postMessage({ kind: "ready" } satisfies WorkerReply);
  } catch (error) {
    port.postMessage({ kind: "init-error", message: (error as Error).message } satisfies WorkerReply);
  }
  port.on("message", (task: ScanTask) => {
    if (!scanner) return;
    let reply: WorkerReply;
    try {
      reply = { kind: "result", result: scanner.scan(task) };
    } catch (error) {
      // FileScanner turns I/O errors into results; anything reaching here is a bug, reported per file.
      reply = {
        kind: "result",
        result: {
          id: task.id,
          ok: false,
          path: task.path,
          error: `internal error: ${(error as Error).message}`,
        },
      };
    }
    port.postMessage(reply);
  });
}
