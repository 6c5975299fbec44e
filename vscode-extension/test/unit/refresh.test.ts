import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Refresher, Timers, touchesDeploymentFiles } from '../../src/core/refresh';

/** Timers that fire only when told to. */
function manualTimers() {
  let next = 0;
  const pending = new Map<number, { callback: () => void; ms: number }>();
  const timers: Timers = {
    set(callback, ms) {
      next += 1;
      pending.set(next, { callback, ms });
      return next;
    },
    clear(handle) {
      pending.delete(handle as number);
    },
  };
  const fire = () => {
    for (const [id, { callback }] of [...pending]) {
      pending.delete(id);
      callback();
    }
  };
  return { timers, pending, fire };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Refresher', () => {
  it('debounces a burst of requests into one run', async () => {
    let runs = 0;
    const clock = manualTimers();
    const refresher = new Refresher(async () => {
      runs += 1;
    }, 400, clock.timers);
    refresher.schedule();
    refresher.schedule();
    refresher.schedule();
    assert.equal(clock.pending.size, 1);
    assert.equal([...clock.pending.values()][0].ms, 400);
    clock.fire();
    await tick();
    assert.equal(runs, 1);
  });

  it('runs once more when asked while running, and never twice at once', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    let release: (() => void) | undefined;
    const refresher = new Refresher(async () => {
      running += 1;
      most = Math.max(most, running);
      runs += 1;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      running -= 1;
    }, 0, manualTimers().timers);
    const first = refresher.now();
    const second = refresher.now();
    const third = refresher.now();
    await tick();
    release?.();
    await tick();
    release?.();
    await Promise.all([first, second, third]);
    assert.equal(runs, 2, 'the requests made while running are one more run');
    assert.equal(most, 1);
  });

  it('cancels the pending run on now() and on dispose, and survives a failing task', async () => {
    let runs = 0;
    const clock = manualTimers();
    const refresher = new Refresher(async () => {
      runs += 1;
      throw new Error('server gone');
    }, 400, clock.timers);
    refresher.schedule();
    await refresher.now();
    assert.equal(clock.pending.size, 0);
    assert.equal(runs, 1);
    refresher.schedule();
    refresher.dispose();
    assert.equal(clock.pending.size, 0);
    await refresher.now();
    refresher.schedule();
    assert.equal(runs, 1);
  });
});

describe('touchesDeploymentFiles', () => {
  it('is true for deployment files of any profile root only', () => {
    assert.ok(touchesDeploymentFiles(['/w/a/src/x.ts', '/w/a/.agents/.skillmeat-deployed.toml']));
    assert.ok(touchesDeploymentFiles(['/w/a/.claude/deployment.toml']));
    assert.ok(!touchesDeploymentFiles(['/w/a/.claude/agents/helper.md', '/w/a/pyproject.toml']));
    assert.ok(!touchesDeploymentFiles([]));
  });
});
