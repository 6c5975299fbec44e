import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeDoctorReport } from '../../src/core/doctor';
import { ServerCommand } from '../../src/core/serverCommands';

const broken = {
  path: '/home/u/.skillmeat/cache/cache.db',
  state: 'empty-alembic-version',
  state_text: 'an empty alembic_version table: SkillMeat\'s tables were created without its migrations',
  verdict: 'broken',
  exit_code: 1,
  skillmeat_problem: null,
  text: 'SkillMeat cache: /home/u/.skillmeat/cache/cache.db\nstate:      an empty alembic_version table\nverdict:    broken: …',
};

describe('describeDoctorReport', () => {
  it('calls the server command the server registers', () => {
    assert.equal(ServerCommand.doctor, 'skillmeat.doctor');
  });

  it('shows a broken cache as an error naming its state and the repair', () => {
    const view = describeDoctorReport(broken);
    assert.equal(view.level, 'error');
    assert.match(view.message, /an empty alembic_version table/);
    assert.match(view.message, /skillmeat-ls doctor --repair/);
    assert.ok(!view.message.includes('created without'), 'the notification keeps to the short state');
    assert.equal(view.text, broken.text);
  });

  it('tells healthy and self-healing caches apart', () => {
    assert.equal(describeDoctorReport({ ...broken, verdict: 'healthy', state_text: 'healthy: at the head' }).level, 'info');
    const heals = describeDoctorReport({ ...broken, verdict: 'heals-itself', state_text: 'stamped with a revision the installed SkillMeat does not know' });
    assert.equal(heals.level, 'info');
    assert.match(heals.message, /fixes this itself/);
  });

  it('says why it could not tell, and survives a result that is no report', () => {
    const unknown = describeDoctorReport({ ...broken, verdict: 'unknown', skillmeat_problem: 'no SkillMeat found' });
    assert.equal(unknown.level, 'warning');
    assert.match(unknown.message, /no SkillMeat found/);
    const nothing = describeDoctorReport(null);
    assert.equal(nothing.level, 'warning');
    assert.match(nothing.text, /SkillMeat cache/);
  });
});
