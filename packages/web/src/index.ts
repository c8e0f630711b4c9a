export { createWebHandler, loopbackHosts } from './web-handler';
export type { WebHandler, WebHandlerOptions } from './web-handler';
export type { WebAuth } from './security';
export { toNodeListener } from './node-listener';
export type { NodeListener } from './node-listener';
export type * from './api-types';
