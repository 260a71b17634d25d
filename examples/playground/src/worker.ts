/**
 * The playground's worker: owns tfjs, the backend, the models and every tensor, so long attributions
 * never block the page. It answers the messages of ./protocol.ts: load a model on a backend, run a
 * method (progress, Cancel through an AbortSignal), render a map with the package's `heatmap` and
 * `overlay`. After each run or cancel it reports `tf.memory()`, so leaks would show.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { applyColormap, COLORMAP_NAMES, HEATMAP_SIGNS, heatmap, overlay, type ColormapName, type HeatmapSign } from '../../../src/index';
import { describeMethods, method, type MethodContext } from './methods';
import { modelInfo, type ModelInfo } from './models';
import type { ArrayData, MemoryInfo, PageMessage, WorkerMessage } from './protocol';

const scope = self as unknown as {
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent<PageMessage>) => void) | null;
  location: { href: string };
};

/** The site's root: models and wasm binaries are served from it (the worker lives in assets/ or src/). */
const ROOT = new URL('../', scope.location.href).href;
setWasmPaths(new URL('wasm/', ROOT).href);

const post = (message: WorkerMessage, transfer: Transferable[] = []) => scope.postMessage(message, transfer);
const memory = (): MemoryInfo => {
  const { numTensors, numBytes } = tf.memory();
  return { numTensors, numBytes };
};

/** Backends this browser can run; webgpu only where it offers an adapter. */
async function availableBackends(): Promise<string[]> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  const webgpu = gpu !== undefined && (await gpu.requestAdapter().catch(() => null)) !== null;
  return ['webgl', 'wasm', ...(webgpu ? ['webgpu'] : []), 'cpu'];
}

async function useBackend(name: string): Promise<void> {
  if (tf.getBackend() === name) return;
  if (name === 'webgpu' && tf.findBackendFactory('webgpu') === null) await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend(name))) throw new Error(`this browser cannot run the tfjs '${name}' backend`);
  await tf.ready();
}

interface LoadedModel {
  model: tfl.LayersModel;
  info: ModelInfo;
  /** The pre-softmax scores of one input (what LRP explains) and the class probabilities. */
  scores: (x: tf.Tensor) => Promise<{ logits: number[]; probabilities: number[] }>;
}
const models = new Map<string, Promise<LoadedModel>>();

function loadModel(id: string): Promise<LoadedModel> {
  if (!models.has(id)) {
    const info = modelInfo(id);
    const loading = tfl.loadLayersModel(new URL(info.url, ROOT).href).then((model) => ({ model, info, scores: scoresOf(model, info) }));
    loading.catch(() => models.delete(id));
    models.set(id, loading);
  }
  return models.get(id)!;
}

/**
 * Logits and probabilities of one input. The logits are the model's output for a model that outputs
 * logits; for a final Dense layer with a softmax they are that layer's `features · kernel + bias`.
 */
function scoresOf(model: tfl.LayersModel, info: ModelInfo): LoadedModel['scores'] {
  const last = model.layers[model.layers.length - 1];
  const softmaxDense = last.getClassName() === 'Dense' && last.getConfig().activation === 'softmax';
  const features = softmaxDense ? tfl.model({ inputs: model.inputs, outputs: last.input as tfl.SymbolicTensor }) : null;
  return async (x) => {
    const output = tf.tidy(() => {
      if (!features) return model.predict(x) as tf.Tensor;
      const [kernel, bias] = last.getWeights();
      return tf.add(tf.matMul(features.predict(x) as tf.Tensor2D, kernel as tf.Tensor2D), bias);
    });
    const values = Array.from(await read(output));
    if (features || info.outputs === 'logits') return { logits: values, probabilities: softmax(values) };
    return { logits: values.map(Math.log), probabilities: values };
  };
}

/** The values of `t`, which is disposed. */
async function read(t: tf.Tensor): Promise<Float32Array | Int32Array | Uint8Array> {
  try {
    return (await t.data()) as Float32Array | Int32Array | Uint8Array;
  } finally {
    t.dispose();
  }
}

/** Names of the layers with a 4-D output (those the CAMs can start from). */
function spatialLayers(model: tfl.LayersModel): string[] {
  return model.layers.filter((layer) => !Array.isArray(layer.outputShape[0]) && layer.outputShape.length === 4 && layer.getClassName() !== 'InputLayer').map((l) => l.name);
}

const running = new Map<number, AbortController>();

