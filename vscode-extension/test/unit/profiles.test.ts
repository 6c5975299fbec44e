import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEPLOYMENT_FILE_GLOBS,
  isDeploymentFile,
  isProfileRootName,
  isSkillmeatSibling,
  profileArgument,
  profileChoices,
  profileIdForRoot,
  profileRootOf,
} from '../../src/core/profiles';
import { profileRootsIn, projectCandidates, projectRootOf } from '../../src/core/projects';
import { profileItems, projectItems } from '../../src/core/quickPicks';
import { ProfileRootIndex, forwardRootEvent } from '../../src/core/watch';

describe('profileIdForRoot', () => {
  it('maps the built-in roots to their SkillMeat profile ids', () => {
    assert.equal(profileIdForRoot('.claude'), 'claude_code');
    assert.equal(profileIdForRoot('.agents'), 'codex');
    assert.equal(profileIdForRoot('.codex'), 'codex');
    assert.equal(profileIdForRoot('.gemini'), 'gemini');
    assert.equal(profileIdForRoot('.cursor'), 'cursor');
    assert.equal(profileIdForRoot('.bob'), 'bob');
  });
  it('takes a custom root without its dot', () => {
    assert.equal(profileIdForRoot('.mytool'), 'mytool');
    assert.equal(profileIdForRoot('.my-tool_2'), 'my-tool_2');
  });
  it('sends the profile only when it is not claude_code', () => {
    assert.equal(profileArgument('claude_code'), undefined);
    assert.equal(profileArgument(undefined), undefined);
    assert.equal(profileArgument(''), undefined);
    assert.equal(profileArgument('codex'), 'codex');
  });
});

describe('isDeploymentFile', () => {
  it('accepts <root>/.skillmeat-deployed.toml under any dot-directory', () => {
    for (const root of ['.claude', '.agents', '.codex', '.gemini', '.cursor', '.bob', '.mytool']) {
      assert.equal(isDeploymentFile(`/w/app/${root}/.skillmeat-deployed.toml`), true, root);
    }
    assert.equal(isDeploymentFile('C:\\w\\app\\.agents\\.skillmeat-deployed.toml'), true);
    assert.equal(isDeploymentFile('.agents/.skillmeat-deployed.toml'), true);
  });
  it('accepts deployment.toml only under .claude', () => {
    assert.equal(isDeploymentFile('/w/app/.claude/deployment.toml'), true);
    assert.equal(isDeploymentFile('/w/app/.agents/deployment.toml'), false);
    assert.equal(isDeploymentFile('/w/app/deployment.toml'), false);
  });
  it('rejects files outside a dot-directory and other names', () => {
    assert.equal(isDeploymentFile('/w/app/.skillmeat-deployed.toml'), false);
    assert.equal(isDeploymentFile('/w/app/claude/.skillmeat-deployed.toml'), false);
    assert.equal(isDeploymentFile('/w/app/.claude/skills/.skillmeat-deployed.toml'), false);
    assert.equal(isDeploymentFile('/w/app/.claude/other.toml'), false);
    assert.equal(isDeploymentFile('/w/app/../.skillmeat-deployed.toml'), false);
    assert.equal(isDeploymentFile('.skillmeat-deployed.toml'), false);
  });
  it("rejects SkillMeat's lock, temp, backup and swap-aside siblings", () => {
    const siblings = [
      '/w/app/.claude/..skillmeat-deployed.toml.skillmeat-lock',
      '/w/app/.agents/..skillmeat-deployed.toml.skillmeat-txn-1a2b3c4d',
      '/w/app/.agents/..skillmeat-deployed.toml.k2j4h5.txn.tmp',
      '/w/app/.agents/..skillmeat-deployed.toml.txn-1a2b3c4d',
      '/w/app/.claude/..skillmeat-deployed.toml.skillmeat-swap-aside-1a2b3c4d',
      // a whole root set aside or staged is no profile root
      '/w/app/..claude.skillmeat-swap-aside-1a2b3c4d/.skillmeat-deployed.toml',
      '/w/app/..agents.skillmeat-txn-1a2b3c4d/.skillmeat-deployed.toml',
      '/w/app/..agents.txn-1a2b3c4d/.skillmeat-deployed.toml',
      '/w/app/.claude/.skillmeat-staging-x1y2/.skillmeat-deployed.toml',
    ];
    for (const file of siblings) {
      assert.equal(isDeploymentFile(file), false, file);
    }
    assert.equal(isSkillmeatSibling('.review.md.skillmeat-lock'), true);
    assert.equal(isSkillmeatSibling('.agents'), false);
    assert.equal(isProfileRootName('.agents'), true);
    assert.equal(isProfileRootName('..'), false);
    assert.equal(isProfileRootName('.'), false);
    assert.equal(isProfileRootName('agents'), false);
  });
  it('has globs for both names', () => {
    assert.deepEqual([...DEPLOYMENT_FILE_GLOBS], ['**/.*/.skillmeat-deployed.toml', '**/.claude/deployment.toml']);
  });
});

