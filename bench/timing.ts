/** Timing helpers shared by the benchmark scripts: warm-up, then the median of repeated runs. */
import * as tf from '@tensorflow/tfjs-core';

/** Median wall time in ms of `repeats` runs of `fn` after one warm-up run; results are disposed. */
export async function medianMs(fn: () => Promise<tf.Tensor | tf.Tensor[]>, repeats = 3): Promise<number> {
  const run = async () => {
    const started = performance.now();
    const result = await fn();
    const tensors = Array.isArray(result) ? result : [result];
    await Promise.all(tensors.map((t) => t.data()));
    const elapsed = performance.now() - started;
    tensors.forEach((t) => t.dispose());
    return elapsed;
  };
  await run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(await run());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Formats a ratio and its two times. */
export function ratio(label: string, numeratorMs: number, denominatorMs: number): string {
  return `${label.padEnd(58)} ${(numeratorMs / denominatorMs).toFixed(2).padStart(6)}   (${numeratorMs.toFixed(0)} ms / ${denominatorMs.toFixed(0)} ms)`;
}
