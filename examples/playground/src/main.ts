/**
 * The playground page: inputs, the method forms (built from the worker's method registry), runs with
 * progress and Cancel, and the maps. All tfjs work happens in ./worker.ts.
 *
 * `window.playground` exposes the state for the end-to-end tests (test/e2e): the last results with
 * their raw maps, and the worker's `tf.memory()`.
 */
import { decodeUpload, drawingPad, fetchPicture, houseDrawing, pixelsToCanvas, toModelInput, UnreadableImageError, type Picture } from './input';
import { MODELS, modelInfo, type ModelInfo } from './models';
import type { ArrayData, ControlInfo, ControlValues, MemoryInfo, MethodInfo, PageMessage, WorkerMessage } from './protocol';

type Slot = 'a' | 'b';

/** One finished run, as the page keeps it. */
interface RunResult {
  methodId: string;
  methodLabel: string;
  values: ControlValues;
  backend: string;
  modelId: string;
  attribution: ArrayData;
  input: ArrayData;
  target: number;
  probabilities: number[];
  ms: number;
  gap: { label: string; value: number } | null;
  memory: MemoryInfo;
}

const state = {
  /** Whether a model is loaded and the page is idle. */
  ready: false,
  running: false,
  results: {} as Partial<Record<Slot, RunResult>>,
  memory: null as MemoryInfo | null,
  /** The last message shown to the user (errors, cancel). */
  message: '',
  /** Milliseconds from the last Cancel click to the worker's answer that the run stopped. */
  cancelMs: null as number | null,
  /** Whether a chosen sample is still loading (Run waits for it). */
  loadingInput: false,
};
declare global {
  interface Window {
    playground: typeof state;
  }
}
window.playground = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
let nextId = 1;
const pending = new Map<number, (message: WorkerMessage) => void>();
worker.onmessage = (event: MessageEvent<WorkerMessage>) => pending.get(event.data.id)?.(event.data);

/** Sends `message` and resolves with the worker's final answer; progress goes to `onProgress`. */
function request(message: PageMessage, onProgress?: (done: number, total: number) => void): Promise<WorkerMessage> {
  return new Promise((resolve) => {
    pending.set(message.id, (answer) => {
      if (answer.type === 'progress') return onProgress?.(answer.done, answer.total);
      pending.delete(message.id);
      if ('memory' in answer) state.memory = answer.memory;
      resolve(answer);
    });
    worker.postMessage(message);
  });
}

// --- inputs ---------------------------------------------------------------------------------------
const SAMPLES_MNIST = 'samples/mnist.json';
const PHOTO = 'samples/photo.jpg';
let mnistSamples: { label: number; pixels: number[] }[] = [];
let picture: Picture | null = null;
let model: ModelInfo = MODELS[0];
const pad = drawingPad($<HTMLCanvasElement>('pad'));

function currentInput(): ArrayData {
  if (!picture) throw new Error('no input picture');
  return toModelInput(picture, model);
}

function showInput(): void {
  const { data, shape } = currentInput();
  const view = $<HTMLCanvasElement>('input-view');
  const source = pixelsToCanvas(data, shape[1], shape[3]).image;
  view.width = view.height = shape[1];
  view.getContext('2d')!.drawImage(source, 0, 0);
  clearResults();
}

async function chooseSample(value: string): Promise<void> {
  setLoadingInput(true);
  try {
    if (value === 'photo') picture = await fetchPicture(PHOTO);
    else if (value === 'drawing') picture = houseDrawing();
    else {
      const sample = mnistSamples[Number(value)];
      picture = { kind: 'pixels', data: Float32Array.from(sample.pixels), size: 28, channels: 1 };
    }
    showInput();
  } finally {
    setLoadingInput(false);
  }
}

/** Run waits while a sample loads, so that it never explains the previous picture. */
function setLoadingInput(loading: boolean): void {
  state.loadingInput = loading;
  updateRunButton();
}

/** Run is enabled when nothing runs and no sample is loading. */
function updateRunButton(): void {
  $<HTMLButtonElement>('run').disabled = state.running || state.loadingInput;
}

