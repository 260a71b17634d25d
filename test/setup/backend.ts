/**
 * Selects the tfjs backend for the running vitest project: `node-cpu`, `node-wasm` or `browser-webgl`.
 * Only tfjs-core + tfjs-layers + one backend are imported, as a user of the package would.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';

declare const process: { env: Record<string, string | undefined> } | undefined;

const isBrowser = typeof window !== 'undefined' && typeof document !== 'undefined';
const wanted = isBrowser ? 'webgl' : (process?.env.GLASSBOX_BACKEND ?? 'cpu');

if (wanted === 'webgl') {
  await import('@tensorflow/tfjs-backend-webgl');
} else if (wanted === 'wasm') {
  await import('@tensorflow/tfjs-backend-wasm');
}
if (!(await tf.setBackend(wanted))) throw new Error(`could not initialise the tfjs '${wanted}' backend`);
await tf.ready();
if (tf.getBackend() !== wanted) throw new Error(`expected backend ${wanted}, got ${tf.getBackend()}`);
