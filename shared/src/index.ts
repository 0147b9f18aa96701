/**
 * The contract between the control plane and the data plane. Must not import operator/, proxy/ or
 * @kubernetes/client-node (a test enforces it).
 */
export * from './api/v1alpha1/index.js';
export * from './clock.js';
export * from './manifests/parse.js';
export * from './proxyconfig/index.js';
export * from './translate/index.js';