$<HTMLSelectElement>('sample').addEventListener('change', (event) => void chooseSample((event.target as HTMLSelectElement).value));
$<HTMLInputElement>('upload').addEventListener('change', async (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (!file) return;
  try {
    picture = await decodeUpload(file);
    showMessage('');
    showInput();
  } catch (error) {
    showMessage(error instanceof UnreadableImageError ? error.message : `Could not use the file: ${String(error)}`);
  }
});
$('use-pad').addEventListener('click', () => {
  const canvas = $<HTMLCanvasElement>('pad');
  picture = { kind: 'drawable', image: canvas, width: canvas.width, height: canvas.height };
  showInput();
});
$('clear-pad').addEventListener('click', () => pad.clear());

function showMessage(text: string): void {
  state.message = text;
  const box = $('message');
  box.textContent = text;
  box.hidden = text === '';
}

// --- model, backend, methods ----------------------------------------------------------------------
let methods: MethodInfo[] = [];
let layers: string[] = [];

async function load(): Promise<void> {
  state.ready = false;
  setBusy(true);
  const backend = $<HTMLSelectElement>('backend').value;
  $('status').textContent = `loading ${model.label} on ${backend}…`;
  const answer = await request({ type: 'load', id: nextId++, backend, modelId: model.id });
  setBusy(false);
  if (answer.type !== 'loaded') {
    $('status').textContent = 'not loaded';
    if (answer.type === 'error') showMessage(`Could not load ${model.label} on ${backend}: ${answer.message}`);
    return;
  }
  fillSelect($<HTMLSelectElement>('backend'), answer.backends, answer.backend);
  methods = answer.methods;
  layers = answer.layers;
  for (const slot of ['a', 'b'] as Slot[]) {
    const select = $<HTMLSelectElement>(`method-${slot}`);
    fillSelect(select, methods.map((m) => m.id), select.value || (slot === 'a' ? 'integratedGradients' : 'lrp'), methods.map((m) => m.label));
    buildControls(slot);
  }
  fillSelect($<HTMLSelectElement>('colormap'), ['auto', ...answer.colormaps], $<HTMLSelectElement>('colormap').value || 'auto');
  fillSelect($<HTMLSelectElement>('sign'), answer.signs, $<HTMLSelectElement>('sign').value || 'auto');
  $('status').textContent = `${model.label} on ${answer.backend}: ready in ${answer.ms.toFixed(0)} ms · worker: ${describeMemory(answer.memory)}`;
  showMessage('');
  state.ready = true;
}

function fillSelect(select: HTMLSelectElement, values: string[], selected: string, labels: string[] = values): void {
  select.replaceChildren(...values.map((value, i) => new Option(labels[i], value, false, value === selected)));
  if (!values.includes(selected)) select.selectedIndex = 0;
}

function describeMemory(memory: MemoryInfo): string {
  return `${memory.numTensors} tensors, ${(memory.numBytes / 2 ** 20).toFixed(1)} MB`;
}

function method(id: string): MethodInfo {
  return methods.find((m) => m.id === id)!;
}

/** The form of the slot's method, built from its controls. */
function buildControls(slot: Slot): void {
  const chosen = method($<HTMLSelectElement>(`method-${slot}`).value);
  const box = $(`controls-${slot}`);
  box.replaceChildren(...chosen.controls.map((control) => controlElement(control)));
  const refresh = () => {
    const values = readValues(slot);
    for (const control of chosen.controls) {
      const row = box.querySelector<HTMLElement>(`[data-row="${control.key}"]`)!;
      row.hidden = control.when !== undefined && !control.when.values.includes(String(values[control.when.key]));
    }
  };
  box.onchange = refresh;
  refresh();
  $('method-about').textContent = (['a', 'b'] as Slot[])
    .filter((s) => s === 'a' || $<HTMLInputElement>('compare').checked)
    .map((s) => method($<HTMLSelectElement>(`method-${s}`).value))
    .map((m) => `${m.label}: ${m.about}`)
    .join('  ·  ');
}

