/**
 * Arranges images in a grid, for side-by-side comparisons (input, heatmaps of several methods, ...).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describeValue, GlassboxArgumentError } from '../core/errors';
import { assertInteger } from '../core/validate';

/** A grid cell: an image `[H, W]`, `[H, W, 1 | 3]` or `[1, H, W, 1 | 3]` in [0, 1], or `null` for a blank cell. */
export type Tile = tf.Tensor | null;

/** Options of {@link concatTiles}. */
export interface ConcatTilesOptions {
  /** Pixels between neighbouring cells (default 2). */
  padding?: number;
  /** Colour of the padding and of blank space: a grey level or `[r, g, b]`, in [0, 1] (default 1, white). */
  background?: number | readonly [number, number, number];
}

/**
 * Concatenates tiles into one float32 RGB image `[H, W, 3]` (caller disposes), ready for
 * `tf.browser.toPixels` or `writePng`. `tiles` is one row (`[a, b, c]`) or rows of tiles
 * (`[[a, b], [c, d]]`); a row's height is its tallest tile, a column's width its widest, and smaller
 * tiles sit in the top-left corner of their cell. Grey tiles are repeated over R, G, B.
 * @example
 * const grid = concatTiles([[image, heatmapA], [null, heatmapB]], { padding: 4 });
 */
export function concatTiles(tiles: readonly Tile[] | readonly (readonly Tile[])[], options: ConcatTilesOptions = {}): tf.Tensor3D {
  if (!Array.isArray(tiles) || tiles.length === 0) {
    throw new GlassboxArgumentError('tiles', `expected a non-empty array of tiles or of rows of tiles, got ${describeValue(tiles)}`);
  }
  const grid = tiles.every((row) => Array.isArray(row));
  if (!grid && tiles.some((row) => Array.isArray(row))) {
    throw new GlassboxArgumentError('tiles', 'expected either tiles (one row) or rows of tiles, not a mix of both');
  }
  const rows = (grid ? tiles : [tiles]) as readonly (readonly Tile[])[];
  const padding = options.padding ?? 2;
  assertInteger(padding, 'options.padding', 0);
  const background = resolveBackground(options.background);

  const sizes = rows.map((row, i) => row.map((tile, j) => tileSize(tile, grid ? `tiles[${i}][${j}]` : `tiles[${j}]`)));
  const columns = Math.max(...rows.map((row) => row.length));
  const rowHeights = sizes.map((row) => Math.max(0, ...row.map((s) => s?.[0] ?? 0)));
  const columnWidths = Array.from({ length: columns }, (_, j) => Math.max(0, ...sizes.map((row) => row[j]?.[1] ?? 0)));
  rowHeights.forEach((h, i) => {
    if (h === 0) throw new GlassboxArgumentError(grid ? `tiles[${i}]` : 'tiles', 'has no image (only blank cells)');
  });
  columnWidths.forEach((w, j) => {
    if (w === 0) throw new GlassboxArgumentError('tiles', `column ${j} has no image (only blank cells)`);
  });

  return tf.tidy(() => {
    const fill = tf.tensor1d(background);
    const rowImages = rows.map((row, i) => {
      const height = rowHeights[i]! + (i < rows.length - 1 ? padding : 0);
      const cells = columnWidths.map((columnWidth, j) => {
        const width = columnWidth + (j < columns - 1 ? padding : 0);
        const tile = row[j];
        if (tile === undefined || tile === null) return tf.add(tf.zeros([height, width, 3]), fill);
        const rgb = toRgb(tile);
        const [h, w] = rgb.shape;
        // Shift so the background is 0, pad with zeros, shift back: padding in any colour.
        return tf.add(tf.pad(tf.sub(rgb, fill), [[0, height - h], [0, width - w], [0, 0]]), fill);
      });
      return tf.concat(cells, 1);
    });
    return tf.concat(rowImages, 0) as tf.Tensor3D;
  });
}

/** `[height, width]` of a tile, or undefined for a blank cell; throws on anything else. */
function tileSize(tile: Tile | undefined, argument: string): [number, number] | undefined {
  if (tile === null || tile === undefined) return undefined;
  if (!(tile instanceof tf.Tensor) || tile.isDisposed) {
    throw new GlassboxArgumentError(argument, `expected a live tf.Tensor or null, got ${describeValue(tile)}`);
  }
  const shape = tile.rank === 4 && tile.shape[0] === 1 ? tile.shape.slice(1) : tile.shape;
  const channelsOk = shape.length === 2 || (shape.length === 3 && (shape[2] === 1 || shape[2] === 3));
  if (!channelsOk || tile.size === 0) {
    throw new GlassboxArgumentError(
      argument,
      `expected a non-empty image [H, W], [H, W, 1 | 3] or [1, H, W, 1 | 3], got shape [${tile.shape.join(', ')}]`,
    );
  }
  return [shape[0]!, shape[1]!];
}

function toRgb(tile: tf.Tensor): tf.Tensor3D {
  const [height, width] = tile.rank === 4 ? tile.shape.slice(1) : tile.shape;
  const image = tf.reshape(tf.cast(tile, 'float32'), [height!, width!, -1]);
  return (image.shape[2] === 1 ? tf.tile(image, [1, 1, 3]) : image) as tf.Tensor3D;
}

function resolveBackground(background: ConcatTilesOptions['background']): number[] {
  const value = background ?? 1;
  const rgb = typeof value === 'number' ? [value, value, value] : Array.isArray(value) && value.length === 3 ? [...value] : undefined;
  if (rgb === undefined || !rgb.every((c) => typeof c === 'number' && c >= 0 && c <= 1)) {
    throw new GlassboxArgumentError(
      'options.background',
      `expected a grey level or [r, g, b] in [0, 1], got ${describeValue(background)}`,
    );
  }
  return rgb;
}
