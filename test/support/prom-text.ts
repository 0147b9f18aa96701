/**
 * A strict parser for the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0 text, for tests: it
 * throws on anything a Prometheus server would reject or that breaks the format's rules (bad names or escapes,
 * TYPE after samples, split families, duplicate series, histograms whose buckets are not cumulative or whose
 * +Inf bucket differs from _count, a missing `# EOF` in OpenMetrics).
 */

export type PromType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped' | 'unknown';

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type: PromType;
  help: string | undefined;
  samples: PromSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<PromType>(['counter', 'gauge', 'histogram', 'summary', 'untyped', 'unknown']);

class ParseError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

function parseValue(text: string, line: number): number {
  // Prometheus parses values with Go's strconv.ParseFloat, which ignores the case of NaN and Inf (prom-client
  // writes `Nan`).
  const lower = text.toLowerCase();
  if (lower === '+inf' || lower === 'inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  if (lower === 'nan') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new ParseError(line, `bad value '${text}'`);
  return Number(text);
}

/** Parses `name{labels} value [timestamp]`. */
function parseSample(text: string, line: number): PromSample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(text);
  if (!m?.[1]) throw new ParseError(line, `bad metric name in '${text}'`);
  const name = m[1];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (text[i] === '{') {
    i++;
    while (text[i] !== '}') {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
      if (!lm?.[1]) throw new ParseError(line, `bad label at '${text.slice(i)}'`);
      const label = lm[1];
      if (!LABEL_NAME.test(label) || label.startsWith('__')) throw new ParseError(line, `bad label name ${label}`);
      if (label in labels) throw new ParseError(line, `duplicate label ${label}`);
      i += lm[0].length;
      let value = '';
      for (;;) {
        const c = text[i];
        if (c === undefined) throw new ParseError(line, 'unterminated label value');
        if (c === '"') break;
        if (c === '\\') {
          const e = text[i + 1];
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else throw new ParseError(line, `bad escape \\${e}`);
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      i++;
      labels[label] = value;
      if (text[i] === ',') i++;
      else if (text[i] !== '}') throw new ParseError(line, `expected , or } at '${text.slice(i)}'`);
    }
    i++;
  }
  if (text[i] !== ' ') throw new ParseError(line, `expected a space before the value in '${text}'`);
  const parts = text
    .slice(i + 1)
    .trim()
    .split(/\s+/);
  if (parts.length < 1 || parts.length > 2) throw new ParseError(line, `bad value/timestamp in '${text}'`);
  const value = parseValue(parts[0] as string, line);
  if (parts[1] !== undefined && !/^-?\d+(\.\d+)?$/.test(parts[1])) throw new ParseError(line, 'bad timestamp');
  return { name, labels, value };
}

/** The family a sample name belongs to, given its type. */
function belongs(family: PromFamily, sample: string, openMetrics: boolean): boolean {
  const n = family.name;
  switch (family.type) {
    case 'histogram':
      return sample === `${n}_bucket` || sample === `${n}_sum` || sample === `${n}_count` || sample === `${n}_created`;
    case 'summary':
      return sample === n || sample === `${n}_sum` || sample === `${n}_count` || sample === `${n}_created`;
    case 'counter':
      return openMetrics ? sample === `${n}_total` || sample === `${n}_created` : sample === n;
    default:
      return sample === n;
  }
}

const seriesKey = (s: PromSample) =>
  `${s.name}{${Object.entries(s.labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = seriesKey({ name: '', labels: rest, value: 0 });
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`);
      g.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${f.name}_count`) g.count = s.value;
  }
  for (const [key, g] of groups) {
    const last = g.buckets.at(-1);
    if (!last || last[0] !== Number.POSITIVE_INFINITY) throw new Error(`${f.name}${key}: no +Inf bucket`);
    for (let i = 1; i < g.buckets.length; i++) {
      const [prevLe, prevCount] = g.buckets[i - 1] as [number, number];
      const [le, count] = g.buckets[i] as [number, number];
      if (le <= prevLe) throw new Error(`${f.name}${key}: le not increasing`);
      if (count < prevCount) throw new Error(`${f.name}${key}: buckets not cumulative`);
    }
    if (g.count !== last[1]) throw new Error(`${f.name}${key}: _count ${g.count} != +Inf bucket ${last[1]}`);
  }
}

/** Parses exposition text; throws on the first violation. */
export function parsePrometheusText(text: string, opts: { openMetrics?: boolean } = {}): Map<string, PromFamily> {
  const openMetrics = opts.openMetrics ?? false;
  const families = new Map<string, PromFamily>();
  const seen = new Set<string>();
  let current: PromFamily | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('exposition must end with a newline');
  lines.pop();
  if (openMetrics && lines.at(-1) !== '# EOF') throw new Error('OpenMetrics exposition must end with # EOF');
  const family = (name: string, line: number): PromFamily => {
    if (!METRIC_NAME.test(name)) throw new ParseError(line, `bad metric name ${name}`);
    let f = families.get(name);
    if (f && f !== current) throw new ParseError(line, `family ${name} is split`);
    if (!f) {
      f = { name, type: 'untyped', help: undefined, samples: [] };
      families.set(name, f);
    }
    current = f;
    return f;
  };
  lines.forEach((raw, idx) => {
    const line = idx + 1;
    if (raw === '' || raw === '# EOF') {
      if (openMetrics && raw === '') throw new ParseError(line, 'empty line in OpenMetrics');
      return;
    }
    const meta = /^# (HELP|TYPE|UNIT) (\S+)(?: (.*))?$/.exec(raw);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      const f = family(name, line);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new ParseError(line, `second HELP for ${name}`);
        f.help = rest.replace(/\\(n|\\)/g, (_, e: string) => (e === 'n' ? '\n' : '\\'));
      } else if (kind === 'TYPE') {
        if (f.samples.length > 0) throw new ParseError(line, `TYPE after samples for ${name}`);
        if (!TYPES.has(rest as PromType)) throw new ParseError(line, `bad type ${rest}`);
        f.type = rest as PromType;
      }
      return;
    }
    if (raw.startsWith('#')) return;
    const sample = parseSample(raw, line);
    if (!current || !belongs(current, sample.name, openMetrics)) {
      const f = family(sample.name, line);
      if (!belongs(f, sample.name, openMetrics)) throw new ParseError(line, `sample ${sample.name} outside its family`);
    }
    const key = seriesKey(sample);
    if (seen.has(key)) throw new ParseError(line, `duplicate series ${key}`);
    seen.add(key);
    (current as PromFamily).samples.push(sample);
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** Sum of the samples named `name` whose labels include `labels` (0 when none). */
export function sampleSum(
  families: Map<string, PromFamily>,
  name: string,
  labels: Record<string, string> = {},
): number {
  let total = 0;
  for (const f of families.values())
    for (const s of f.samples)
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
  return total;
}

/** Every sample of every family. */
export function allSamples(families: Map<string, PromFamily>): PromSample[] {
  return [...families.values()].flatMap((f) => f.samples);
}
