/**
 * Timing helpers shared by the benchmark scripts: warm-up, then the medians of repeated runs. In Node,
 * {@link interleavedMedians} (wall and CPU time, round-robin); in the browser (no CPU clock),
 * {@link medianMs}.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Median wall time and median process CPU time (user + system) of one benchmark, in ms, and the least CPU time. */
export interface Timing {
  wallMs: number;
  cpuMs: number;
  /**
   * The least CPU time of the rounds: interference (other processes' cache and memory traffic, the
   * garbage collector's threads) only adds time, so on a shared machine the minimum is the steadier
   * estimate of a benchmark's own cost.
   */
  cpuMinMs: number;
}

/**
 * Times several benchmarks round-robin (one warm-up round unless `warmUp` is false, then `repeats`
 * rounds), so that load from
 * other processes hits them alike, and returns each one's medians. On a shared machine prefer the CPU
 * time: tfjs's cpu and wasm backends compute on the calling thread, and CPU time does not count the
 * waits for other processes (it does count Node's garbage-collector threads).
 */
export async function interleavedMedians(
  runs: Record<string, () => Promise<tf.Tensor> | tf.Tensor>,
  repeats = 3,
  warmUp = true,
): Promise<Record<string, Timing>> {
  const samples: Record<string, { wall: number[]; cpu: number[] }> = {};
  for (let round = warmUp ? 0 : 1; round <= repeats; round++) {
    for (const [name, run] of Object.entries(runs)) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const result = await run();
      await result.data();
      const used = process.cpuUsage(cpu);
      const wall = performance.now() - started;
      result.dispose();
      if (round === 0) continue;
      samples[name] ??= { wall: [], cpu: [] };
      samples[name].wall.push(wall);
      samples[name].cpu.push((used.user + used.system) / 1000);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  return Object.fromEntries(
    Object.entries(samples).map(([name, { wall, cpu }]) => [name, { wallMs: median(wall), cpuMs: median(cpu), cpuMinMs: Math.min(...cpu) }]),
  );
}

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
