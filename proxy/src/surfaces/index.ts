/** The client surfaces the traffic app serves, and which one a path belongs to (for error shapes). */
import type { Hono } from 'hono';
import type { Env } from '../env.js';
import { anthropicRoutes, anthropicSurface, ownsAnthropicPath } from './anthropic/routes.js';
import type { SurfaceDeps } from './handle.js';
import { ollamaRoutes, ollamaSurface, ownsOllamaPath } from './ollama/routes.js';
import { openAIRoutes, openAISurface } from './openai/routes.js';
import type { Surface, SurfaceName } from './types.js';

export interface SurfaceModule {
  surface: Surface;
  /** Path prefixes that belong to this surface (for 404s and errors raised before a handler runs). */
  owns(path: string): boolean;
  routes(deps: SurfaceDeps): Hono<Env>;
}

/** Order matters: the first module that owns a path shapes its errors, and earlier routes win; OpenAI is the default. */
export const SURFACES: SurfaceModule[] = [
  { surface: anthropicSurface, owns: ownsAnthropicPath, routes: anthropicRoutes },
  { surface: ollamaSurface, owns: ownsOllamaPath, routes: ollamaRoutes },
  { surface: openAISurface, owns: () => true, routes: openAIRoutes },
];

/** The surface whose error shape a response for `path` must use. */
export function surfaceFor(path: string, name?: SurfaceName): Surface {
  if (name) {
    const byName = SURFACES.find((s) => s.surface.name === name);
    if (byName) return byName.surface;
  }
  return (SURFACES.find((s) => s.owns(path)) ?? (SURFACES[0] as SurfaceModule)).surface;
}
