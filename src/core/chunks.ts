/** Memory-bounded iteration over many model evaluations, with progress, abort and fair scheduling. */
import { throwIfAborted } from './errors';
import { assertInteger } from './validate';
import { DEFAULT_BATCH_SIZE } from './options';

/** Validated chunking settings. */
export interface ChunkPlan {
  total: number;
  batchSize: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Reads `options.batchSize` (default {@link DEFAULT_BATCH_SIZE}) and validates it. */
export function batchSizeOption(batchSize: number | undefined): number {
  const value = batchSize ?? DEFAULT_BATCH_SIZE;
  assertInteger(value, 'options.batchSize', 1);
  return value;
}

/**
 * Calls `step(start, count)` for consecutive chunks of at most `batchSize` of `total` items. Between
 * chunks it reports progress, yields to the event loop (so an abort or the UI can run) and checks the
 * abort signal.
 */
export async function forEachChunk(plan: ChunkPlan, step: (start: number, count: number) => void | Promise<void>): Promise<void> {
  throwIfAborted(plan.signal);
  for (let start = 0; start < plan.total; start += plan.batchSize) {
    const count = Math.min(plan.batchSize, plan.total - start);
    await step(start, count);
    plan.onProgress?.(start + count, plan.total);
    await yieldToEventLoop();
    throwIfAborted(plan.signal);
  }
}

/** Lets pending timers and events (e.g. an abort) run. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