describe('profileRootOf / projectRootOf', () => {
  it('finds the project (parent of the profile root), the root and the profile id', () => {
    assert.deepEqual(profileRootOf('/w/app/.agents/.skillmeat-deployed.toml'), {
      project: '/w/app',
      root: '.agents',
      rootPath: '/w/app/.agents',
      profileId: 'codex',
    });
    assert.deepEqual(profileRootOf('C:\\w\\app\\.mytool\\.skillmeat-deployed.toml'), {
      project: 'C:\\w\\app',
      root: '.mytool',
      rootPath: 'C:\\w\\app\\.mytool',
      profileId: 'mytool',
    });
    assert.equal(profileRootOf('/.claude/.skillmeat-deployed.toml')?.project, '/');
    assert.equal(projectRootOf('/w/app/.gemini/.skillmeat-deployed.toml'), '/w/app');
    assert.equal(projectRootOf('/w/app/.gemini/..skillmeat-deployed.toml.skillmeat-lock'), undefined);
  });
});

describe('projectCandidates (project discovery from file paths)', () => {
  it('makes one project per parent of a profile root, with its roots, .claude first', () => {
    const candidates = projectCandidates(
      [
        '/w/multi/.agents/.skillmeat-deployed.toml',
        '/w/multi/.claude/.skillmeat-deployed.toml',
        '/w/multi/.gemini/.skillmeat-deployed.toml',
        '/w/multi/.claude/deployment.toml',
        '/w/codex-only/.agents/.skillmeat-deployed.toml',
        '/w/custom/.mytool/.skillmeat-deployed.toml',
      ],
      ['/w'],
    );
    assert.deepEqual(
      candidates.map((c) => [c.label, c.profileRoots, c.deploymentFile ?? null]),
      [
        ['codex-only', ['.agents'], '/w/codex-only/.agents/.skillmeat-deployed.toml'],
        ['custom', ['.mytool'], '/w/custom/.mytool/.skillmeat-deployed.toml'],
        ['multi', ['.claude', '.agents', '.gemini'], '/w/multi/.claude/.skillmeat-deployed.toml'],
        ['w', [], null],
      ],
    );
  });
  it('ignores lock and temp siblings and offers a workspace folder that is itself a project once', () => {
    const candidates = projectCandidates(
      [
        '/w/.agents/.skillmeat-deployed.toml',
        '/w/.agents/..skillmeat-deployed.toml.skillmeat-lock',
        '/w/app/.claude/..skillmeat-deployed.toml.skillmeat-lock',
        '/w/app/.claude/..skillmeat-deployed.toml.3kd8s.txn.tmp',
        '/w/..claude.skillmeat-swap-aside-0a1b2c3d/.skillmeat-deployed.toml',
      ],
      ['/w'],
    );
    assert.deepEqual(
      candidates.map((c) => [c.root, c.profileRoots]),
      [['/w', ['.agents']]],
    );
    assert.equal(projectItems(candidates)[0].description, '.agents/');
  });
  it('labels projects of several workspace folders with the folder name', () => {
    const candidates = projectCandidates(['/w/b/.cursor/.skillmeat-deployed.toml'], ['/w', '/other']);
    assert.deepEqual(
      candidates.map((c) => c.label),
      ['w/b', 'w', 'other'],
    );
    assert.equal(projectItems(candidates)[1].description, 'no deployment file yet');
  });
});

describe('profileRootsIn', () => {
  it('keeps the dot-directories that hold a deployment file, .claude first', async () => {
    const entries = [
      { name: '.git', isDirectory: true },
      { name: '.venv', isDirectory: true },
      { name: '.agents', isDirectory: true },
      { name: '.claude', isDirectory: true },
      { name: '.mytool', isDirectory: true },
      { name: '.gemini', isDirectory: false },
      { name: '..claude.skillmeat-swap-aside-0a1b2c3d', isDirectory: true },
      { name: 'src', isDirectory: true },
    ];
    const holding = new Set(['.agents', '.claude', '.mytool', '..claude.skillmeat-swap-aside-0a1b2c3d', 'src']);
    assert.deepEqual(await profileRootsIn(entries, async (root) => holding.has(root)), ['.claude', '.agents', '.mytool']);
  });
});

