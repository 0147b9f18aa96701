/** How one upstream attempt ended: what the pipeline does next and what observers learn. */
import type { GatewayError } from '../errors.js';
import type { Usage } from '../protocols/canonical/usage.js';

/** Why a failed attempt failed, in RoutePolicy `retryOn` terms. */
export type FailureCause = 'connect-failure' | 'timeout' | '429' | '5xx';

export type AttemptOutcome =
  | {
      kind: 'done';
      /** What the upstream reported; for an `incomplete` stream only what it reported before the end (if anything). */
      usage?: Usage | undefined;
      streamError?: GatewayError;
      /** The stream ended early (client left, mid-stream failure): `usage` is partial at best. */
      incomplete?: boolean;
      /** The client ended it (left, or stopped reading): says nothing about the replica. */
      clientCaused?: boolean;
    }
  | {
      kind: 'retry';
      error: GatewayError;
      cause: FailureCause;
      retryAfterMs?: number | undefined;
      /** The upstream answered that it is still loading its model. */
      loading?: boolean;
    }
  | { kind: 'fatal'; error: GatewayError };
