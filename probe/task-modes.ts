// tasks and trace modes on the target's main thread: one async hook, on only while one of
// those modes is, and its trace batches encoded into frames with their types as dictionary ids.

import { startTasks, type TasksCollector } from './tasks';
import type { FrameWriter } from './frame-writer';
import { MessageType, type ProbeConfig } from './wire';
import { encodeTaskEvents } from './wire-binary';
import { encodeTasks } from './wire-json';

export class TaskModes {
  private tasks: TasksCollector | undefined;
  private key = '';
  private readonly typeIdScratch = new Uint16Array(1 << 16);
  private readonly nameIdScratch = new Uint16Array(1 << 16);
  /** Dictionary ids of the collector's callback names, by their number (0: none). */
  private nameIds: number[] = [0];

  constructor(private readonly out: FrameWriter, private readonly probeFile: string) {}

  /** Turns the hook on, off, or on afresh with other settings, as `config` asks. */
  apply(config: ProbeConfig): void {
    const key = config.mode === 'metrics' ? '' : `${config.mode}/${config.promises}`;
    if (key === this.key) return;
    this.stop();
    this.key = key;
    this.nameIds = [0];
    if (key === '') return;
    this.tasks = startTasks({
      promises: config.promises,
      trace: config.mode === 'trace',
      probeFile: this.probeFile,
      onBatch: (cols, count, typeNames, callbackNames) => {
        const ids = this.out.idsFor(typeNames);
        if (!ids || !this.nameIdsFor(callbackNames)) return this.out.drop(MessageType.TaskEvents);
        let named = false;
        for (let i = 0; i < count; i++) {
          const init = cols.kinds[i] === 0;
          this.typeIdScratch[i] = init ? ids[cols.typeIds[i]!]! : 0;
          const name = init ? this.nameIds[cols.nameIds[i]!]! : 0;
          this.nameIdScratch[i] = name;
          named ||= name !== 0;
        }
        this.out.write(MessageType.TaskEvents, encodeTaskEvents(count, cols.kinds, cols.asyncIds, cols.triggerIds, cols.timesUs, this.typeIdScratch, named ? this.nameIdScratch : undefined));
      },
    });
  }

  /** Dictionary ids for the callback names not sent yet (they only ever grow); false when they could not be sent. */
  private nameIdsFor(names: readonly string[]): boolean {
    if (names.length === this.nameIds.length) return true;
    const ids = this.out.idsFor(names.slice(this.nameIds.length));
    if (!ids) return false;
    this.nameIds.push(...ids);
    return true;
  }

  /** With each metrics sample: the events buffered so far, and the interval's aggregates. */
  sample(): void {
    if (!this.tasks) return;
    this.tasks.flush();
    this.out.write(MessageType.Tasks, encodeTasks(this.tasks.sample()));
  }

  stop(): void {
    this.tasks?.stop();
    this.tasks = undefined;
    this.key = '';
  }
}
