/**
 * Turns what the user gives (a sample, an uploaded file, a drawing) into a model input `[1, S, S, C]`
 * in [0, 1], with canvas operations only (the page has no tfjs).
 */
import type { ModelInfo } from './models';
import type { ArrayData } from './protocol';

/** A picture: exact pixels (the MNIST samples) or anything a canvas can draw. */
export type Picture = { kind: 'pixels'; data: Float32Array; size: number; channels: 1 | 3 } | { kind: 'drawable'; image: CanvasImageSource; width: number; height: number };

/** An upload that is not a picture the browser can decode. */
export class UnreadableImageError extends Error {
  override name = 'UnreadableImageError';
}

const IMAGE_TYPES = 'a PNG, JPEG, GIF, WebP or BMP picture';

/** Decodes an uploaded file, or throws an {@link UnreadableImageError} that says what was wrong. */
export async function decodeUpload(file: File): Promise<Picture> {
  const what = `“${file.name}” (${file.type || 'unknown type'}, ${formatBytes(file.size)})`;
  if (file.size === 0) throw new UnreadableImageError(`${what} is empty. Choose ${IMAGE_TYPES}.`);
  if (file.type && !file.type.startsWith('image/')) throw new UnreadableImageError(`${what} is not an image. Choose ${IMAGE_TYPES}.`);
  try {
    const bitmap = await createImageBitmap(file);
    return { kind: 'drawable', image: bitmap, width: bitmap.width, height: bitmap.height };
  } catch {
    throw new UnreadableImageError(`${what} could not be decoded as an image: the file is damaged or in a format this browser cannot read. Choose ${IMAGE_TYPES}.`);
  }
}

