/**
 * Keeps a translation problem with the resource that has it: one resource's translation runs here, and an
 * exception or an output the snapshot schema refuses becomes a Problem on that resource (Accepted=False), never an
 * exception that stops the snapshot of every other resource.
 */
import type { z } from 'zod';
import { formatZodIssues } from '../manifests/parse.js';
import type { Problem } from './problems.js';

/** The resource a translation step works on. */
export interface Subject {
  kind: Problem['kind'];
  namespace: string;
  name: string;
}

/**
 * Returns `build()` validated by `schema`, or undefined (with a problem) when it throws or the result does not
 * validate. `build` may itself return undefined after recording its own problems.
 */
export function isolate<T>(
  subject: Subject,
  schema: z.ZodType<T>,
  problems: Problem[],
  build: () => T | undefined,
): T | undefined {
  const fail = (reason: string, message: string) =>
    problems.push({ ...subject, field: 'spec', reason, message, condition: 'Accepted' });
  let out: T | undefined;
  try {
    out = build();
  } catch (err) {
    fail('TranslationFailed', `the resource could not be translated: ${err instanceof Error ? err.message : err}`);
    return undefined;
  }
  if (out === undefined) return undefined;
  const parsed = schema.safeParse(out);
  if (parsed.success) return parsed.data;
  fail('Untranslatable', `the translated configuration is invalid: ${formatZodIssues(parsed.error).join('; ')}`);
  return undefined;
}
