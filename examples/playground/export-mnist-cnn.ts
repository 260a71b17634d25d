/**
 * Writes the MNIST CNN that the playground and its end-to-end tests use into examples/models/mnist-cnn
 * (model.json + weights.bin, about 22 KB, committed): the demo's CNN (examples/mnist-cnn.ts), trained
 * here on the wasm backend and saved with the package's `nodeFileSystem` IOHandler.
 *
 *   npx tsx examples/playground/export-mnist-cnn.ts
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { nodeFileSystem } from '../../src/node/index';
import { trainedMnistCnn } from '../mnist-cnn';

const OUTPUT = join('examples', 'models', 'mnist-cnn');
const CACHE = join('examples', '.cache', 'playground-mnist-cnn');

await tf.setBackend('wasm');
rmSync(CACHE, { recursive: true, force: true });
const { model, accuracy } = await trainedMnistCnn(CACHE);
await model.save(nodeFileSystem(OUTPUT));
console.log(`test accuracy ${(100 * accuracy).toFixed(1)}%; wrote ${OUTPUT}`);
