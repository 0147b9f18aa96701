/**
 * The priority of a call at its pool (docs/priority.md): the class a tenant allowed to choose asks for in its header
 * (among its allowed ones), else the routing rule's, else the tenant's, else standard. The flow is the caller's
 * tenant (one queue per tenant within a class), weighted by the tenant's weight. A tenant's settings apply only to
 * pools its policy covers (protection follows the pool); a client cannot raise its class any other way: a header
 * from a tenant not allowed to set it, or naming a class it may not ask for, changes nothing.
 */
import type { PolicyConfig, PoolConfig, QueueDiscipline } from '../../../shared/src/proxyconfig/index.js';
import type { AuthorizedCall } from '../call/call.js';
import { DEFAULT_PRIORITY, type Priority, type PriorityClass, parseClass } from './classes.js';

type TenantConfig = PolicyConfig['tenants'][number];

export interface ClassifyInput {
  /** The pool's queue discipline: fifo ignores classes and tenants. */
  discipline: QueueDiscipline;
  /** The class the routing rules give the call at its pool, if any. */
  rule: PriorityClass | undefined;
  /** The caller's tenant: the policy holding its key and its name. */
  caller: { policy: string; tenant: string } | undefined;
  /** The caller's tenant entry when its policy covers the pool (else its settings do not apply there). */
  tenant: TenantConfig | undefined;
  header(name: string): string | undefined;
}

/** The class, flow and weight of a call. */
export function classify(input: ClassifyInput): Priority {
  if (input.discipline === 'fifo') return DEFAULT_PRIORITY;
  const t = input.tenant;
  const caller = input.caller;
  const asked = t?.priorityHeader ? parseClass(input.header(t.priorityHeader.name)) : undefined;
  const allowed = asked !== undefined && (t?.priorityHeader?.allowed.includes(asked) ?? false);
  const [cls, source]: [PriorityClass, Priority['source']] =
    allowed && asked
      ? [asked, 'header']
      : input.rule
        ? [input.rule, 'rule']
        : t?.priority
          ? [t.priority, 'tenant']
          : ['standard', 'default'];
  if (!caller) return { ...DEFAULT_PRIORITY, cls, source };
  return { cls, flow: `${caller.policy}/${caller.tenant}`, weight: t?.weight ?? 1, tenant: caller.tenant, source };
}

/** The priority of `call` at the pool its route selected (`pool`): its rules, its caller's tenant, its header. */
export function priorityOf(call: AuthorizedCall, pool: PoolConfig): Priority {
  const identity = call.grant.identity;
  const own = call.grant.own;
  const covered = own !== undefined && call.runtime.directory.covering(pool.id).includes(own);
  return classify({
    discipline: pool.scheduling.queue.discipline ?? 'fair',
    rule: call.route.priority,
    caller: identity && { policy: identity.policy, tenant: identity.tenant },
    tenant: covered ? call.grant.tenant : undefined,
    header: call.header,
  });
}
