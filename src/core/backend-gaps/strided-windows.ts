import * as tf from '@tensorflow/tfjs-core';

/** Spatial border sizes of an NHWC tensor; a negative size crops instead of padding. */
export interface SpatialBorder {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Pads (or, for negative sizes, crops) the two spatial axes of an NHWC tensor with `value`. */
export function padSpatial(x: tf.Tensor4D, border: SpatialBorder, value = 0): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const cropTop = Math.max(-border.top, 0);
  const cropLeft = Math.max(-border.left, 0);
  const keptHeight = h - cropTop - Math.max(-border.bottom, 0);
  const keptWidth = w - cropLeft - Math.max(-border.right, 0);
  const cropped =
    cropTop || cropLeft || keptHeight !== h || keptWidth !== w
      ? tf.slice(x, [0, cropTop, cropLeft, 0], [n, keptHeight, keptWidth, c])
      : x;
  const padTop = Math.max(border.top, 0);
  const padBottom = Math.max(border.bottom, 0);
  const padLeft = Math.max(border.left, 0);
  const padRight = Math.max(border.right, 0);
  if (!padTop && !padBottom && !padLeft && !padRight) return cropped;
  return tf.pad(cropped, [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]], value);
}

/**
 * The input values one filter tap sees at every output position of a strided window operation:
 * `out[n, i, j, c] = x[n, rowOffset + i·strideHeight, colOffset + j·strideWidth, c]` for
 * `i < outHeight`, `j < outWidth` (x already padded). Built from contiguous 4-D slices and reshapes
 * (every `s`-th row is the first of each block of `s` rows): wasm's strided `StridedSlice` and its
 * slices of rank 5 are several times slower.
 */
export function windowTap(
  x: tf.Tensor4D,
  rowOffset: number,
  colOffset: number,
  outHeight: number,
  outWidth: number,
  [strideHeight, strideWidth]: [number, number],
): tf.Tensor4D {
  const rows = everyNth(x, rowOffset, outHeight, strideHeight, 1);
  return everyNth(rows, colOffset, outWidth, strideWidth, 2);
}

/** Entries `offset + i·stride` (`i < count`) along spatial `axis` (1 or 2) of an NHWC tensor. */
function everyNth(x: tf.Tensor4D, offset: number, count: number, stride: number, axis: 1 | 2): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const size = axis === 1 ? h : w;
  // A block of count·stride entries from offset; the entries after the last one read may lie past
  // the edge: pad them (their values are dropped).
  const available = Math.min(count * stride, size - offset);
  const begin: [number, number, number, number] = axis === 1 ? [0, offset, 0, 0] : [0, 0, offset, 0];
  const sliceSize: [number, number, number, number] = axis === 1 ? [n, available, w, c] : [n, h, available, c];
  let block = tf.slice(x, begin, sliceSize);
  const missing = count * stride - available;
  if (missing > 0) block = tf.pad(block, axis === 1 ? [[0, 0], [0, missing], [0, 0], [0, 0]] : [[0, 0], [0, 0], [0, missing], [0, 0]]);
  if (stride === 1) return block as tf.Tensor4D;
  if (axis === 1) {
    const blocks = tf.reshape(block, [n * count, stride, w, c]);
    return tf.reshape(tf.slice(blocks, [0, 0, 0, 0], [n * count, 1, w, c]), [n, count, w, c]);
  }
  const blocks = tf.reshape(block, [n, h, count, stride * c]);
  return tf.slice(blocks, [0, 0, 0, 0], [n, h, count, c]) as tf.Tensor4D;
}

/**
 * Follows every row of an NHWC tensor by `strideHeight − 1` zero rows and every column by
 * `strideWidth − 1` zero columns: `[n, h, w, c]` becomes `[n, h·strideHeight, w·strideWidth, c]` with
 * `out[n, i·sh, j·sw, c] = x[n, i, j, c]`. One pad of a reshaped view per axis, no slicing (the trailing
 * zeros are absorbed by the caller's border).
 */
function spreadWithTrailingZeros(x: tf.Tensor4D, [strideHeight, strideWidth]: [number, number]): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  let out = x;
  if (strideHeight > 1) {
    const rows = tf.pad(tf.reshape(out, [n, h, 1, w * c]), [[0, 0], [0, 0], [0, strideHeight - 1], [0, 0]]);
    out = tf.reshape(rows, [n, h * strideHeight, w, c]);
  }
  if (strideWidth > 1) {
    const height = out.shape[1];
    const cols = tf.pad(tf.reshape(out, [n * height, w, 1, c]), [[0, 0], [0, 0], [0, strideWidth - 1], [0, 0]]);
    out = tf.reshape(cols, [n, height, w * strideWidth, c]);
  }
  return out;
}

/**
 * Places `g[n, i, j, c]` at `[n, top + i·sh, left + j·sw, c]` of a `[n, height, width, c]` grid of zeros
 * (positions past the grid are dropped): the transpose of {@link windowTap}, which scatters one value per
 * output position back onto the grid positions that the tap read.
 */
export function placeWindowTap(
  g: tf.Tensor4D,
  top: number,
  left: number,
  [height, width]: [number, number],
  strides: [number, number],
): tf.Tensor4D {
  const spread = spreadWithTrailingZeros(g, strides);
  return padSpatial(spread, {
    top,
    bottom: height - top - spread.shape[1],
    left,
    right: width - left - spread.shape[2],
  });
}

/**
 * The output gradient `dy` of a strided convolution laid out so that a stride-1 'valid' correlation
 * with the spatially flipped filter gives the input gradient: `s − 1` zeros between rows and columns,
 * then padded by `f_eff − 1 − p` before (and up to the input size after), where `f_eff` is the
 * dilated filter size and `p` the forward padding (negative sizes crop).
 */
export function spreadForInputGradient(dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  return placeWindowTap(
    dy,
    info.effectiveFilterHeight - 1 - info.padInfo.top,
    info.effectiveFilterWidth - 1 - info.padInfo.left,
    [info.inHeight + info.effectiveFilterHeight - 1, info.inWidth + info.effectiveFilterWidth - 1],
    [info.strideHeight, info.strideWidth],
  );
}
