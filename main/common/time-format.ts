// Times inside a recording, for people: mm:ss.s from the recording's start. Pure.

export function formatRecordingTime(ms: number): string {
  const tenths = Math.max(0, Math.floor(ms / 100));
  const h = Math.floor(tenths / 36_000);
  const m = Math.floor((tenths % 36_000) / 600);
  const s = (tenths % 600) / 10;
  const mmss = `${String(m).padStart(2, '0')}:${s.toFixed(1).padStart(4, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** Parses "90", "90s", "1:30", "1:02:03.5" or "500ms" into ms; undefined when it is none of them. */
export function parseRecordingTime(text: string): number | undefined {
  const t = text.trim();
  const unit = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(t);
  if (unit) return Number(unit[1]) * (unit[2] === 'ms' ? 1 : unit[2] === 'm' ? 60_000 : 1000);
  const clock = /^(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(t);
  if (clock) return ((Number(clock[1] ?? 0) * 60 + Number(clock[2])) * 60 + Number(clock[3])) * 1000;
  return undefined;
}
