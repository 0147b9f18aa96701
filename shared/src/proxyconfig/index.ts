/** The ProxyConfig snapshot contract. */
export * from './fleet.js';
export * from './hash.js';
export * from './redact.js';
export * from './schema.js';
