/**
 * Messages between the playground page and its worker (plain data: numbers, strings, typed arrays).
 * The page never imports tfjs; the worker owns the backend, the models and every tensor.
 */

/** A form control of a method, built by the page. */
export interface ControlInfo {
  key: string;
  label: string;
  /** `layer` / `layers`: one or several of the model's layers with a 4-D output. */
  kind: 'number' | 'select' | 'checkbox' | 'layer' | 'layers';
  default: number | string | boolean | string[];
  min?: number;
  max?: number;
  step?: number;
  options?: string[];
  /** Shown (and used) only while another control of the method has one of these values. */
  when?: { key: string; values: string[] };
}

/** A method as the page sees it. */
export interface MethodInfo {
  id: string;
  label: string;
  about: string;
  hasGap: boolean;
  controls: ControlInfo[];
}

export type ControlValues = Record<string, number | string | boolean | string[]>;

/** A float32 array with its shape. */
export interface ArrayData {
  data: Float32Array;
  shape: number[];
}

/** A completeness or conservation check: `value` should be near 0. */
export interface GapInfo {
  label: string;
  value: number;
}

/** tfjs's `tf.memory()` in the worker. */
export interface MemoryInfo {
  numTensors: number;
  numBytes: number;
}

/** How a map is shown. */
export interface DisplayOptions {
  /** A colour map name, or `'auto'`: bwr for signed maps, inferno otherwise. */
  colormap: string;
  sign: string;
  percentile: number;
  /** Opacity of the heatmap over the image, 0–1. */
  alpha: number;
}

export type PageMessage =
  | { type: 'load'; id: number; backend: string; modelId: string }
  | {
      type: 'run';
      id: number;
      backend: string;
      modelId: string;
      methodId: string;
      values: ControlValues;
      batchSize: number;
      input: ArrayData;
      /** A class index, or -1 for the predicted class. */
      target: number;
    }
  | { type: 'cancel'; id: number }
  | { type: 'render'; id: number; attribution: ArrayData; input: ArrayData; display: DisplayOptions };

export type WorkerMessage =
  | {
      type: 'loaded';
      id: number;
      backend: string;
      backends: string[];
      methods: MethodInfo[];
      colormaps: string[];
      signs: string[];
      /** The model's layers with 4-D outputs (for the CAMs), in order. */
      layers: string[];
      memory: MemoryInfo;
      ms: number;
    }
  | { type: 'progress'; id: number; done: number; total: number }
  | {
      type: 'result';
      id: number;
      attribution: ArrayData;
      /** Class probabilities of the input. */
      probabilities: number[];
      target: number;
      ms: number;
      gap: GapInfo | null;
      backend: string;
      memory: MemoryInfo;
    }
  | { type: 'cancelled'; id: number; memory: MemoryInfo }
  | { type: 'rendered'; id: number; rgba: Uint8ClampedArray; width: number; height: number; legend: Uint8ClampedArray; signed: boolean }
  | { type: 'error'; id: number; message: string; memory: MemoryInfo };
