import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { concatTiles } from '../../src/index';
import { expectNoLeak, expectRejectsWithoutLeak } from '../helpers';

/** Reads pixel (row, col) of an [H, W, 3] image. */
const pixel = (data: ArrayLike<number>, width: number, row: number, col: number) =>
  Array.from({ length: 3 }, (_, c) => data[(row * width + col) * 3 + c]);

describe('concatTiles', () => {
  it('lays one row out left to right with padding in the background colour', async () => {
    const red = tf.tile(tf.tensor([1, 0, 0], [1, 1, 3]), [2, 2, 1]); // 2×2
    const grey = tf.fill([3, 1, 1], 0.5); // 3×1, one channel
    const grid = await expectNoLeak(() => concatTiles([red, grey], { padding: 1, background: [0, 0, 1] }));
    expect(grid.shape).toEqual([3, 4, 3]);
    const v = await grid.data();
    expect(pixel(v, 4, 0, 0)).toEqual([1, 0, 0]);
    expect(pixel(v, 4, 1, 1)).toEqual([1, 0, 0]);
    expect(pixel(v, 4, 0, 2)).toEqual([0, 0, 1]); // padding column
    expect(pixel(v, 4, 2, 0)).toEqual([0, 0, 1]); // below the shorter tile
    for (let row = 0; row < 3; row++) expect(pixel(v, 4, row, 3)).toEqual([0.5, 0.5, 0.5]);
    [red, grey, grid].forEach((t) => t.dispose());
  });

  it('builds grids from rows, with blank cells, batched tiles and row/column sizes of the largest tile', async () => {
    const a = tf.fill([1, 2, 3, 3], 0.25); // [1, H, W, 3]
    const b = tf.fill([1, 1], 0.75); // [H, W]
    const grid = concatTiles([[a, null], [b, a]], { padding: 2 });
    // Rows: 2 + 2 + 2 = 6; columns: 3 + 2 + 3 = 8.
    expect(grid.shape).toEqual([6, 8, 3]);
    const v = await grid.data();
    expect(pixel(v, 8, 0, 0)).toEqual([0.25, 0.25, 0.25]);
    expect(pixel(v, 8, 0, 6)).toEqual([1, 1, 1]); // blank cell
    expect(pixel(v, 8, 4, 0)).toEqual([0.75, 0.75, 0.75]);
    expect(pixel(v, 8, 4, 1)).toEqual([1, 1, 1]);
    expect(pixel(v, 8, 5, 7)).toEqual([0.25, 0.25, 0.25]);
    const white = Array.from(v).filter((x) => x === 1).length;
    expect(white).toBe(3 * (6 * 8 - 2 * 6 - 1)); // everything but the three images
    [a, b, grid].forEach((t) => t.dispose());
  });

  it('rejects bad tiles and options clearly, without leaking', async () => {
    const tile = tf.zeros([2, 2, 3]);
    const batch = tf.zeros([2, 2, 2, 3]);
    const cases: [() => unknown, RegExp][] = [
      [() => concatTiles([]), /tiles: expected a non-empty array/],
      [() => concatTiles([tile, [tile]] as never), /tiles: expected either tiles \(one row\) or rows of tiles/],
      [() => concatTiles([[tile], [tile, batch]]), /tiles\[1\]\[1\]: expected a non-empty image .* got shape \[2, 2, 2, 3\]/],
      [() => concatTiles([[tile], [null]]), /tiles\[1\]: has no image/],
      [() => concatTiles([tile], { padding: -1 }), /options\.padding: expected an integer >= 0, got -1/],
      [() => concatTiles([tile], { background: [1, 1] as never }), /options\.background: expected a grey level or \[r, g, b\] in \[0, 1\], got \[1,1\]/],
    ];
    for (const [call, pattern] of cases) await expectRejectsWithoutLeak(async () => call(), pattern);
    [tile, batch].forEach((t) => t.dispose());
  });
});
