// Checks an exported Chrome trace against what Perfetto's JSON importer needs, as its source
// (src/trace_processor/importers/json: tokenizer, parser, utils) and the Trace Event Format
// spec say, since neither Perfetto's UI nor its trace processor can be run here. Also reads the
// trace the way its importer does into the tables a query would see (threads, slices with
// their depth, counter tracks, V8's CPU samples), so tests can ask what Perfetto would show.
//
// CPU samples: the tokenizer takes a "P" event with an id (hex) as V8's legacy CPU profile
// (ParseV8SampleEvent): args.data.startTime starts a profile of that id and pid; then
// args.data.cpuProfile.nodes (id, parent, callFrame) add callsites, and each of
// args.data.cpuProfile.samples is a sample at the running sum of args.data.timeDeltas (equal
// lengths, or the event fails).

/** An event as the export writes it. */
type Event = Record<string, unknown>;

const isInt = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= 0xffff_ffff;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const METADATA = new Set(['process_name', 'process_labels', 'thread_name']);

/** A control character or a lone surrogate: what JSON carries as a \u escape, or DEL, raw. */
const BAD_TEXT = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function badStrings(v: unknown, path: string, out: string[]): void {
  if (typeof v === 'string') {
    if (BAD_TEXT.test(v)) out.push(`${path} holds a control character or a lone surrogate`);
  } else if (Array.isArray(v)) v.forEach((x, i) => badStrings(x, `${path}[${i}]`, out));
  else if (isObject(v)) for (const [k, x] of Object.entries(v)) badStrings(x, `${path}.${k}`, out);
}

/** What one event would cost in Perfetto: a failed file, a dropped event, a bad track. */
export function eventProblems(e: unknown, where = 'event'): string[] {
  if (!isObject(e)) return [`${where} is not an object`];
  const out: string[] = [];
  const ph = e['ph'];
  if (ph !== 'X' && ph !== 'C' && ph !== 'M' && ph !== 'i' && ph !== 'P') out.push(`${where} has phase ${String(ph)}`);
  if (ph === 'P') out.push(...sampleProblems(e, where));
  if (typeof e['name'] !== 'string' || e['name'] === '') out.push(`${where} has no name`);
  // The tokenizer reads top-level values one by one looking for ts and dur: an array among them fails the file.
  for (const [k, v] of Object.entries(e)) if (Array.isArray(v)) out.push(`${where}.${k} is an array at the top level`);
  // Integers (it coerces to uint32); tid 0 would be the idle task.
  if (!isInt(e['pid'], 1)) out.push(`${where} has pid ${String(e['pid'])}`);
  if (!isInt(e['tid'], 1)) out.push(`${where} has tid ${String(e['tid'])}`);
  if (ph !== 'M' && !isNumber(e['ts'])) out.push(`${where} has no numeric ts`);
  if (ph === 'X' && !(isNumber(e['dur']) && e['dur'] >= 0)) out.push(`${where} has duration ${String(e['dur'])}`);
  if (ph === 'C') {
    const args = e['args'];
    if (!isObject(args) || Object.keys(args).length === 0) out.push(`${where}: a counter needs args`);
    else for (const [k, v] of Object.entries(args)) if (!isNumber(v)) out.push(`${where}: counter ${k} is ${String(v)}, not a number`);
  }
  if (ph === 'M') {
    if (!METADATA.has(String(e['name']))) out.push(`${where}: unknown metadata ${String(e['name'])}`);
    const args = e['args'];
    const key = e['name'] === 'process_labels' ? 'labels' : 'name';
    if (!isObject(args) || typeof args[key] !== 'string') out.push(`${where}: metadata without args.${key}`);
  }
  badStrings(e, where, out);
  return out;
}

function sampleProblems(e: Event, where: string): string[] {
  const data = isObject(e['args']) ? e['args']['data'] : undefined;
  if (typeof e['id'] !== 'string' || !/^0x[0-9a-f]+$/.test(e['id'])) return [`${where}: a sample event needs a hex id`];
  if (!isObject(data)) return [`${where}: a sample event needs args.data`];
  if (e['name'] === 'Profile') return isNumber(data['startTime']) ? [] : [`${where}: a Profile needs args.data.startTime`];
  const profile = data['cpuProfile'];
  const deltas = data['timeDeltas'];
  if (e['name'] !== 'ProfileChunk' || !isObject(profile) || !Array.isArray(profile['samples']) || !Array.isArray(deltas)) return [`${where}: not a ProfileChunk with cpuProfile.samples and timeDeltas`];
  if (profile['samples'].length !== deltas.length) return [`${where}: samples and timeDeltas differ in length`];
  const nodes = Array.isArray(profile['nodes']) ? profile['nodes'] : [];
  return nodes.every((n) => isObject(n) && isInt(n['id'], 1) && isObject(n['callFrame']) && typeof n['callFrame']['functionName'] === 'string') ? [] : [`${where}: a node without an id or a call frame`];
}

