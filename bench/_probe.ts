import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { loadInceptionV3, loadMobileNetV2 } from '../examples/models/pretrained';
import { saliency } from '../src/index';
const backend = process.argv[2] ?? 'wasm';
await tf.setBackend(backend);
for (const [name, load, size] of [['mnv2', loadMobileNetV2, 224], ['incv3', loadInceptionV3, 299]] as const) {
  const m = await load();
  const x = tf.randomUniform([1, size, size, 3], 0, 1, 'float32', 2);
  for (let i = 0; i < 2; i++) {
    let c = process.cpuUsage(); let t = performance.now();
    const p = m.predict(x) as tf.Tensor; await p.data(); p.dispose();
    const pc = process.cpuUsage(c); const pt = performance.now() - t;
    c = process.cpuUsage(); t = performance.now();
    const s = await saliency(m, x, { target: 2 }); await s.data(); s.dispose();
    const sc = process.cpuUsage(c); const st = performance.now() - t;
    console.log(backend, name, 'predict', ((pc.user + pc.system) / 1000).toFixed(0), pt.toFixed(0), 'saliency', ((sc.user + sc.system) / 1000).toFixed(0), st.toFixed(0));
  }
}
