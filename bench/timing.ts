/** Timing helpers shared by the benchmark scripts: warm-up, then the medians of repeated runs. */
import * as tf from '@tensorflow/tfjs-core';

/** Median wall time and median process CPU time (user + system) of one benchmark, in ms. */
export interface Timing {
  wallMs: number;
  cpuMs: number;
}

/**
 * Times several benchmarks round-robin (one warm-up round, then `repeats` rounds), so that load from
 * other processes hits them alike, and returns each one's medians. On a shared machine prefer the CPU
 * time: tfjs's cpu and wasm backends compute on the calling thread, and CPU time does not count the
 * waits for other processes (it does count Node's garbage-collector threads).
 */
export async function interleavedMedians(
  runs: Record<string, () => Promise<tf.Tensor> | tf.Tensor>,
  repeats = 3,
): Promise<Record<string, Timing>> {
  const samples: Record<string, { wall: number[]; cpu: number[] }> = {};
  for (let round = 0; round <= repeats; round++) {
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
    Object.entries(samples).map(([name, { wall, cpu }]) => [name, { wallMs: median(wall), cpuMs: median(cpu) }]),
  );
}
