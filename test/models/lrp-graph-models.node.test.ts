/**
 * LRP on real converted TensorFlow GraphModels shipped in npm packages: nsfwjs's MobileNetV2
 * (`mobilenet_v2_mid`) and @vladmandic/human's emotion, antispoof (sigmoid output) and liveness
 * (BatchNorm after ReLU as Mul/Add) models, one image each. The compiled program computes the model's
 * output; with the biases zeroed (the models' own weight maps, restored afterwards) LRP-0 equals
 * gradient × input of the logit and conserves it. Runs once, in the node-cpu project, on wasm for speed.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import type * as tfc from '@tensorflow/tfjs-converter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGraphModel } from '../../src/attribution/lrp/graph-model';
import { readGraph, type GraphDefNode } from '../../src/attribution/lrp/graph-model-source';
import { forwardValues } from '../../src/attribution/lrp/propagate';
import { composites, lrp } from '../../src/index';
import { withBackendGapFixesSync } from '../../src/advanced';
import { loadHumanGraphModel, loadMobileNetV2GraphModel } from '../../examples/models/pretrained';
import { expectClose, expectNoLeak } from '../helpers';

const onCpuProject = process.env.GLASSBOX_BACKEND === 'cpu';

/** The node whose value is the logit: the input of the final Softmax or Sigmoid (behind Identity nodes). */
function logitNode(nodes: GraphDefNode[], output: string): string {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  let node = byName.get(output)!;
  while (node.op === 'Identity') node = byName.get(node.input![0])!;
  expect(['Softmax', 'Sigmoid']).toContain(node.op);
  return node.input![0];
}

/**
 * The constants that act as biases (BiasAdd, Add/AddV2/Sub with a constant, the fused BiasAdd
 * argument, FusedBatchNorm's offset and mean), replaced by zeros in the model's own weight map.
 * Returns a function that restores them.
 */
function zeroBiases(model: tfc.GraphModel, nodes: GraphDefNode[]): () => void {
  const constants = new Set(nodes.filter((n) => n.op === 'Const').map((n) => n.name));
  const biases = new Set<string>();
  for (const node of nodes) {
    const inputs = node.input ?? [];
    const fusedOps = (node.attr?.fused_ops as { list?: { s?: string[] } } | undefined)?.list?.s?.map((s) => atob(s)) ?? [];
    if (['BiasAdd', 'Add', 'AddV2', 'Sub'].includes(node.op)) inputs.filter((i) => constants.has(i)).forEach((i) => biases.add(i));
    if (fusedOps[0] === 'BiasAdd') biases.add(inputs[2]);
    if (node.op.startsWith('FusedBatchNorm')) [inputs[2], inputs[3]].forEach((i) => biases.add(i));
  }
  const weights = model.weights as Record<string, tf.Tensor[]>;
  const originals = new Map([...biases].map((name) => [name, weights[name]]));
  biases.forEach((name) => (weights[name] = [tf.zerosLike(originals.get(name)![0])]));
  return () =>
    originals.forEach((original, name) => {
      weights[name][0].dispose();
      weights[name] = original;
    });
}

/** Σ R of LRP-0 and the logit, for `x`. */
async function conservation(model: tfc.GraphModel, x: tf.Tensor, logits: string, target: number): Promise<void> {
  const relevance = await lrp(model, x, { target, composite: 'epsilon', epsilon: 0 });
  const sum = tf.reshape(tf.sum(relevance), [1]);
  const logit = tf.tidy(() => tf.reshape(tf.slice(model.execute(x, logits) as tf.Tensor, [0, target], [-1, 1]), [-1]));
  await expectClose(sum, logit, 2e-3);
  [relevance, sum, logit].forEach((t) => t.dispose());
}

/**
 * Checks the compiled program against the model on `x`; then, biases zeroed, LRP-0 against gradient ×
 * input on `x·dim` and conservation on `x`. `dim` < 1 keeps ReLU6 below its clip: a clipped network is
 * not positively homogeneous, so there LRP-0 (which passes relevance through the clip) conserves the
 * logit but is not gradient × input.
 */
async function checkModel(model: tfc.GraphModel, x: tf.Tensor, target: number, dim = 1): Promise<void> {
  const graph = await readGraph(model);
  const logits = logitNode(graph.nodes, graph.outputs[0]);
  // Faithful: the program's output (probability re-applied) is the model's.
  const program = await compileGraphModel(model, { composite: composites.epsilon(), canonize: [] });
  const [ours, theirs] = tf.tidy(() => {
    const score = forwardValues(program, x)[program.output];
    return [program.strippedActivation === 'sigmoid' ? tf.sigmoid(score) : tf.softmax(score), model.predict(x) as tf.Tensor];
  });
  await expectClose(ours, theirs, 1e-4);
  [ours, theirs].forEach((t) => t.dispose());
  program.dispose();
  // Bias-free: LRP-0 = gradient × input of the logit, and Σ R = logit.
  const restore = zeroBiases(model, graph.nodes);
  const dimmed = tf.mul(x, dim);
  try {
    if (dim !== 1) await conservation(model, x, logits, target);
    const relevance = await expectNoLeak(() => lrp(model, dimmed, { target, composite: 'epsilon', epsilon: 0 }));
    const [reference, logit] = withBackendGapFixesSync(() =>
      tf.tidy(() => {
        const score = (v: tf.Tensor) => tf.slice(model.execute(v, logits) as tf.Tensor, [0, target], [-1, 1]);
        return [tf.mul(dimmed, tf.grad((v: tf.Tensor) => tf.sum(score(v)))(dimmed)), tf.reshape(score(dimmed), [-1])];
      }),
    );
    await expectClose(relevance, reference, 2e-3);
    const sum = tf.reshape(tf.sum(relevance), [1]);
    await expectClose(sum, logit, 2e-3);
    expect(Math.abs((await logit.data())[0])).toBeGreaterThan(1e-3);
    [relevance, reference, logit, sum].forEach((t) => t.dispose());
  } finally {
    dimmed.dispose();
    restore();
  }
}

describe.runIf(onCpuProject)('LRP on pretrained GraphModels from npm packages', () => {
  beforeAll(() => tf.setBackend('wasm'));
  afterAll(() => tf.setBackend('cpu'));

  for (const [name, shape, target] of [
    ['emotion', [1, 64, 64, 1], 3],
    ['antispoof', [1, 128, 128, 3], 0],
    ['liveness', [1, 32, 32, 3], 1],
  ] as const) {
    it(`human's ${name}: faithful, LRP-0 = gradient × input and conserved without biases`, async () => {
      const model = await loadHumanGraphModel(name);
      const x = tf.randomUniform([...shape], 0, 1, 'float32', 5);
      await checkModel(model, x, target);
      x.dispose();
      model.dispose();
    });
  }

  it("nsfwjs's MobileNetV2 GraphModel (mobilenet_v2_mid): faithful, LRP-0 = gradient × input and conserved without biases", async () => {
    const model = await loadMobileNetV2GraphModel();
    const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 6);
    await checkModel(model, x, 2, 0.02);
    x.dispose();
    model.dispose();
  });
});
