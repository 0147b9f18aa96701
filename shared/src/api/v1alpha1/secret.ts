/** The core/v1 Secret fields translation reads (standalone manifests may carry Secrets next to the CRs). */
import { z } from 'zod';
import { objectMeta } from './common.js';

export const secret = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Secret'),
  metadata: objectMeta,
  data: z.record(z.string(), z.string()).optional(),
  stringData: z.record(z.string(), z.string()).optional(),
  type: z.string().optional(),
});
export type Secret = z.infer<typeof secret>;

/** Value of one key of a Secret (`stringData` wins, `data` is base64), or undefined. */
export function secretValue(s: Secret, key: string): string | undefined {
  const plain = s.stringData?.[key];
  if (plain !== undefined) return plain;
  const encoded = s.data?.[key];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}
