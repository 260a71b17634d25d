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
 * Inserts `stride − 1` zeros between neighbouring rows and columns of an NHWC tensor:
 * `[n, h, w, c]` becomes `[n, (h−1)·strideHeight + 1, (w−1)·strideWidth + 1, c]`.
 */
export function dilateSpatial(x: tf.Tensor4D, [strideHeight, strideWidth]: [number, number]): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  let out = x;
  if (strideHeight > 1) {
    const rows = tf.pad(tf.reshape(out, [n, h, 1, w * c]), [[0, 0], [0, 0], [0, strideHeight - 1], [0, 0]]);
    const spread = tf.reshape(rows, [n, h * strideHeight, w, c]);
    out = tf.slice(spread, 0, [n, (h - 1) * strideHeight + 1, w, c]) as tf.Tensor4D;
  }
  if (strideWidth > 1) {
    const height = out.shape[1];
    const cols = tf.pad(tf.reshape(out, [n * height, w, 1, c]), [[0, 0], [0, 0], [0, strideWidth - 1], [0, 0]]);
    const spread = tf.reshape(cols, [n, height, w * strideWidth, c]);
    out = tf.slice(spread, 0, [n, height, (w - 1) * strideWidth + 1, c]) as tf.Tensor4D;
  }
  return out;
}

/**
 * The transpose of {@link windowTap}: scatters `g` (one value per output position) back onto the
 * positions of a `[n, height, width, c]` grid that the tap read, zeros elsewhere.
 */
export function placeWindowTap(
  g: tf.Tensor4D,
  rowOffset: number,
  colOffset: number,
  [height, width]: [number, number],
  strides: [number, number],
): tf.Tensor4D {
  const spread = dilateSpatial(g, strides);
  return padSpatial(spread, {
    top: rowOffset,
    bottom: height - rowOffset - spread.shape[1],
    left: colOffset,
    right: width - colOffset - spread.shape[2],
  });
}

/**
 * The output gradient `dy` of a strided convolution laid out so that a stride-1 'valid' correlation
 * with the spatially flipped filter gives the input gradient: `s − 1` zeros between rows and columns,
 * then padded by `f_eff − 1 − p` before (and up to the input size after), where `f_eff` is the
 * dilated filter size and `p` the forward padding (negative sizes crop).
 */
export function spreadForInputGradient(dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const spread = dilateSpatial(dy, [info.strideHeight, info.strideWidth]);
  const top = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const left = info.effectiveFilterWidth - 1 - info.padInfo.left;
  return padSpatial(spread, {
    top,
    bottom: info.inHeight + info.effectiveFilterHeight - 1 - spread.shape[1] - top,
    left,
    right: info.inWidth + info.effectiveFilterWidth - 1 - spread.shape[2] - left,
  });
}
