import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm');
const cases: [number, number, number, number][] = [[56, 144, 24, 1], [112, 32, 96, 1], [14, 384, 64, 1], [7, 960, 320, 1], [28, 32, 192, 1]];
for (const [s, cin, cout, k] of cases) {
  const x = tf.randomNormal([1, s, s, cin]);
  const w = tf.randomNormal([k, k, cin, cout]);
  const b = tf.randomNormal([cout]);
  const time = (f: () => tf.Tensor) => { for (let i = 0; i < 3; i++) f().dispose(); const t = performance.now(); for (let i = 0; i < 30; i++) { const r = f(); r.dataSync(); r.dispose(); } return ((performance.now() - t) / 30).toFixed(2); };
  const same = time(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'));
  const fresh = time(() => tf.tidy(() => tf.conv2d(x as tf.Tensor4D, tf.clone(w) as tf.Tensor4D, 1, 'same')));
  const fused = time(() => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b }));
  const convAdd = time(() => tf.tidy(() => tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), b)));
  const mm = time(() => tf.tidy(() => tf.matMul(tf.reshape(x, [s * s, cin]), tf.reshape(w, [cin, cout]))));
  const mmFresh = time(() => tf.tidy(() => tf.matMul(tf.reshape(x, [s * s, cin]), tf.clone(tf.reshape(w, [cin, cout])))));
  console.log(`${s}²×${cin}→${cout} k${k}: conv same ${same}, fresh filter ${fresh}, fused+bias ${fused}, conv+add ${convAdd}, matMul ${mm}, matMul fresh ${mmFresh} ms`);
}