describe('profileChoices / profileItems', () => {
  it('offers one choice per profile id, claude_code first, then built-ins, then custom ids', () => {
    const choices = profileChoices(['.mytool', '.codex', '.gemini', '.agents', '.claude', '.aaa']);
    assert.deepEqual(
      choices.map((c) => [c.id, c.roots]),
      [
        ['claude_code', ['.claude']],
        ['codex', ['.agents', '.codex']],
        ['gemini', ['.gemini']],
        ['aaa', ['.aaa']],
        ['mytool', ['.mytool']],
      ],
    );
  });
  it('adds claude_code for a deploy when the project has no .claude yet', () => {
    assert.deepEqual(profileChoices(['.agents'], { includeDefault: true }).map((c) => c.id), ['claude_code', 'codex']);
    assert.deepEqual(profileChoices(['.agents']).map((c) => c.id), ['codex']);
    assert.deepEqual(profileChoices([], { includeDefault: true }).map((c) => c.id), ['claude_code']);
    assert.deepEqual(profileChoices(['.claude'], { includeDefault: true }).map((c) => c.id), ['claude_code']);
  });
  it('describes each profile with its id and roots', () => {
    const items = profileItems(profileChoices(['.agents', '.mytool'], { includeDefault: true }), 'codex');
    assert.deepEqual(
      items.map((i) => [i.label, i.description]),
      [
        ['$(account) Claude Code', 'claude_code · .claude/ (new) · default'],
        ['$(account) Codex', 'codex · .agents/ · this file'],
        ['$(account) mytool', 'mytool · .mytool/'],
      ],
    );
  });
});

describe('ProfileRootIndex / forwardRootEvent (the client watchers)', () => {
  it('watches a root while it holds a deployment file', () => {
    const index = new ProfileRootIndex();
    assert.equal(index.add('/w/app/.agents/.skillmeat-deployed.toml'), '/w/app/.agents');
    assert.equal(index.add('/w/app/.agents/.skillmeat-deployed.toml'), undefined);
    assert.equal(index.add('/w/app/.claude/deployment.toml'), '/w/app/.claude');
    assert.equal(index.add('/w/app/.claude/.skillmeat-deployed.toml'), undefined);
    assert.equal(index.add('/w/app/.git/config'), undefined);
    assert.equal(index.add('/w/app/.claude/..skillmeat-deployed.toml.skillmeat-lock'), undefined);
    assert.deepEqual(index.roots(), ['/w/app/.agents', '/w/app/.claude']);
    assert.equal(index.remove('/w/app/.claude/deployment.toml'), undefined);
    assert.equal(index.remove('/w/app/.claude/.skillmeat-deployed.toml'), '/w/app/.claude');
    assert.equal(index.has('/w/app/.claude'), false);
    assert.equal(index.has('/w/app/.agents'), true);
  });
  it("forwards the files under a root, not the deployment file itself nor SkillMeat's siblings", () => {
    const root = '/w/app/.agents';
    assert.equal(forwardRootEvent(root, '/w/app/.agents/agents/x.md'), true);
    assert.equal(forwardRootEvent(root, '/w/app/.agents/skills/review/SKILL.md'), true);
    assert.equal(forwardRootEvent(root, '/w/app/.agents/skills/review'), true);
    assert.equal(forwardRootEvent(root, '/w/app/.agents/.skillmeat-deployed.toml'), false);
    assert.equal(forwardRootEvent(root, '/w/app/.agents/..skillmeat-deployed.toml.skillmeat-lock'), false);
    assert.equal(forwardRootEvent(root, '/w/app/.agents/agents/.x.md.skillmeat-lock'), false);
    assert.equal(forwardRootEvent(root, '/w/app/.agents/skills/.review.skillmeat-swap-aside-0a1b2c3d/SKILL.md'), false);
    assert.equal(forwardRootEvent(root, '/w/app/.agents/skills/.review.txn-0a1b2c3d/SKILL.md'), false);
    assert.equal(forwardRootEvent(root, '/w/app/.agentsx/agents/x.md'), false);
    assert.equal(forwardRootEvent(root, '/w/app/.agents'), false);
    assert.equal(forwardRootEvent('C:\\w\\.mytool', 'C:\\w\\.mytool\\commands\\review.md'), true);
  });
});
