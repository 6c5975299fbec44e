/**
 * When the SkillMeat views reload: a debounced, coalescing runner, and which diagnostics changes
 * concern them. Nothing here imports `vscode`.
 */
import { isDeploymentFile } from './profiles';

export interface Timers {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const realTimers: Timers = {
  set: (callback, ms) => setTimeout(callback, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Runs `task` at most once at a time: {@link schedule} waits `delayMs` after the last request
 * (a burst of diagnostics changes is one reload); {@link now} runs at once. A request made while
 * the task runs makes it run once more afterwards, so the last state is always loaded.
 */
export class Refresher {
  private timer: unknown;
  private running: Promise<void> | undefined;
  private again = false;
  private disposed = false;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly delayMs: number,
    private readonly timers: Timers = realTimers,
  ) {}

  schedule(delayMs = this.delayMs): void {
    if (this.disposed) {
      return;
    }
    if (this.timer !== undefined) {
      this.timers.clear(this.timer);
    }
    this.timer = this.timers.set(() => {
      this.timer = undefined;
      void this.now();
    }, delayMs);
  }

  /** Runs the task now (or once more after the running one); resolves when that run is done. */
  now(): Promise<void> {
    if (this.disposed) {
      return Promise.resolve();
    }
    if (this.timer !== undefined) {
      this.timers.clear(this.timer);
      this.timer = undefined;
    }
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          try {
            await this.task();
          } catch {
            // the task reports its own failures
          }
        } while (this.again && !this.disposed);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) {
      this.timers.clear(this.timer);
      this.timer = undefined;
    }
  }
}

/** Whether a diagnostics change (the paths of the documents whose diagnostics changed) is one of a deployment file. */
export function touchesDeploymentFiles(paths: readonly string[]): boolean {
  return paths.some((fsPath) => isDeploymentFile(fsPath));
}
