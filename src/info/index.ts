/**
 * Information analysis of representations (Xu et al. 2018, "Deeper Interpretability of Deep Networks")
 * with the Gaussian-copula estimators of Ince et al. 2017 (the gcmi toolbox): how much a variable, a
 * layer or each of its units carries about a generative factor, in bits. Samples are on the first axis
 * (`[N, D]`, or `[N]` for one variable); computations run on the backend.
 * @module
 */
export { copnorm } from './copnorm';
export { gaussianEntropy, gaussianMI, gaussianCMI, type GaussianOptions } from './gaussian-information';
export { gcmi, gccmi } from './gcmi';
export { gcmiDiscrete, gccmiDiscrete } from './gcmi-discrete';
export { unitInformation, type UnitInformationOptions } from './unit-information';
export type { ContinuousFactor, DiscreteFactor, Factor } from './factor';
export type { Labels } from './samples';
export type { TieOptions } from './ties';
