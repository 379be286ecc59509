// Decoding whole frames: the probe's messages (with the dictionary they refer to) and the
// control messages loopscope sends. Pure.

import { decodeDictionary, decodeMetrics, decodeTaskEvents } from './wire-binary';
import { decodeProfileDictionary, decodeProfileSamples, encodeProfileDictionary, ProfileTables } from './wire-profile';
import { CONFIG_LIMITS, HEADER_BYTES, MAX_BLOCKED_BYTES, MAX_DICTIONARY_ENTRIES, MAX_DICTIONARY_LENGTH, MAX_HELLO_BYTES, MessageType, WireError, WireLimitError, messageTypeName, type ControlMessage, type MessageTypeId, type ProbeMessage, type ProbeMode, type ProfileDictionary, type RawFrame } from './wire';
import { bool, mode, num, parseJson, str } from './wire-fields';
import { parseBlocked, parseDrops, parseGcSource, parseGoodbye, parseHello, parseNotice, parseProbePause, parseProfilerState, parseTasks } from './wire-json';

const MAX_JSON_BYTES: Readonly<Partial<Record<MessageTypeId, number>>> = {
  [MessageType.Hello]: MAX_HELLO_BYTES,
  [MessageType.Blocked]: MAX_BLOCKED_BYTES,
  [MessageType.Drops]: 64 * 1024,
  [MessageType.Goodbye]: 64 * 1024,
  [MessageType.Tasks]: 4 * 1024 * 1024,
  [MessageType.ProbePause]: 64 * 1024,
  [MessageType.ProfilerState]: 64 * 1024,
  [MessageType.Notice]: 64 * 1024,
  [MessageType.GcSource]: 64 * 1024,
};

/**
 * Decodes probe → main frames. Stateful only in the dictionaries, which frames refer to by id:
 * the strings (resource types) and the CPU profile's frames and stack nodes.
 */
export class ProbeDecoder {
  private readonly dictionary = new Map<number, string>();
  private dictionaryLength = 0;
  private readonly profile = new ProfileTables();

  /** The profile's dictionary so far, as one that resets (for a recording's keyframe); undefined when empty. */
  profileSnapshot(): ProfileDictionary | undefined {
    return this.profile.empty ? undefined : this.profile.snapshot();
  }

  /** Takes a profile dictionary that came from outside (a keyframe), checked as a frame would be. */
  restoreProfile(d: ProfileDictionary): ProbeMessage {
    return this.decode({ type: MessageType.ProfileDictionary, payload: encodeProfileDictionary(d).subarray(HEADER_BYTES) });
  }

  /**
   * A message another decoder made (the live connection's): its dictionary entries join these,
   * checked as its frame would have been, so that frames decoded here later can refer to them.
   */
  adopt(m: ProbeMessage): void {
    if (m.type === 'dictionary') this.addEntries(m.entries);
    else if (m.type === 'profileDictionary') this.profile.add(m.dictionary);
  }

  private addEntries(entries: readonly (readonly [number, string])[]): void {
    // The totals once these are in (an entry may replace one with its id).
    const next = new Map<number, string>();
    let length = this.dictionaryLength;
    for (const [id, s] of entries) {
      length += s.length - ((next.has(id) ? next.get(id) : this.dictionary.get(id))?.length ?? 0);
      next.set(id, s);
    }
    const size = this.dictionary.size + [...next.keys()].filter((id) => !this.dictionary.has(id)).length;
    if (size > MAX_DICTIONARY_ENTRIES) throw new WireLimitError(`dictionary: more than the limit of ${MAX_DICTIONARY_ENTRIES} entries`);
    if (length > MAX_DICTIONARY_LENGTH) throw new WireLimitError(`dictionary: more than the limit of ${MAX_DICTIONARY_LENGTH} characters in all`);
    for (const [id, s] of next) this.dictionary.set(id, s);
    this.dictionaryLength = length;
  }

  decode(f: RawFrame): ProbeMessage {
    const limit = MAX_JSON_BYTES[f.type];
    if (limit !== undefined && f.payload.byteLength > limit) {
      throw new WireLimitError(`a ${messageTypeName(f.type)} frame of ${f.payload.byteLength} bytes, more than the limit of ${limit} for its kind`);
    }
    switch (f.type) {
      case MessageType.Hello:
        return { type: 'hello', hello: parseHello(f.payload) };
      case MessageType.Metrics:
        return { type: 'metrics', sample: decodeMetrics(f.payload, this.dictionary) };
      case MessageType.Blocked:
        return { type: 'blocked', report: parseBlocked(f.payload) };
      case MessageType.Drops:
        return { type: 'drops', drops: parseDrops(f.payload) };
      case MessageType.Dictionary: {
        const entries = decodeDictionary(f.payload);
        this.addEntries(entries);
        return { type: 'dictionary', entries };
      }
      case MessageType.Goodbye:
        return { type: 'goodbye', goodbye: parseGoodbye(f.payload) };
      case MessageType.Tasks:
        return { type: 'tasks', sample: parseTasks(f.payload) };
      case MessageType.TaskEvents:
        return { type: 'taskEvents', batch: decodeTaskEvents(f.payload, this.dictionary) };
      case MessageType.ProfileDictionary: {
        const dictionary = decodeProfileDictionary(f.payload);
        this.profile.add(dictionary);
        return { type: 'profileDictionary', dictionary };
      }
      case MessageType.ProfileSamples:
        return { type: 'profileSamples', batch: decodeProfileSamples(f.payload, this.profile.hasNode) };
      case MessageType.ProbePause:
        return { type: 'probePause', pause: parseProbePause(f.payload) };
      case MessageType.ProfilerState:
        return { type: 'profilerState', profiler: parseProfilerState(f.payload) };
      case MessageType.Notice:
        return { type: 'notice', notice: parseNotice(f.payload) };
      case MessageType.GcSource:
        return { type: 'gcSource', gc: parseGcSource(f.payload) };
      default:
        throw new WireError(`message type ${messageTypeName(f.type)} is not sent by a probe`);
    }
  }
}

/** Decodes main → probe frames. */
export function decodeControl(f: RawFrame): ControlMessage {
  switch (f.type) {
    case MessageType.Configure: {
      const what = 'configure';
      const o = parseJson(f.payload, what);
      const config: { mode?: ProbeMode; promises?: boolean; profile?: boolean; intervalMs?: number; blockThresholdMs?: number; sampleIntervalMs?: number } = {};
      if (o['mode'] !== undefined) config.mode = mode(o['mode'], what);
      if (o['promises'] !== undefined) config.promises = bool(o, 'promises', what);
      if (o['profile'] !== undefined) config.profile = bool(o, 'profile', what);
      for (const key of ['intervalMs', 'blockThresholdMs', 'sampleIntervalMs'] as const) {
        if (o[key] === undefined) continue;
        const { min, max } = CONFIG_LIMITS[key];
        const value = num(o, key, what);
        if (value < min || value > max) throw new WireError(`${what}: field "${key}" must be from ${min} to ${max}`);
        config[key] = value;
      }
      return { type: 'configure', config };
    }
    case MessageType.Detach:
      if (f.payload.byteLength !== 0) throw new WireError('detach: payload must be empty');
      return { type: 'detach' };
    case MessageType.Reject:
      return { type: 'reject', reject: { reason: str(parseJson(f.payload, 'reject'), 'reason', 'reject') } };
    default:
      throw new WireError(`message type ${messageTypeName(f.type)} is not sent by loopscope`);
  }
}