export interface PerfettoSlice {
  readonly thread: string;
  readonly name: string;
  readonly ts: number;
  readonly dur: number;
  readonly depth: number;
  readonly args: Readonly<Record<string, unknown>>;
}

export interface PerfettoView {
  /** Empty when Perfetto would read every event as meant. */
  readonly problems: string[];
  readonly processName: string | undefined;
  /** Slices, by thread name, ordered as the importer meets them, with their nesting depth. */
  readonly slices: readonly PerfettoSlice[];
  /** Counter tracks ("<event name> <arg>") and their values in time order. */
  readonly counters: ReadonlyMap<string, readonly number[]>;
  /** V8's CPU samples: the function of each sample's leaf, in time order. */
  readonly samples: readonly string[];
}

/** Reads a whole exported file as Perfetto's importer would, and says what would go wrong. */
export function perfettoView(text: string): PerfettoView {
  const problems: string[] = [];
  // Older importers stop at the first top-level key they do not know; "displayTimeUnit" made
  // some take ts in ms.
  if (!text.startsWith('{"traceEvents":[')) problems.push('the file does not start with traceEvents');
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (err) {
    return { problems: [`not JSON: ${(err as Error).message}`], processName: undefined, slices: [], counters: new Map(), samples: [] };
  }
  if (!isObject(file) || !Array.isArray(file['traceEvents'])) return { problems: ['no traceEvents array'], processName: undefined, slices: [], counters: new Map(), samples: [] };
  if ('displayTimeUnit' in file) problems.push('displayTimeUnit is set');
  badStrings(file['otherData'], 'otherData', problems);
  const events = file['traceEvents'] as Event[];
  events.forEach((e, i) => problems.push(...eventProblems(e, `event ${i}`)));
  if (problems.length > 0) return { problems, processName: undefined, slices: [], counters: new Map(), samples: [] };
  const samples = v8Samples(events, problems);

  const threads = new Map<number, string>();
  let processName: string | undefined;
  for (const e of events) {
    if (e['name'] === 'thread_name') threads.set(e['tid'] as number, (e['args'] as { name: string }).name);
    if (e['name'] === 'process_name') processName = (e['args'] as { name: string }).name;
  }
  // The importer sorts by ts; older ones keep the file's order for equal ts (a stable sort).
  const timed = events.filter((e) => e['ph'] !== 'M').map((e, i) => ({ e, i })).sort((a, b) => (a.e['ts'] as number) - (b.e['ts'] as number) || a.i - b.i).map((x) => x.e);
  const slices: PerfettoSlice[] = [];
  const counters = new Map<string, number[]>();
  const stacks = new Map<number, { end: number; name: string }[]>();
  for (const e of timed) {
    if (e['ph'] === 'C') {
      for (const [k, v] of Object.entries(e['args'] as Record<string, number>)) {
        const key = `${e['name'] as string} ${k}`;
        const values = counters.get(key) ?? [];
        counters.set(key, values);
        values.push(v);
      }
      continue;
    }
    if (e['ph'] !== 'X') continue;
    const tid = e['tid'] as number;
    const ts = e['ts'] as number;
    const end = ts + (e['dur'] as number);
    const stack = stacks.get(tid) ?? [];
    stacks.set(tid, stack);
    while (stack.length > 0 && stack[stack.length - 1]!.end <= ts) stack.pop();
    const parent = stack[stack.length - 1];
    // Slices on a thread must nest: one that outlives the slice it starts in overlaps it.
    if (parent && end > parent.end) problems.push(`${e['name'] as string} at ${ts} overlaps ${parent.name}, which ends at ${parent.end}, on thread ${tid}`);
    slices.push({ thread: threads.get(tid) ?? `thread ${tid}`, name: e['name'] as string, ts, dur: e['dur'] as number, depth: stack.length, args: (e['args'] as Record<string, unknown> | undefined) ?? {} });
    stack.push({ end, name: e['name'] as string });
  }
  return { problems, processName, slices, counters, samples };
}

/** V8's CPU samples, as the tokenizer adds them: a profile's start before its chunks, nodes before the samples that name them. */
function v8Samples(events: readonly Event[], problems: string[]): string[] {
  const started = new Set<string>();
  const names = new Map<string, string>();
  const out: string[] = [];
  for (const e of events) {
    if (e['ph'] !== 'P') continue;
    const id = `${String(e['id'])}/${String(e['pid'])}`;
    const data = (e['args'] as { data: { startTime?: number; cpuProfile?: { nodes?: { id: number; callFrame: { functionName: string } }[]; samples: number[] } } }).data;
    if (e['name'] === 'Profile') {
      started.add(id);
      continue;
    }
    if (!started.has(id)) problems.push(`samples of profile ${id} before its start`);
    for (const n of data.cpuProfile?.nodes ?? []) names.set(`${id}:${n.id}`, n.callFrame.functionName);
    for (const s of data.cpuProfile?.samples ?? []) {
      const name = names.get(`${id}:${s}`);
      if (name === undefined) problems.push(`a sample of node ${s}, which profile ${id} does not define`);
      else out.push(name);
    }
  }
  return out;
}
