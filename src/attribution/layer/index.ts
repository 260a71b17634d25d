/** Layer and neuron attribution (Captum's layer and neuron families) and per-token scores of text models. */
export { layerActivation, type LayerActivationOptions } from './layer-activation';
export { layerIntegratedGradients, type LayerIntegratedGradientsOptions } from './layer-integrated-gradients';
export { layerConductance, type LayerConductanceOptions } from './layer-conductance';
export { layerGradientXActivation, type LayerGradientXActivationOptions } from './layer-gradient-x-activation';
export { neuronGradient, type NeuronOptions } from './neuron-gradient';
export { neuronIntegratedGradients, type NeuronIntegratedGradientsOptions } from './neuron-integrated-gradients';
export { tokenAttributions } from './token-attributions';
