// What the CPU profile says of the time that passed with no sample (session/sample-gaps.ts), in
// a sentence: the summary and the window's profile say the same. Pure, with no Node API.

import { formatMs } from './format';

export interface Unsampled {
  readonly ms: number;
  readonly spanMs: number;
  /** Where most of it ended, as the caller names a frame; with its share. */
  readonly mostlyIn?: { readonly where: string; readonly ms: number };
}

export function unsampledText(u: Unsampled): string {
  const where = u.mostlyIn ? `; ${formatMs(u.mostlyIn.ms)} of it ended in ${u.mostlyIn.where}` : '';
  return `${formatMs(u.ms)} of the ${formatMs(u.spanMs)} sampled passed with no sample${where}. The sampler's signal waits while the main thread is in a system call, such as a large file read, or gets no CPU: the times above leave that out.`;
}
