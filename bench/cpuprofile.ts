import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { projectRoot } from './paths.js';

/**
 * Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and totals self time per function:
 * each sample's time delta goes to the function on top of the stack.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  readonly name: string;
  readonly where: string;
  readonly area: string;
  readonly ms: number;
  /** Share of the non-idle time. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly functions: SelfTime[];
  readonly areas: { area: string; ms: number; share: number }[];
}

/** Which part of the stack a frame belongs to, for the per-area totals. */
function areaOf(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native/builtin)';
  if (url.includes('/lib/core/')) return `nestjs-delayed ${url.slice(url.lastIndexOf('/') + 1)}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url.includes('/bench/') ? 'bench harness' : 'other';
}

function shortUrl(url: string): string {
  if (url.startsWith('file://')) {
    const path = new URL(url).pathname;
    const nm = path.lastIndexOf('node_modules/');
    if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
    // Compiled project files: name them by their place in the tree (line numbers are of the .js).
    const tree = /\/((?:lib|bench)\/.*)$/.exec(path);
    return tree ? `${tree[1]}` : relative(projectRoot, path);
  }
  return url;
}

/**
 * @param window only samples taken in [from, to] (monotonic microseconds, the clock of
 *   `process.hrtime`), e.g. leaving out module loading; the whole profile when absent.
 */
export function summariseProfile(
  file: string,
  top = 25,
  window?: readonly [number, number],
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, { name: string; where: string; area: string; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window[0] || at > window[1])) return;
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    totalUs += delta;
    if (frame.functionName === '(idle)') {
      idleUs += delta;
      return;
    }
    const name = frame.functionName || '(anonymous)';
    const where = frame.url ? `${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = selfUs.get(key) ?? { name, where, area: areaOf(frame.url, name), us: 0 };
    entry.us += delta;
    selfUs.set(key, entry);
  });
  const busyUs = totalUs - idleUs;
  const functions = [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({
      name: e.name,
      where: e.where,
      area: e.area,
      ms: e.us / 1000,
      share: e.us / busyUs,
    }));
  const areaUs = new Map<string, number>();
  for (const e of selfUs.values()) areaUs.set(e.area, (areaUs.get(e.area) ?? 0) + e.us);
  const areas = [...areaUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([area, us]) => ({ area, ms: us / 1000, share: us / busyUs }));
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, functions, areas };
}

export function profileMarkdown(summary: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const lines: string[] = [];
  lines.push(
    `Profiled ${summary.totalMs.toFixed(0)} ms, of which idle ${summary.idleMs.toFixed(0)} ms; shares below are of the ` +
      `${(summary.totalMs - summary.idleMs).toFixed(0)} ms busy.`,
  );
  lines.push('');
  lines.push('| Self time | Share | Function | Where | Area |');
  lines.push('| ---: | ---: | --- | --- | --- |');
  for (const f of summary.functions) {
    lines.push(
      `| ${f.ms.toFixed(1)} ms | ${pct(f.share)} | \`${f.name}\` | ${f.where} | ${f.area} |`,
    );
  }
  lines.push('');
  lines.push('| Area | Self time | Share |');
  lines.push('| --- | ---: | ---: |');
  for (const a of summary.areas.slice(0, 15))
    lines.push(`| ${a.area} | ${a.ms.toFixed(1)} ms | ${pct(a.share)} |`);
  lines.push('');
  return lines.join('\n');
}
