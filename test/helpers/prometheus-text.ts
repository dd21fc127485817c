import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * A strict parser of Prometheus' text exposition format (version 0.0.4), for tests: it
 * rejects anything the format does not allow instead of guessing, so a malformed scrape
 * fails the test that reads it. Checked: HELP and TYPE at most once per family and before its
 * samples, a family's samples together, sample names that belong to their family's type
 * (`_bucket` with `le`, `_sum`, `_count` for histograms), label syntax and escapes, no label
 * named twice, no series twice, values that are numbers, +Inf, -Inf or NaN.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | undefined;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const seriesSeen = new Set<string>();
  const typedFamilies = new Set<string>();
  /** Families whose samples have ended (another family's came after). */
  const closed = new Set<string>();
  let current: MetricFamily | undefined;
  const fail = (line: number, message: string): never => {
    throw new Error(`exposition line ${line + 1}: ${message}`);
  };
  if (text.length > 0 && !text.endsWith('\n'))
    fail(0, 'the exposition does not end with a newline');

  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const match = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw);
      if (match === null) return; // a plain comment
      const [, kind, name, rest = ''] = match;
      if (!NAME.test(name!)) fail(index, `bad metric name ${name}`);
      const family = familyFor(name!, index);
      if (kind === 'HELP') {
        if (family.help !== undefined) fail(index, `second HELP for ${name}`);
        family.help = unescapeHelp(rest, () => fail(index, `bad escape in HELP of ${name}`));
      } else {
        if (family.samples.length > 0) fail(index, `TYPE of ${name} after its samples`);
        if (!TYPES.has(rest)) fail(index, `unknown type "${rest}" for ${name}`);
        if (typedFamilies.has(name!)) fail(index, `second TYPE for ${name}`);
        typedFamilies.add(name!);
        family.type = rest as MetricFamily['type'];
      }
      return;
    }
    const sample = parseSample(raw, (message) => fail(index, message));
    const family = familyOfSample(sample.name, index);
    checkSampleName(family, sample, (message) => fail(index, message));
    const series = `${sample.name}{${Object.entries(sample.labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`;
    if (seriesSeen.has(series)) fail(index, `series ${series} appears twice`);
    seriesSeen.add(series);
    family.samples.push(sample);
  });
  return families;

  function familyFor(name: string, index: number): MetricFamily {
    let family = families.get(name);
    if (family === undefined) {
      family = { name, type: 'untyped', help: undefined, samples: [] };
      families.set(name, family);
    }
    enter(family, index);
    return family;
  }

  function enter(family: MetricFamily, index: number): void {
    if (current === family) return;
    if (closed.has(family.name)) {
      throw new Error(`exposition line ${index + 1}: family ${family.name} is split`);
    }
    if (current !== undefined) closed.add(current.name);
    current = family;
  }

  function familyOfSample(name: string, index: number): MetricFamily {
    // A histogram's or summary's sample names its family with a suffix.
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (name.endsWith(suffix)) {
        const base = families.get(name.slice(0, -suffix.length));
        if (base !== undefined && (base.type === 'histogram' || base.type === 'summary')) {
          enter(base, index);
          return base;
        }
      }
    }
    return familyFor(name, index);
  }
}

function checkSampleName(family: MetricFamily, sample: Sample, fail: (m: string) => never): void {
  if (family.type === 'histogram') {
    const suffix = sample.name.slice(family.name.length);
    if (!['_bucket', '_sum', '_count'].includes(suffix)) {
      fail(`histogram ${family.name} has a sample named ${sample.name}`);
    }
    if ((suffix === '_bucket') !== 'le' in sample.labels) {
      fail(`${sample.name}: only _bucket samples carry le`);
    }
    if (suffix === '_bucket' && Number.isNaN(parseValue(sample.labels.le!))) {
      fail(`${sample.name}: le is not a number: ${sample.labels.le}`);
    }
  } else if (family.type !== 'summary' && sample.name !== family.name) {
    fail(`${family.type} ${family.name} has a sample named ${sample.name}`);
  }
}

function parseSample(line: string, fail: (m: string) => never): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (nameMatch === null) fail(`no metric name in "${line}"`);
  const name = nameMatch![0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      if (line[i] === '}') {
        i++;
        break;
      }
      const labelMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i));
      if (labelMatch === null) fail(`bad label name at column ${i + 1} of "${line}"`);
      const label = labelMatch![0];
      if (!LABEL_NAME.test(label)) fail(`bad label name ${label}`);
      if (label in labels) fail(`label ${label} given twice`);
      i += label.length;
      if (line[i] !== '=' || line[i + 1] !== '"') fail(`expected =" after ${label}`);
      i += 2;
      let value = '';
      for (;;) {
        const char = line[i];
        if (char === undefined) fail(`unterminated value of label ${label}`);
        if (char === '"') break;
        if (char === '\\') {
          const next = line[i + 1];
          if (next === '\\') value += '\\';
          else if (next === '"') value += '"';
          else if (next === 'n') value += '\n';
          else fail(`bad escape \\${next ?? ''} in label ${label}`);
          i += 2;
        } else {
          value += char;
          i++;
        }
      }
      i++;
      labels[label] = value;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') fail(`expected , or } after label ${label}`);
    }
  }
  if (line[i] !== ' ') fail(`expected a space before the value in "${line}"`);
  const parts = line
    .slice(i + 1)
    .split(' ')
    .filter((part) => part !== '');
  if (parts.length < 1 || parts.length > 2)
    fail(`expected a value and an optional timestamp in "${line}"`);
  const value = parseValue(parts[0]!);
  if (Number.isNaN(value) && parts[0] !== 'NaN') fail(`bad value ${parts[0]}`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) fail(`bad timestamp ${parts[1]}`);
  return { name, labels, value };
}

function parseValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return NaN;
  return Number(text);
}

function unescapeHelp(text: string, fail: () => never): string {
  return text.replace(/\\(.?)/g, (_, next: string) => {
    if (next === '\\') return '\\';
    if (next === 'n') return '\n';
    return fail();
  });
}

/** The value of the one sample named `name` with exactly these labels, or undefined. */
export function sampleValue(
  families: Map<string, MetricFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const wanted = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      const have = Object.entries(sample.labels).sort(([a], [b]) => a.localeCompare(b));
      if (JSON.stringify(have) === JSON.stringify(wanted)) return sample.value;
    }
  }
  return undefined;
}

const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';

/**
 * Runs `promtool check metrics` (from Debian's prometheus package) on an exposition: its
 * exit status and what it reported. Fails, never skips, when promtool is missing.
 */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  if (!existsSync(PROMTOOL)) {
    throw new Error(
      `promtool is not at ${PROMTOOL}: install it (Debian: apt-get install prometheus; it ships /usr/bin/promtool), or set PROMTOOL to its path`,
    );
  }
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], {
    input: text,
    encoding: 'utf8',
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}
