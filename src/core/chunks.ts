/** The one chunk loop under every method: memory-bounded iteration over many model evaluations, with progress and abort. */
import { throwIfAborted } from './errors';
import { MemoryProbe, rowsWithinBudget } from './memory-budget';
import type { BatchSize } from './options';

/** Chunking settings of one loop. */
export interface ChunkPlan {
  /** Number of rows (model evaluations) in all. */
  total: number;
  /** Rows per chunk, or `'auto'`: a first chunk of one row is measured and the rest sized to the backend's budget. */
  batchSize: BatchSize;
  /** Called after every chunk with the rows done and `total`. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /**
   * Rows that must stay in one chunk (default 1): every chunk holds a multiple of it, e.g. 2 for methods
   * that evaluate an input and its baseline side by side. `total` must be a multiple of it.
   */
  granularity?: number;
}

/** One chunk: rows `[start, start + count)`, and the probe its evaluation reports its memory peak to. */
export interface Chunk {
  readonly start: number;
  readonly count: number;
  readonly memory: MemoryProbe;
}

/**
 * Calls `step` for consecutive chunks covering rows `[0, total)`. Between chunks it reports progress,
 * yields to the event loop (so an abort, a timer or the UI can run) and checks the abort signal, also
 * after the last chunk: an aborted call never resolves.
 */
export async function forEachChunk(plan: ChunkPlan, step: (chunk: Chunk) => void | Promise<void>): Promise<void> {
  throwIfAborted(plan.signal);
  const unit = plan.granularity ?? 1;
  const units = (rows: number) => Math.max(unit, Math.floor(rows / unit) * unit);
  let size = plan.batchSize === 'auto' ? unit : units(plan.batchSize);
  let measured = plan.batchSize !== 'auto';
  for (let start = 0; start < plan.total; ) {
    const count = Math.min(size, plan.total - start);
    const chunk: Chunk = { start, count, memory: new MemoryProbe() };
    await step(chunk);
    if (!measured) {
      size = units(rowsWithinBudget(chunk.memory.peakBytes, count));
      measured = true;
    }
    start += count;
    plan.onProgress?.(start, plan.total);
    await yieldToEventLoop();
    throwIfAborted(plan.signal);
  }
}

/**
 * Lets pending timers and events (e.g. an abort) run: resumes in a new macrotask, queued with
 * `setImmediate` (Node) or a `MessageChannel` message (browsers) rather than `setTimeout(0)`, which waits
 * at least 1 ms in Node and 4 ms in browsers once nested, a cost per chunk that is larger than the model
 * itself for small models.
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel === 'function') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