function controlElement(control: ControlInfo): HTMLElement {
  const row = document.createElement('label');
  row.dataset.row = control.key;
  row.append(`${control.label} `);
  let input: HTMLInputElement | HTMLSelectElement;
  if (control.kind === 'select' || control.kind === 'layer' || control.kind === 'layers') {
    const select = document.createElement('select');
    const options = control.kind === 'select' ? control.options! : layers;
    const chosen = ([] as unknown[]).concat(control.default).map(String);
    select.multiple = control.kind === 'layers';
    if (select.multiple) select.size = Math.min(4, options.length);
    select.append(...options.map((o) => new Option(o, o, false, chosen.includes(o))));
    input = select;
  } else {
    const field = document.createElement('input');
    field.type = control.kind === 'checkbox' ? 'checkbox' : 'number';
    if (control.kind === 'checkbox') field.checked = Boolean(control.default);
    else {
      field.value = String(control.default);
      if (control.min !== undefined) field.min = String(control.min);
      if (control.max !== undefined) field.max = String(control.max);
      field.step = control.step !== undefined ? String(control.step) : 'any';
    }
    input = field;
  }
  input.dataset.key = control.key;
  input.dataset.kind = control.kind;
  row.append(input);
  return row;
}

function readValues(slot: Slot): ControlValues {
  const values: ControlValues = {};
  for (const input of Array.from($(`controls-${slot}`).querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-key]'))) {
    const key = input.dataset.key!;
    if (input.dataset.kind === 'checkbox') values[key] = (input as HTMLInputElement).checked;
    else if (input.dataset.kind === 'number') values[key] = Number(input.value);
    else if (input.dataset.kind === 'layers') values[key] = Array.from((input as HTMLSelectElement).selectedOptions, (o) => o.value);
    else values[key] = input.value;
  }
  return values;
}

function fillModelFields(): void {
  $('model-about').textContent = model.about;
  $<HTMLInputElement>('batch-size').value = String(model.batchSize);
  fillSelect($<HTMLSelectElement>('target'), ['-1', ...model.classes.map((_, i) => String(i))], '-1', ['predicted class', ...model.classes.map((c, i) => `${i}: ${c}`)]);
}

$<HTMLSelectElement>('model').addEventListener('change', async (event) => {
  model = modelInfo((event.target as HTMLSelectElement).value);
  fillModelFields();
  if (picture) showInput();
  await load();
});
$<HTMLSelectElement>('backend').addEventListener('change', () => {
  clearResults();
  void load();
});
for (const slot of ['a', 'b'] as Slot[]) $(`method-${slot}`).addEventListener('change', () => buildControls(slot));
$<HTMLInputElement>('compare').addEventListener('change', (event) => {
  $('slot-b').hidden = !(event.target as HTMLInputElement).checked;
  buildControls('b');
});

// --- runs -----------------------------------------------------------------------------------------
let current: number | null = null;
let cancelled = false;
let cancelClicked = 0;

function setBusy(busy: boolean): void {
  state.running = busy;
  updateRunButton();
  $<HTMLButtonElement>('cancel').disabled = !busy;
  for (const id of ['model', 'backend']) $<HTMLSelectElement>(id).disabled = busy;
}

async function runAll(): Promise<void> {
  const slots: Slot[] = $<HTMLInputElement>('compare').checked ? ['a', 'b'] : ['a'];
  const input = currentInput();
  showMessage('');
  clearResults();
  setBusy(true);
  cancelled = false;
  const progress = $<HTMLProgressElement>('progress');
  for (const [index, slot] of slots.entries()) {
    if (cancelled) break;
    const chosen = method($<HTMLSelectElement>(`method-${slot}`).value);
    const values = readValues(slot);
    const id = nextId++;
    current = id;
    const started = performance.now();
    progress.value = 0;
    const answer = await request(
      {
        type: 'run',
        id,
        backend: $<HTMLSelectElement>('backend').value,
        modelId: model.id,
        methodId: chosen.id,
        values,
        batchSize: Number($<HTMLInputElement>('batch-size').value),
        input,
        target: Number($<HTMLSelectElement>('target').value),
      },
      (done, total) => (progress.value = (index + done / total) / slots.length),
    );
    current = null;
    if (answer.type === 'result') {
      state.results[slot] = { ...answer, methodId: chosen.id, methodLabel: chosen.label, values, modelId: model.id, input };
      showPrediction(answer.probabilities, answer.target);
      await renderSlot(slot);
    } else if (answer.type === 'cancelled') {
      state.cancelMs = performance.now() - cancelClicked;
      showMessage(`Cancelled ${chosen.label} after ${((performance.now() - started) / 1000).toFixed(2)} s; worker: ${describeMemory(answer.memory)}.`);
    } else if (answer.type === 'error') {
      showMessage(`${chosen.label} failed: ${answer.message}`);
      break;
    }
  }
  progress.value = cancelled ? 0 : 1;
  setBusy(false);
}

