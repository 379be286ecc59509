// Decoding whole frames: the probe's messages (with the dictionary they refer to) and the
// control messages loopscope sends. Pure.

import { decodeDictionary, decodeMetrics, decodeTaskEvents } from './wire-binary';
import { CONFIG_LIMITS, MAX_BLOCKED_BYTES, MAX_DICTIONARY_ENTRIES, MAX_DICTIONARY_LENGTH, MAX_HELLO_BYTES, MessageType, WireError, WireLimitError, messageTypeName, type ControlMessage, type MessageTypeId, type ProbeMessage, type ProbeMode, type RawFrame } from './wire';
import { bool, mode, num, parseJson, str } from './wire-fields';
import { parseBlocked, parseDrops, parseGoodbye, parseHello, parseTasks } from './wire-json';

const MAX_JSON_BYTES: Readonly<Partial<Record<MessageTypeId, number>>> = {
  [MessageType.Hello]: MAX_HELLO_BYTES,
  [MessageType.Blocked]: MAX_BLOCKED_BYTES,
  [MessageType.Drops]: 64 * 1024,
  [MessageType.Goodbye]: 64 * 1024,
  [MessageType.Tasks]: 4 * 1024 * 1024,
};

/**
 * Decodes probe → main frames. Stateful only in the dictionary, which frames refer to by id.
 */
export class ProbeDecoder {
  private readonly dictionary = new Map<number, string>();
  private dictionaryLength = 0;

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
        return { type: 'dictionary', entries };
      }
      case MessageType.Goodbye:
        return { type: 'goodbye', goodbye: parseGoodbye(f.payload) };
      case MessageType.Tasks:
        return { type: 'tasks', sample: parseTasks(f.payload) };
      case MessageType.TaskEvents:
        return { type: 'taskEvents', batch: decodeTaskEvents(f.payload, this.dictionary) };
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
      const config: { mode?: ProbeMode; promises?: boolean; intervalMs?: number; blockThresholdMs?: number } = {};
      if (o['mode'] !== undefined) config.mode = mode(o['mode'], what);
      if (o['promises'] !== undefined) config.promises = bool(o, 'promises', what);
      for (const key of ['intervalMs', 'blockThresholdMs'] as const) {
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
