/**
 * Where the shared Redis is, from one URL (flag `--redis-url`, chart `redis.url`):
 * - `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS): one server;
 * - `redis+sentinel://[user:password@]sentinel1:26379,sentinel2:26379/<master name>[/db]` (or `rediss+sentinel://`):
 *   the master a set of Sentinels names, followed through failovers; `?sentinelPassword=` if the Sentinels want one;
 * - `redis+cluster://[user:password@]node1:6379,node2:6379` (or `rediss+cluster://`): a Redis Cluster, found from
 *   any of the seed nodes.
 * The credentials are secret: no error message repeats the URL.
 */

/** A host and port. */
export interface RedisNode {
  host: string;
  port: number;
}

interface Auth {
  username?: string;
  password?: string;
  tls: boolean;
}

export type RedisTarget =
  | (Auth & { mode: 'single'; url: string })
  | (Auth & { mode: 'sentinel'; sentinels: RedisNode[]; master: string; db: number; sentinelPassword?: string })
  | (Auth & { mode: 'cluster'; nodes: RedisNode[] });

/** A Redis URL that cannot be used; the message never contains the URL itself. */
export class RedisUrlError extends Error {
  constructor(message: string) {
    super(`redis URL: ${message}`);
    this.name = 'RedisUrlError';
  }
}

function nodes(list: string, defaultPort: number): RedisNode[] {
  const out = list.split(',').map((hp) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(hp.trim());
    if (!m) throw new RedisUrlError(`cannot read host:port number ${list.split(',').indexOf(hp) + 1}`);
    const port = m[2] === undefined ? defaultPort : Number(m[2]);
    if (port < 1 || port > 65535) throw new RedisUrlError('port out of range');
    return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
  });
  if (out.length === 0) throw new RedisUrlError('no host given');
  return out;
}

/** Reads a Redis URL; throws RedisUrlError when it is not one of the forms above. */
export function parseRedisUrl(url: string): RedisTarget {
  const m = /^(rediss?)(?:\+(sentinel|cluster))?:\/\/(?:([^@/]*)@)?([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/.exec(
    url.trim(),
  );
  if (!m) throw new RedisUrlError('expected redis://, rediss://, redis+sentinel:// or redis+cluster://');
  const [, scheme, kind, userinfo, hosts = '', path = '', query = ''] = m;
  const auth: Auth = { tls: scheme === 'rediss' };
  if (userinfo) {
    const at = userinfo.indexOf(':');
    const user = decodeURIComponent(at < 0 ? userinfo : userinfo.slice(0, at));
    const pass = at < 0 ? undefined : decodeURIComponent(userinfo.slice(at + 1));
    if (at < 0) auth.password = user;
    else {
      if (user) auth.username = user;
      if (pass) auth.password = pass;
    }
  }
  if (!kind) return { ...auth, mode: 'single', url: url.trim() };
  if (kind === 'cluster') {
    if (path && path !== '/') throw new RedisUrlError('a cluster has no database number');
    return { ...auth, mode: 'cluster', nodes: nodes(hosts, 6379) };
  }
  const [, master, db = '0', ...rest] = path.split('/');
  if (!master || rest.length > 0 || !/^\d{1,4}$/.test(db))
    throw new RedisUrlError('sentinel URLs name the master: redis+sentinel://host:26379/<master>[/db]');
  const params = new URLSearchParams(query);
  const sentinelPassword = params.get('sentinelPassword');
  return {
    ...auth,
    mode: 'sentinel',
    sentinels: nodes(hosts, 26379),
    master: decodeURIComponent(master),
    db: Number(db),
    ...(sentinelPassword ? { sentinelPassword } : {}),
  };
}
