/**
 * Run in a fresh process by layers-save-load.node.test.ts: imports only tfjs, a backend and the package,
 * loads the model saved in argv[2] and prints its prediction for the input in argv[2]/input.json.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../../src/index';
import { fsIOHandler } from './fs-io-handler';

const dir = process.argv[2];
await tf.setBackend('cpu');
const model = await tfl.loadLayersModel(fsIOHandler(dir));
const { shape, values } = JSON.parse(readFileSync(join(dir, 'input.json'), 'utf8'));
const y = model.predict(tf.tensor(values, shape)) as tf.Tensor;
process.stdout.write(JSON.stringify({ layers: model.layers.map((l) => l.getClassName()), output: Array.from(await y.data()) }));
