/** Checking one part of a loosely typed request object with a stricter schema, from inside a zod refinement. */
import type { z } from 'zod';

/** Adds the issues `schema` finds in `value` to `ctx`, under `path` (relative to the value being refined). */
export function refineWith(schema: z.ZodType, value: unknown, ctx: z.RefinementCtx, path: PropertyKey[] = []): void {
  const r = schema.safeParse(value);
  if (!r.success)
    for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message, path: [...path, ...i.path] });
}
