// A time range of CPU samples as pprof's profile.proto, gzipped: what `go tool pprof`,
// Pyroscope and Grafana read. The protobuf is written by hand (varints, length-delimited
// fields, packed integers): no dependency. Pure but for gzip.
//
// profile.proto (github.com/google/pprof): Profile { sample_type = 1, sample = 2, mapping = 3,
// location = 4, function = 5, string_table = 6, time_nanos = 9, duration_nanos = 10,
// period_type = 11, period = 12 }; Sample { location_id = 1 (leaf first), value = 2 };
// Location { id = 1, mapping_id = 2, line = 4 }; Line { function_id = 1, line = 2 };
// Function { id = 1, name = 2, system_name = 3, filename = 4, start_line = 5 }; Mapping { id = 1,
// filename = 5, has_functions = 7, has_filenames = 8, has_line_numbers = 9 }; ValueType
// { type = 1, unit = 2 }. string_table[0] is "".

import { gzipSync } from 'node:zlib';
import type { ProfileRange, ProfileTree } from '../session/profile-model';
import { rangeStats, splitByLine } from '../session/profile-stats';

/** Appends protobuf's wire format to a growing byte array. */
class ProtoWriter {
  readonly bytes: number[] = [];

  varint(v: number): this {
    // Values here are non-negative and below 2^53: 7-bit groups without BigInt.
    let n = v;
    while (n >= 0x80) {
      this.bytes.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.bytes.push(n);
    return this;
  }

  /** An integer field (wire type 0); proto3 leaves zero out. */
  int(field: number, v: number): this {
    return v ? this.varint(field * 8).varint(v) : this;
  }

  /** A length-delimited field: a nested message, a string or packed integers. */
  bytesField(field: number, bytes: ArrayLike<number>): this {
    this.varint(field * 8 + 2).varint(bytes.length);
    for (let i = 0; i < bytes.length; i++) this.bytes.push(bytes[i]!);
    return this;
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.bytesField(field, w.bytes);
  }

  string(field: number, s: string): this {
    return this.bytesField(field, Buffer.from(s, 'utf8'));
  }

  packed(field: number, values: readonly number[]): this {
    const w = new ProtoWriter();
    for (const v of values) w.varint(v);
    return this.bytesField(field, w.bytes);
  }
}

export interface PprofOptions {
  /** The target's time origin, ms since the Unix epoch: sample times are µs after it. */
  readonly timeOriginMs: number;
}

export function toPprof(tree: ProfileTree, range: ProfileRange, options: PprofOptions): Buffer {
  const stats = rangeStats(tree, range);
  const strings = [''];
  const stringIds = new Map<string, number>([['', 0]]);
  const str = (s: string): number => {
    let id = stringIds.get(s);
    if (id === undefined) {
      id = strings.length;
      strings.push(s);
      stringIds.set(s, id);
    }
    return id;
  };
  const functions = new Map<string, { id: number; name: number; file: number; line: number }>();
  const functionOf = (node: number): number => {
    const f = tree.frame(node);
    const name = f.functionName || '(anonymous)';
    const key = `${name}\n${f.url}\n${f.lineNumber}`;
    let fn = functions.get(key);
    if (!fn) functions.set(key, (fn = { id: functions.size + 1, name: str(name), file: str(f.url), line: f.lineNumber }));
    return fn.id;
  };
  // One location per node and line: the callers at their function's line (V8 keeps lines for
  // leaves only), a leaf at each line of its own samples.
  const locations = new Map<string, { id: number; fn: number; line: number }>();
  const locationOf = (node: number, line: number): number => {
    const key = `${node}:${line}`;
    let loc = locations.get(key);
    if (!loc) locations.set(key, (loc = { id: locations.size + 1, fn: functionOf(node), line }));
    return loc.id;
  };
  const periodNs = Math.round((range.intervalUs || 1000) * 1000);
  const samples: { locations: number[]; count: number }[] = [];
  for (const [leaf, count] of stats.self) {
    const callers: number[] = [];
    for (let n = tree.parent(leaf); n !== 0; n = tree.parent(n)) if (tree.frame(n).kind !== 'root') callers.push(locationOf(n, tree.frame(n).lineNumber));
    const f = tree.frame(leaf);
    if (f.kind === 'root') continue;
    const lines = f.url === '' ? undefined : stats.lines.get(leaf);
    for (const [line, n] of splitByLine(count, lines, f.lineNumber)) samples.push({ locations: [locationOf(leaf, line), ...callers], count: n });
  }
  const w = new ProtoWriter();
  const samplesType = str('samples');
  const countUnit = str('count');
  const cpuType = str('cpu');
  const nanos = str('nanoseconds');
  w.message(1, (v) => v.int(1, samplesType).int(2, countUnit));
  w.message(1, (v) => v.int(1, cpuType).int(2, nanos));
  for (const s of samples) w.message(2, (m) => m.packed(1, s.locations).packed(2, [s.count, s.count * periodNs]));
  // One mapping that says symbols, files and lines are resolved already: no binary to read.
  const mappingName = str('javascript');
  w.message(3, (m) => m.int(1, 1).int(5, mappingName).int(7, 1).int(8, 1).int(9, 1));
  for (const l of locations.values()) w.message(4, (m) => m.int(1, l.id).int(2, 1).message(4, (line) => line.int(1, l.fn).int(2, l.line)));
  for (const f of functions.values()) w.message(5, (m) => m.int(1, f.id).int(2, f.name).int(3, f.name).int(4, f.file).int(5, f.line));
  for (const s of strings) w.string(6, s);
  const first = range.times.length > 0 ? range.times[0]! : range.fromUs;
  const last = range.times.length > 0 ? range.times[range.times.length - 1]! : range.fromUs;
  w.int(9, Math.round((options.timeOriginMs * 1000 + first) * 1000));
  w.int(10, Math.round((last - first) * 1000));
  w.message(11, (v) => v.int(1, cpuType).int(2, nanos));
  w.int(12, periodNs);
  return gzipSync(Buffer.from(w.bytes));
}