async function run(message: Extract<PageMessage, { type: 'run' }>): Promise<void> {
  const controller = new AbortController();
  running.set(message.id, controller);
  const x = tf.tensor4d(message.input.data, message.input.shape as [number, number, number, number]);
  let attribution: tf.Tensor | undefined;
  try {
    await useBackend(message.backend);
    const loaded = await loadModel(message.modelId);
    const { probabilities } = await loaded.scores(x);
    const target = message.target >= 0 ? message.target : probabilities.indexOf(Math.max(...probabilities));
    const chosen = method(message.methodId);
    let lastReport = 0;
    const context: MethodContext = {
      model: loaded.model,
      info: loaded.info,
      x,
      target,
      logit: async (input) => (await loaded.scores(input)).logits[target],
      common: {
        batchSize: message.batchSize,
        signal: controller.signal,
        onProgress: (done, total) => {
          const now = performance.now();
          if (now - lastReport > 50 || done === total) {
            lastReport = now;
            post({ type: 'progress', id: message.id, done, total });
          }
        },
      },
    };
    const started = performance.now();
    attribution = await chosen.run(context, message.values);
    const values = (await attribution.data()) as Float32Array;
    const ms = performance.now() - started;
    const gap = chosen.gap ? await chosen.gap(context, message.values, attribution) : null;
    const shape = attribution.shape;
    attribution.dispose();
    x.dispose();
    post(
      { type: 'result', id: message.id, attribution: { data: values, shape }, probabilities, target, ms, gap, backend: tf.getBackend(), memory: memory() },
      [values.buffer],
    );
  } catch (error) {
    attribution?.dispose();
    x.dispose();
    if (controller.signal.aborted) post({ type: 'cancelled', id: message.id, memory: memory() });
    else post({ type: 'error', id: message.id, message: describeError(error), memory: memory() });
  } finally {
    running.delete(message.id);
  }
}

function softmax(values: number[]): number[] {
  const top = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error);
}

/**
 * The map coloured by `heatmap` and laid over the input by `overlay`, as RGBA bytes at the input's
 * size, and the colour map's legend (256 × 1). `sign: 'auto'` shows signed values when the map (summed
 * over channels) has a negative value, as `heatmap` does.
 */
async function render(message: Extract<PageMessage, { type: 'render' }>): Promise<void> {
  const { attribution, input, display } = message;
  const map = tensorOf(attribution);
  const anyNegative = (await read(tf.tidy(() => tf.any(tf.less(map.rank === 4 ? tf.sum(map, 3) : map, 0)))))[0] > 0;
  const signed = display.sign === 'all' || (display.sign === 'auto' && anyNegative);
  const sign = (display.sign === 'auto' ? (signed ? 'all' : 'positive') : display.sign) as HeatmapSign;
  const colormap = (display.colormap === 'auto' ? (signed ? 'bwr' : 'inferno') : display.colormap) as ColormapName;
  const [blended, legend] = tf.tidy(() => {
    const colours = heatmap(map, { sign, colormap, clip: { percentile: display.percentile } });
    return [
      rgbaBytes(tf.squeeze(overlay(tensorOf(input), colours, { alpha: display.alpha }), [0]) as tf.Tensor3D),
      rgbaBytes(tf.reshape(applyColormap(tf.linspace(0, 1, 256), colormap), [1, 256, 3]) as tf.Tensor3D),
    ];
  });
  map.dispose();
  const [height, width] = blended.shape;
  const [pixels, scale] = await Promise.all([read(blended), read(legend)]);
  const rgba = Uint8ClampedArray.from(pixels);
  const legendRgba = Uint8ClampedArray.from(scale);
  post({ type: 'rendered', id: message.id, rgba, width, height, legend: legendRgba, signed }, [rgba.buffer, legendRgba.buffer]);
}

function tensorOf({ data, shape }: ArrayData): tf.Tensor {
  return tf.tensor(data, shape);
}

/** `[H, W, 3]` in [0, 1] → RGBA byte values `[H, W, 4]` (opaque), as int32. */
function rgbaBytes(rgb: tf.Tensor3D): tf.Tensor3D {
  const [h, w] = rgb.shape;
  return tf.cast(tf.round(tf.mul(tf.concat([rgb, tf.ones([h, w, 1])], 2), 255)), 'int32') as tf.Tensor3D;
}

async function load(message: Extract<PageMessage, { type: 'load' }>): Promise<void> {
  try {
    const started = performance.now();
    await useBackend(message.backend);
    const loaded = await loadModel(message.modelId);
    // One prediction compiles the backend's kernels for this model before the first timed run.
    tf.tidy(() => loaded.model.predict(tf.zeros([1, loaded.info.size, loaded.info.size, loaded.info.channels])) as tf.Tensor).dispose();
    post({
      type: 'loaded',
      id: message.id,
      backend: tf.getBackend(),
      backends: await availableBackends(),
      methods: describeMethods(loaded.info),
      colormaps: [...COLORMAP_NAMES],
      signs: ['auto', ...HEATMAP_SIGNS],
      layers: spatialLayers(loaded.model),
      memory: memory(),
      ms: performance.now() - started,
    });
  } catch (error) {
    post({ type: 'error', id: message.id, message: describeError(error), memory: memory() });
  }
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === 'load') void load(message);
  else if (message.type === 'run') void run(message);
  else if (message.type === 'cancel') running.get(message.id)?.abort();
  else if (message.type === 'render') {
    render(message).catch((error) => post({ type: 'error', id: message.id, message: describeError(error), memory: memory() }));
  }
};
