/**
 * Fills examples/playground/public/ (not committed) with what the playground serves, all from
 * installed packages, so the site works offline:
 * - `wasm/`: tfjs-backend-wasm's binaries (the page calls `setWasmPaths` with this folder);
 * - `models/mnist-cnn/`: the committed MNIST CNN (examples/models/mnist-cnn, written by
 *   examples/playground/export-mnist-cnn.ts);
 * - `models/mobilenet-v2/`: nsfwjs's MobileNetV2, unwrapped from its JavaScript modules into
 *   `model.json` + `weights.bin` with the package's `nodeFileSystem`;
 * - `samples/`: one MNIST test digit per class (the digits the demo explains) and a photo.
 *
 *   npx tsx examples/playground/prepare.ts
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeFileSystem } from '../../src/node/index';
import { loadMnist } from '../data/mnist';
import { mobileNetV2Handler, packageDirectory } from '../models/pretrained';

const require = createRequire(import.meta.url);
const HERE = dirname(fileURLToPath(import.meta.url));
const PUBLIC = join(HERE, 'public');
export const MNIST_CNN = join(HERE, '..', 'models', 'mnist-cnn');

function copyFolder(from: string, to: string, keep: (name: string) => boolean = () => true): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from).filter(keep)) copyFileSync(join(from, name), join(to, name));
}

/** The test digits the playground offers: the first of each class in the demo's test split. */
export function mnistSamples(): { label: number; pixels: number[] }[] {
  const { test } = loadMnist(300, 40, 1);
  const pixels = 28 * 28;
  return Array.from({ length: 10 }, (_, digit) => {
    const index = test.labels.findIndex((label) => label === digit);
    return { label: digit, pixels: Array.from(test.images.subarray(index * pixels, (index + 1) * pixels)) };
  });
}

async function prepare(): Promise<void> {
  copyFolder(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), join(PUBLIC, 'wasm'), (name) => name.endsWith('.wasm'));
  if (!existsSync(join(MNIST_CNN, 'model.json'))) {
    throw new Error(`${MNIST_CNN}/model.json is missing: run npx tsx examples/playground/export-mnist-cnn.ts`);
  }
  copyFolder(MNIST_CNN, join(PUBLIC, 'models', 'mnist-cnn'));
  const mobileNet = join(PUBLIC, 'models', 'mobilenet-v2');
  if (!existsSync(join(mobileNet, 'model.json'))) await nodeFileSystem(mobileNet).save!(await mobileNetV2Handler().load!());
  mkdirSync(join(PUBLIC, 'samples'), { recursive: true });
  writeFileSync(join(PUBLIC, 'samples', 'mnist.json'), JSON.stringify(mnistSamples()));
  copyFileSync(join(packageDirectory('@vladmandic/human'), 'assets', 'samples.jpg'), join(PUBLIC, 'samples', 'photo.jpg'));
  console.log(`prepared ${PUBLIC}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await prepare();
