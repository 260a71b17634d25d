/** Class-activation maps: Grad-CAM and its family, Zoom-CAM, Score-CAM, Eigen-CAM, guided Grad-CAM. */
export { gradCam, gradCamPlusPlus, xGradCam, layerCam, hiResCam, type CamOptions, type GradCamOptions } from './gradient-cams';
export { zoomCam, type ZoomCamOptions } from './zoom-cam';
export { scoreCam } from './score-cam';
export { eigenCam } from './eigen-cam';
export { guidedGradCam } from './guided-grad-cam';
