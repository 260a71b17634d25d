/**
 * Sprites: a small data set with known generative factors, in the spirit of dSprites (Matthey et al.
 * 2017), generated offline and deterministically from a seed. Every image shows one sprite on a dark,
 * slightly noisy background; its six factors are drawn independently and uniformly:
 *
 * - `shape`: square, ellipse (axes 1 : 0.55) or equilateral triangle (discrete, 3);
 * - `colour`: red, green or blue-ish (discrete, 3);
 * - `scale`: half-size 4–7 px (continuous);
 * - `rotation`: 0–90° (continuous; every shape is distinguishable from its rotations in that range);
 * - `x`, `y`: the sprite's centre, 8–24 px on a 32-px canvas (continuous).
 *
 * Edges are anti-aliased by 3×3 supersampling, so position and scale change pixels smoothly.
 */
import { seededRandom } from './mnist';

export const SPRITE_SHAPES = ['square', 'ellipse', 'triangle'] as const;
export const SPRITE_COLOURS = ['red', 'green', 'blue'] as const;
const RGB: [number, number, number][] = [
  [0.95, 0.25, 0.2],
  [0.25, 0.85, 0.3],
  [0.3, 0.45, 1],
];

/** Images and their factors. */
export interface SpriteSet {
  /** `count` images of `size × size × 3` (NHWC), values in [0, 1]. */
  images: Float32Array;
  shape: Int32Array;
  colour: Int32Array;
  scale: Float32Array;
  /** Radians, in [0, π/2). */
  rotation: Float32Array;
  x: Float32Array;
  y: Float32Array;
  count: number;
  size: number;
}

const SUBSAMPLES = 3;

/** Is the point (u, v) of the sprite's own frame (unit half-size) inside `shape`? */
function inside(shape: number, u: number, v: number): boolean {
  if (shape === 0) return Math.abs(u) <= 0.85 && Math.abs(v) <= 0.85;
  if (shape === 1) return u * u + (v / 0.55) ** 2 <= 1;
  // Equilateral triangle with circumradius 1, a vertex at angle −90°.
  for (let k = 0; k < 3; k++) {
    const angle = (2 * Math.PI * k) / 3 + Math.PI / 2;
    if (u * Math.cos(angle) + v * Math.sin(angle) > 0.5) return false;
  }
  return true;
}

/** `count` sprites on `size × size` canvases, generated from `seed`. */
export function spriteSet(count: number, seed = 1, size = 32): SpriteSet {
  const random = seededRandom(seed);
  const set: SpriteSet = {
    images: new Float32Array(count * size * size * 3),
    shape: new Int32Array(count),
    colour: new Int32Array(count),
    scale: new Float32Array(count),
    rotation: new Float32Array(count),
    x: new Float32Array(count),
    y: new Float32Array(count),
    count,
    size,
  };
  const margin = 8 * (size / 32);
  for (let n = 0; n < count; n++) {
    const shape = Math.floor(random() * SPRITE_SHAPES.length);
    const colour = Math.floor(random() * SPRITE_COLOURS.length);
    const scale = (4 + 3 * random()) * (size / 32);
    const rotation = (Math.PI / 2) * random();
    const cx = margin + (size - 2 * margin) * random();
    const cy = margin + (size - 2 * margin) * random();
    set.shape[n] = shape;
    set.colour[n] = colour;
    set.scale[n] = scale;
    set.rotation[n] = rotation;
    set.x[n] = cx;
    set.y[n] = cy;
    const [cos, sin] = [Math.cos(rotation), Math.sin(rotation)];
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        let covered = 0;
        for (let a = 0; a < SUBSAMPLES; a++) {
          for (let b = 0; b < SUBSAMPLES; b++) {
            const dx = j + (b + 0.5) / SUBSAMPLES - cx;
            const dy = i + (a + 0.5) / SUBSAMPLES - cy;
            if (inside(shape, (cos * dx + sin * dy) / scale, (-sin * dx + cos * dy) / scale)) covered++;
          }
        }
        const coverage = covered / SUBSAMPLES ** 2;
        const offset = ((n * size + i) * size + j) * 3;
        for (let c = 0; c < 3; c++) set.images[offset + c] = 0.08 * random() + coverage * RGB[colour][c] * 0.9;
      }
    }
  }
  return set;
}
