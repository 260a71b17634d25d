/**
 * Selects the tfjs backend for the running vitest project: `node-cpu`, `node-wasm`, `browser-webgl` or
 * `browser-webgpu` (the browser projects provide `glassboxBackend`, the Node ones set
 * `GLASSBOX_BACKEND`). Only tfjs-core + tfjs-layers + one backend are imported, as a user of the
 * package would.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { inject } from 'vitest';

declare const process: { env: Record<string, string | undefined> } | undefined;
declare module 'vitest' {
  export interface ProvidedContext {
    /** The backend a browser project runs on. */
    glassboxBackend: 'webgl' | 'webgpu';
  }
}

const isBrowser = typeof window !== 'undefined' && typeof document !== 'undefined';
const wanted = isBrowser ? inject('glassboxBackend') : (process?.env.GLASSBOX_BACKEND ?? 'cpu');

if (!isBrowser) silenceNodeBanner();
if (wanted === 'webgl') {
  await import('@tensorflow/tfjs-backend-webgl');
} else if (wanted === 'webgpu') {
  await import('@tensorflow/tfjs-backend-webgpu');
} else if (wanted === 'wasm') {
  await import('@tensorflow/tfjs-backend-wasm');
}
if (!(await tf.setBackend(wanted))) throw new Error(`could not initialise the tfjs '${wanted}' backend`);
await tf.ready();
if (tf.getBackend() !== wanted) throw new Error(`expected backend ${wanted}, got ${tf.getBackend()}`);

/**
 * tfjs's cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js…" (advice to
 * install tfjs-node) on its first use in every test file. Only that message is dropped; every other
 * warning still shows.
 */
function silenceNodeBanner(): void {
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('looks like you are running TensorFlow.js in Node.js')) return;
    warn(...args);
  };
}
