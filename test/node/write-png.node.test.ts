import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatTiles, heatmap } from '../../src/index';
import { writePng } from '../../src/node/index';
import { expectNoLeak, expectRejectsWithoutLeak, seededTensor } from '../helpers';

/** Reads a PNG back as RGBA bytes. */
async function readPng(path: string): Promise<{ width: number; height: number; data: Uint8Array; colorType: number }> {
  const png = pngjs.PNG.sync.read(await readFile(path));
  return { width: png.width, height: png.height, data: new Uint8Array(png.data), colorType: png.colorType };
}

describe('writePng', () => {
  let folder = '';
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'glassbox-png-'));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('writes float RGB in [0, 1] as round(255·v), read back pixel by pixel', async () => {
    const rgb = tf.tidy(() => tf.div(tf.add(seededTensor([1, 5, 7, 3], 9), 1), 2)); // [1, H, W, 3] in [0, 1)
    const file = join(folder, 'nested', 'float.png');
    await expectNoLeak(() => writePng(file, rgb));
    const png = await readPng(file);
    expect([png.width, png.height, png.colorType]).toEqual([7, 5, 2]);
    const values = await rgb.data();
    for (let p = 0; p < 35; p++) {
      for (let c = 0; c < 3; c++) expect(png.data[4 * p + c]).toBe(Math.round(values[3 * p + c]! * 255));
      expect(png.data[4 * p + 3]).toBe(255);
    }
    rgb.dispose();
  });

  it('writes int32 0..255, grey and RGBA images unchanged', async () => {
    const bytes = Array.from({ length: 4 * 3 * 4 }, (_, i) => (i * 37) % 256);
    const rgba = tf.tensor(bytes, [4, 3, 4], 'int32');
    await writePng(join(folder, 'rgba.png'), rgba);
    const back = await readPng(join(folder, 'rgba.png'));
    expect([back.width, back.height, back.colorType]).toEqual([3, 4, 6]);
    expect(Array.from(back.data)).toEqual(bytes);

    const grey = tf.tensor([[0, 0.5], [1, 0.25]]);
    await writePng(join(folder, 'grey.png'), grey);
    const g = await readPng(join(folder, 'grey.png'));
    expect(g.colorType).toBe(0);
    expect(Array.from(g.data)).toEqual([0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255, 64, 64, 64, 255]);
    [rgba, grey].forEach((t) => t.dispose());
  });

  it('writes a heatmap grid end to end', async () => {
    const attribution = seededTensor([2, 8, 8, 3], 4);
    const maps = heatmap(attribution, { sign: 'all' });
    const [first, second] = tf.unstack(maps);
    const grid = concatTiles([first!, second!], { padding: 2 });
    await writePng(join(folder, 'grid.png'), grid);
    const png = await readPng(join(folder, 'grid.png'));
    expect([png.width, png.height]).toEqual([18, 8]);
    const values = await grid.data();
    expect(Array.from(png.data.filter((_, i) => i % 4 !== 3))).toEqual(Array.from(values, (v) => Math.round(v * 255)));
    [attribution, maps, first!, second!, grid].forEach((t) => t.dispose());
  });

  it('rejects bad images with the fix in the message, without leaking', async () => {
    const file = join(folder, 'bad.png');
    const cases: [tf.Tensor, RegExp][] = [
      [tf.zeros([2, 2, 2, 3]), /rgb: expected a non-empty \[H, W\], \[H, W, 1 \| 3 \| 4\] or \[1, H, W, 1 \| 3 \| 4\] image, got shape \[2, 2, 2, 3\]/],
      [tf.zeros([2, 2, 2]), /got shape \[2, 2, 2\]/],
      [tf.zeros([2, 2, 3], 'bool'), /rgb: expected a float32 \(0\.\.1\) or int32 \(0\.\.255\) tensor, got dtype bool/],
      [tf.tensor([0, 255, 12, 3], [2, 2]), /rgb: expected float32 values in \[0, 1\], got values in \[0, 255\]; for 0\.\.255 data divide by 255 or cast to int32/],
      [tf.tensor([0, 256], [1, 2], 'int32'), /rgb: expected int32 values in 0\.\.255, got values in \[0, 256\]/],
      [tf.tensor([0, NaN], [1, 2]), /rgb: contains NaN/],
    ];
    for (const [image, pattern] of cases) {
      await expectRejectsWithoutLeak(() => writePng(file, image), pattern);
      image.dispose();
    }
    const ok = tf.zeros([1, 1, 3]);
    await expectRejectsWithoutLeak(() => writePng('', ok), /path: expected a non-empty file path, got ""/);
    ok.dispose();
  });
});