/** A picture from a URL of the site (the photo sample). */
export async function fetchPicture(url: string): Promise<Picture> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url}: HTTP ${response.status}`);
  const bitmap = await createImageBitmap(await response.blob());
  return { kind: 'drawable', image: bitmap, width: bitmap.width, height: bitmap.height };
}

function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

/** The model input for `picture`: exact pixels when they fit, otherwise the model's preprocessing. */
export function toModelInput(picture: Picture, model: ModelInfo): ArrayData {
  const shape = [1, model.size, model.size, model.channels];
  if (picture.kind === 'pixels' && picture.size === model.size && picture.channels === model.channels) {
    return { data: picture.data.slice(), shape };
  }
  const source = picture.kind === 'pixels' ? pixelsToCanvas(picture.data, picture.size, picture.channels) : picture;
  const canvas = model.preprocess === 'digit' ? digitCanvas(source, model.size) : photoCanvas(source, model.size);
  const rgba = canvas.getContext('2d')!.getImageData(0, 0, model.size, model.size).data;
  const data = new Float32Array(model.size * model.size * model.channels);
  for (let p = 0; p < model.size * model.size; p++) {
    if (model.channels === 1) data[p] = (rgba[4 * p] + rgba[4 * p + 1] + rgba[4 * p + 2]) / (3 * 255);
    else for (let c = 0; c < 3; c++) data[3 * p + c] = rgba[4 * p + c] / 255;
  }
  return { data, shape };
}

/** Draws a `[S, S, C]` array in [0, 1] on a canvas (for display and resampling). */
export function pixelsToCanvas(data: Float32Array, size: number, channels: number): { image: HTMLCanvasElement; width: number; height: number } {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(size, size);
  for (let p = 0; p < size * size; p++) {
    for (let c = 0; c < 3; c++) image.data[4 * p + c] = Math.round(255 * data[channels === 1 ? p : 3 * p + c]);
    image.data[4 * p + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  return { image: canvas, width: size, height: size };
}

/** The centre square of a photo, scaled to `size` × `size`. */
function photoCanvas(source: { image: CanvasImageSource; width: number; height: number }, size: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const side = Math.min(source.width, source.height);
  const context = canvas.getContext('2d')!;
  context.imageSmoothingQuality = 'high';
  context.drawImage(source.image, (source.width - side) / 2, (source.height - side) / 2, side, side, 0, 0, size, size);
  return canvas;
}

/**
 * MNIST's convention: a light digit on black, its bounding box scaled to fit 20 × 20 and centred in
 * the 28 × 28 frame. Pictures with a light background (ink on paper) are inverted first.
 */
function digitCanvas(source: { image: CanvasImageSource; width: number; height: number }, size: number): HTMLCanvasElement {
  const work = document.createElement('canvas');
  const scale = Math.min(1, 256 / Math.max(source.width, source.height));
  work.width = Math.max(1, Math.round(source.width * scale));
  work.height = Math.max(1, Math.round(source.height * scale));
  const context = work.getContext('2d', { willReadFrequently: true })!;
  context.drawImage(source.image, 0, 0, work.width, work.height);
  const pixels = context.getImageData(0, 0, work.width, work.height);
  const grey = new Float32Array(work.width * work.height);
  let mean = 0;
  for (let p = 0; p < grey.length; p++) {
    grey[p] = (pixels.data[4 * p] + pixels.data[4 * p + 1] + pixels.data[4 * p + 2]) / (3 * 255);
    mean += grey[p] / grey.length;
  }
  const invert = mean > 0.5;
  let [top, left, bottom, right] = [work.height, work.width, -1, -1];
  for (let y = 0; y < work.height; y++) {
    for (let x = 0; x < work.width; x++) {
      const p = y * work.width + x;
      const ink = invert ? 1 - grey[p] : grey[p];
      for (let c = 0; c < 3; c++) pixels.data[4 * p + c] = Math.round(255 * ink);
      if (ink > 0.2) [top, left, bottom, right] = [Math.min(top, y), Math.min(left, x), Math.max(bottom, y), Math.max(right, x)];
    }
  }
  context.putImageData(pixels, 0, 0);
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const out = canvas.getContext('2d')!;
  out.fillStyle = 'black';
  out.fillRect(0, 0, size, size);
  if (bottom < 0) return canvas; // nothing drawn: an all-black input
  const [boxWidth, boxHeight] = [right - left + 1, bottom - top + 1];
  const fit = (20 / 28) * size / Math.max(boxWidth, boxHeight);
  const [w, h] = [boxWidth * fit, boxHeight * fit];
  out.imageSmoothingQuality = 'high';
  out.drawImage(work, left, top, boxWidth, boxHeight, (size - w) / 2, (size - h) / 2, w, h);
  return canvas;
}

/** A drawn picture (a house, a tree and the sun on a hill), made on a canvas: a sample for the photo models. */
export function houseDrawing(size = 448): Picture {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const c = canvas.getContext('2d')!;
  const u = size / 100;
  const sky = c.createLinearGradient(0, 0, 0, size);
  sky.addColorStop(0, '#8ecbf5');
  sky.addColorStop(1, '#e6f4fd');
  c.fillStyle = sky;
  c.fillRect(0, 0, size, size);
  const shape = (colour: string, draw: () => void) => {
    c.fillStyle = colour;
    c.beginPath();
    draw();
    c.fill();
  };
  shape('#ffd23f', () => c.arc(80 * u, 18 * u, 9 * u, 0, 2 * Math.PI));
  shape('#5fae4b', () => c.ellipse(50 * u, 100 * u, 80 * u, 32 * u, 0, 0, 2 * Math.PI));
  shape('#f1e3c6', () => c.rect(22 * u, 48 * u, 34 * u, 28 * u));
  shape('#b8432f', () => (c.moveTo(17 * u, 50 * u), c.lineTo(39 * u, 30 * u), c.lineTo(61 * u, 50 * u)));
  shape('#6b4226', () => c.rect(34 * u, 60 * u, 9 * u, 16 * u));
  shape('#9fd3f0', () => c.rect(26 * u, 53 * u, 6 * u, 6 * u));
  shape('#7a5230', () => c.rect(72 * u, 50 * u, 5 * u, 24 * u));
  shape('#2f7d32', () => c.arc(74.5 * u, 44 * u, 12 * u, 0, 2 * Math.PI));
  c.strokeStyle = '#333';
  c.lineWidth = u;
  c.strokeRect(22 * u, 48 * u, 34 * u, 28 * u);
  return { kind: 'drawable', image: canvas, width: size, height: size };
}

/** A black drawing pad: pointer strokes in white. */
export function drawingPad(canvas: HTMLCanvasElement): { clear(): void } {
  const context = canvas.getContext('2d')!;
  const clear = () => {
    context.fillStyle = 'black';
    context.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();
  let last: [number, number] | null = null;
  const at = (event: PointerEvent): [number, number] => {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) * canvas.width) / box.width, ((event.clientY - box.top) * canvas.height) / box.height];
  };
  canvas.addEventListener('pointerdown', (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = at(event);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!last) return;
    const next = at(event);
    context.strokeStyle = 'white';
    context.lineWidth = canvas.width / 12;
    context.lineCap = context.lineJoin = 'round';
    context.beginPath();
    context.moveTo(...last);
    context.lineTo(...next);
    context.stroke();
    last = next;
  });
  const end = () => (last = null);
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  return { clear };
}