$('run').addEventListener('click', () => void runAll());
$('cancel').addEventListener('click', () => {
  cancelled = true;
  cancelClicked = performance.now();
  if (current !== null) worker.postMessage({ type: 'cancel', id: current } satisfies PageMessage);
});

function showPrediction(probabilities: number[], target: number): void {
  const top = probabilities
    .map((p, i) => [p, i] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, 3);
  $('prediction').replaceChildren(
    ...top.map(([p, i]) => {
      const item = document.createElement('li');
      item.innerHTML = `<span class="bar" style="width:${(100 * p).toFixed(1)}%"></span><span>${model.classes[i]} ${(100 * p).toFixed(1)}%${i === target ? ' · explained' : ''}</span>`;
      return item;
    }),
  );
}

// --- display --------------------------------------------------------------------------------------
function clearResults(): void {
  state.results = {};
  for (const slot of ['a', 'b']) $(`card-${slot}`).hidden = true;
  $('prediction').replaceChildren();
}

async function renderSlot(slot: Slot): Promise<void> {
  const result = state.results[slot];
  if (!result) return;
  const display = {
    colormap: $<HTMLSelectElement>('colormap').value,
    sign: $<HTMLSelectElement>('sign').value,
    percentile: Number($<HTMLInputElement>('percentile').value),
    alpha: Number($<HTMLInputElement>('alpha').value),
  };
  const answer = await request({ type: 'render', id: nextId++, attribution: result.attribution, input: result.input, display });
  if (answer.type !== 'rendered') {
    if (answer.type === 'error') showMessage(`Could not draw the map: ${answer.message}`);
    return;
  }
  const card = $(`card-${slot}`);
  const [view, legend] = Array.from(card.querySelectorAll('canvas'));
  view.width = answer.width;
  view.height = answer.height;
  view.getContext('2d')!.putImageData(new ImageData(answer.rgba as Uint8ClampedArray<ArrayBuffer>, answer.width, answer.height), 0, 0);
  legend.getContext('2d')!.putImageData(new ImageData(answer.legend as Uint8ClampedArray<ArrayBuffer>, 256, 1), 0, 0);
  const scale = `p${display.percentile}`;
  const [low, mid, high] = answer.signed ? [`−${scale}`, '0', `+${scale}`] : ['0', '', scale];
  card.querySelector('.low')!.textContent = low;
  card.querySelector('.mid')!.textContent = mid;
  card.querySelector('.high')!.textContent = high;
  card.querySelector('figcaption')!.textContent = `${result.methodLabel} → ${model.classes[result.target]}`;
  const rows: [string, string][] = [
    ['time', `${result.ms.toFixed(0)} ms on ${result.backend}`],
    ...(result.gap ? [[result.gap.label, result.gap.value.toExponential(2)] as [string, string]] : []),
    ['worker memory', describeMemory(result.memory)],
  ];
  card.querySelector('dl')!.replaceChildren(
    ...rows.flatMap(([term, value]) => {
      const [dt, dd] = [document.createElement('dt'), document.createElement('dd')];
      dt.textContent = term;
      dd.textContent = value;
      return [dt, dd];
    }),
  );
  card.hidden = false;
}

for (const id of ['colormap', 'sign', 'percentile', 'alpha']) {
  $(id).addEventListener('change', () => {
    void renderSlot('a').then(() => renderSlot('b'));
  });
}

// --- start ----------------------------------------------------------------------------------------
async function start(): Promise<void> {
  fillSelect($<HTMLSelectElement>('model'), MODELS.map((m) => m.id), model.id, MODELS.map((m) => m.label));
  fillModelFields();
  mnistSamples = await (await fetch(SAMPLES_MNIST)).json();
  fillSelect(
    $<HTMLSelectElement>('sample'),
    [...mnistSamples.map((_, i) => String(i)), 'drawing', 'photo'],
    '0',
    [...mnistSamples.map((s) => `MNIST digit ${s.label}`), 'a drawn house', 'photo (people; @vladmandic/human)'],
  );
  await chooseSample('0');
  await load();
}

void start();
