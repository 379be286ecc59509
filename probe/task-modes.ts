// tasks and trace modes on the target's main thread: one async hook, on only while one of
// those modes is, and its trace batches encoded into frames with their types as dictionary ids.

import { startTasks, type TasksCollector } from './tasks';
import { startTrace } from './trace';
import type { FrameWriter } from './frame-writer';
import { MessageType, type ProbeConfig } from './wire';
import { encodeTaskEvents, taskEventsFrameBytes } from './wire-binary';
import { BATCH_EVENTS } from './trace-columns';
import { encodeTasks } from './wire-json';

export class TaskModes {
  private tasks: TasksCollector | undefined;
  private key = '';
  private readonly typeIdScratch = new Uint16Array(BATCH_EVENTS);
  private readonly nameIdScratch = new Uint16Array(BATCH_EVENTS);
  /** Dictionary ids of the collector's callback names, by their number (0: none). */
  private nameIds: number[] = [0];
  /** Trace batches are encoded here, then copied into the ring (made when trace mode first needs it). */
  private frame: ArrayBuffer | undefined;

  constructor(private readonly out: FrameWriter, private readonly probeFile: string) {}

  /** Turns the hook on, off, or on afresh with other settings, as `config` asks. */
  apply(config: ProbeConfig): void {
    const key = config.mode === 'metrics' ? '' : `${config.mode}/${config.promises}`;
    if (key === this.key) return;
    this.stop();
    this.key = key;
    this.nameIds = [0];
    if (key === '') return;
    const options = { promises: config.promises, probeFile: this.probeFile };
    this.tasks = config.mode === 'tasks' ? startTasks(options) : startTrace({
      ...options,
      onBatch: (cols, count, typeNames, callbackNames, first) => {
        const ids = this.out.idsFor(typeNames);
        if (!ids || (callbackNames !== undefined && !this.nameIdsFor(callbackNames))) return this.out.drop(MessageType.TaskEvents);
        for (let i = 0; i < count; i++) this.typeIdScratch[i] = cols.kinds[i] === 0 ? ids[cols.typeIds[i]!]! : 0;
        // The name column only for a batch that names a callback.
        if (callbackNames !== undefined) {
          for (let i = 0; i < count; i++) this.nameIdScratch[i] = cols.kinds[i] === 0 ? this.nameIds[cols.nameIds[i]!]! : 0;
        }
        this.frame ??= new ArrayBuffer(taskEventsFrameBytes(BATCH_EVENTS, true));
        this.out.write(MessageType.TaskEvents, encodeTaskEvents(count, cols.kinds, cols.asyncIds, cols.triggerIds, cols.timesUs,
          this.typeIdScratch, callbackNames === undefined ? undefined : this.nameIdScratch, this.frame, first));
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
