/**
 * A worker of the two-thread parse-only row (measure.ts `parseOnlyThreads`): splits and `JSON.parse`s the
 * lines of one byte range of the file, exactly as the one-thread baseline does, and posts the count.
 */
import { parentPort, workerData } from "node:worker_threads";
import { parseLines } from "./measure.js";

const { file, start, end } = workerData as { file: string; start: number; end: number };
// A failed read rejects unhandled, which ends the worker with an "error" event the row rejects on.
parseLines(file, start, end).then((events) => parentPort?.postMessage(events));
