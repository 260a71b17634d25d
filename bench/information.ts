/**
 * `info.unitInformation` on a layer-sized problem against a straightforward float64 JavaScript
 * implementation of the same estimator (test/info/reference.ts, `referenceUnitInformation`: one sort
 * per unit, then sums): 10 000 units × 5 000 samples with a 10-class factor and with a continuous
 * 2-dimensional factor, on tfjs's cpu and wasm backends. Prints the wall and CPU times, their ratios
 * (library / plain JS; below 1 is faster) and the largest difference in bits. Both sides run on one
 * thread, so the CPU-time ratio is the one to trust on a loaded machine.
 *
 *   npx tsx bench/information.ts [units=10000] [samples=5000]
 *
 * Single runs (each takes seconds to minutes): the ratios vary with the machine and its load.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { info } from '../src/index';
import { mulberry32 } from '../src/core/seeded-random';
import { referenceUnitInformation, type ReferenceFactor } from '../test/info/reference';

const units = Number(process.argv[2] ?? 10_000);
const samples = Number(process.argv[3] ?? 5_000);
const CLASSES = 10;

/** Activations `[samples, units]`: each unit mixes the class, the continuous factor and noise; every fourth is rectified. */
function problem() {
  const random = mulberry32(7);
  const normal = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const labels = Int32Array.from({ length: samples }, () => Math.floor(random() * CLASSES));
  const factor = Float32Array.from({ length: 2 * samples }, normal);
  const weights = Float32Array.from({ length: 3 * units }, () => random() - 0.5);
  const activations = new Float32Array(samples * units);
  for (let i = 0; i < samples; i++) {
    for (let u = 0; u < units; u++) {
      const v = weights[3 * u] * (labels[i] - 4.5) * 0.3 + weights[3 * u + 1] * factor[2 * i] + weights[3 * u + 2] * factor[2 * i + 1] + normal();
      activations[i * units + u] = u % 4 === 3 ? Math.max(0, v) : v;
    }
  }
  return { labels, factor, activations };
}

/** The result, the wall time and the CPU time (ms) of `run`. */
async function timed<T>(run: () => Promise<T> | T): Promise<[T, number, number]> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await run();
  const { user, system } = process.cpuUsage(cpu);
  return [result, performance.now() - started, (user + system) / 1000];
}

const { labels, factor, activations } = problem();
const factorColumns = [0, 1].map((c) => Float64Array.from({ length: samples }, (_, i) => factor[2 * i + c]));
const cases: { name: string; reference: ReferenceFactor; library: (values: tf.Tensor | null) => info.Factor }[] = [
  { name: `${CLASSES} classes`, reference: { labels, numClasses: CLASSES }, library: () => ({ labels, numClasses: CLASSES }) },
  { name: 'continuous, 2 dims', reference: { columns: factorColumns }, library: (values) => ({ values: values! }) },
];
console.log(`unitInformation: ${units} units × ${samples} samples`);
const warn = console.warn;
console.warn = () => {}; // the rectified units' ties are expected
for (const { name, reference, library } of cases) {
  const [expected, referenceMs, referenceCpu] = await timed(() => referenceUnitInformation(activations, samples, units, reference));
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    await tf.ready();
    const x = tf.tensor2d(activations, [samples, units]);
    const values = tf.tensor2d(factor, [samples, 2]);
    const [result, libraryMs, libraryCpu] = await timed(async () => {
      const r = await info.unitInformation(x, library(values));
      const data = await r.data();
      r.dispose();
      return data;
    });
    let worst = 0;
    result.forEach((v, u) => (worst = Math.max(worst, Math.abs(v - expected[u]))));
    const seconds = (ms: number) => (ms / 1000).toFixed(1).padStart(6);
    console.log(
      `${backend.padEnd(5)} ${name.padEnd(19)} library ${seconds(libraryMs)} s wall, ${seconds(libraryCpu)} s CPU; ` +
        `plain JS float64 ${seconds(referenceMs)} s wall, ${seconds(referenceCpu)} s CPU; ` +
        `ratio ${(libraryMs / referenceMs).toFixed(2)} wall, ${(libraryCpu / referenceCpu).toFixed(2)} CPU; max |Δ| ${worst.toExponential(1)} bits`,
    );
    tf.dispose([x, values]);
  }
}
console.warn = warn;
