/**
 * The models the playground ships (served from its own folder, so it works offline), described as
 * plain data both the page and the worker read. To add a model: put its `model.json` + weights under
 * `public/models/<id>/` (examples/playground/prepare.ts) and add one entry here.
 */

/** A model the playground can explain. */
export interface ModelInfo {
  id: string;
  label: string;
  /** `model.json` relative to the site's root. */
  url: string;
  /** Input height = width, and channels (1 grey, 3 RGB); pixel values in [0, 1]. */
  size: number;
  channels: 1 | 3;
  /** Class names in output order. */
  classes: readonly string[];
  /** Whether the model outputs logits (softmax applied for display) or probabilities. */
  outputs: 'logits' | 'probabilities';
  /** Inputs per model call; small for big models so that Cancel answers quickly. */
  batchSize: number;
  /** How an uploaded picture becomes an input: MNIST wants a white digit on black, centred. */
  preprocess: 'digit' | 'photo';
  /** The layer Grad-CAM starts on (the last convolution with spatial resolution left). */
  camLayer: string;
  /** A few words on where the model comes from. */
  about: string;
}

export const MODELS: readonly ModelInfo[] = [
  {
    id: 'mnist-cnn',
    label: 'MNIST CNN (28×28 digits)',
    url: 'models/mnist-cnn/model.json',
    size: 28,
    channels: 1,
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    outputs: 'logits',
    batchSize: 64,
    preprocess: 'digit',
    camLayer: 'conv2',
    about: "The demo's conv(8)–pool–conv(16)–pool–dense CNN, trained on 3,000 real MNIST digits (examples/mnist-cnn.ts).",
  },
  {
    id: 'mobilenet-v2',
    label: 'MobileNetV2 (224×224, nsfwjs)',
    url: 'models/mobilenet-v2/model.json',
    size: 224,
    channels: 3,
    classes: ['drawing', 'hentai', 'neutral', 'porn', 'sexy'],
    outputs: 'probabilities',
    batchSize: 4,
    preprocess: 'photo',
    camLayer: 'block_16_project',
    about: 'A pretrained MobileNetV2 image classifier (5 classes) from the nsfwjs package.',
  },
];

/** The model with `id`. */
export function modelInfo(id: string): ModelInfo {
  const found = MODELS.find((m) => m.id === id);
  if (!found) throw new Error(`unknown model '${id}'`);
  return found;
}
