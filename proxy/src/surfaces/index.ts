/** The client surfaces the traffic app serves, and which one a path belongs to (for error shapes). */
import type { Hono } from 'hono';
import type { Env } from '../env.js';
import type { SurfaceName } from '../protocols/catalog.js';
import { ERROR_SHAPES } from '../protocols/clients.js';
import type { ErrorShape } from '../protocols/types.js';
import { anthropicRoutes, ownsAnthropicPath } from './anthropic/routes.js';
import type { SurfaceDeps } from './handle.js';
import { ollamaRoutes, ownsOllamaPath } from './ollama/routes.js';
import { openAIRoutes } from './openai/routes.js';

export interface SurfaceModule {
  name: SurfaceName;
  /** Path prefixes that belong to this surface (for 404s and errors raised before a handler runs). */
  owns(path: string): boolean;
  routes(deps: SurfaceDeps): Hono<Env>;
}

/** Order matters: the first module that owns a path shapes its errors, and earlier routes win; OpenAI is the default. */
export const SURFACES: SurfaceModule[] = [
  { name: 'anthropic', owns: ownsAnthropicPath, routes: anthropicRoutes },
  { name: 'ollama', owns: ownsOllamaPath, routes: ollamaRoutes },
  { name: 'openai', owns: () => true, routes: openAIRoutes },
];

/** The surface a response for `path` belongs to (`name` when a handler already knows it). */
export function surfaceNameFor(path: string, name?: SurfaceName): SurfaceName {
  return name ?? (SURFACES.find((s) => s.owns(path)) ?? (SURFACES[0] as SurfaceModule)).name;
}

/** The error shape of a response for `path`. */
export function errorShapeFor(path: string, name?: SurfaceName): ErrorShape {
  return ERROR_SHAPES[surfaceNameFor(path, name)];
}
