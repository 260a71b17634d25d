/**
 * tfjs-glassbox: inspectable deep networks for TensorFlow.js.
 *
 * The public entry point re-exports only. Importing it registers tfjs's gradients (through
 * tfjs-layers) and the package's layers for serialisation.
 * @packageDocumentation
 */
import '@tensorflow/tfjs-layers';

// --- core ---------------------------------------------------------------------------------------

// --- gradient family ----------------------------------------------------------------------------

// --- LRP ----------------------------------------------------------------------------------------

// --- perturbation and CAMs ----------------------------------------------------------------------

// --- interpretable layers -----------------------------------------------------------------------

// --- concept tools ------------------------------------------------------------------------------

// --- metrics ------------------------------------------------------------------------------------

// --- visualisation ------------------------------------------------------------------------------
