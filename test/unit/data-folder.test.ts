/** What `npm run reset` may empty and `npm start` may adopt. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkResettable, isDataFolderContent, prepareDataFolder, protectedReason, realPath } from '../../scripts/lib/data-folder';

const base = mkdtempSync(join(tmpdir(), 'data-folder-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const guard = { repoRoot: '/work/repo', home: '/home/dev' };

describe('protectedReason', () => {
  it.each([['/'], ['/work'], ['/work/repo'], ['/home'], ['/home/dev']])('never lets %s be emptied', (dir) => {
    expect(protectedReason(dir, guard)).toBeDefined();
  });
  it.each([['/work/repo/.local'], ['/tmp/x'], ['/home/dev/data'], ['/work/repository']])('allows %s', (dir) => {
    expect(protectedReason(dir, guard)).toBeUndefined();
  });
});

describe('data folder rules', () => {
  it('knows only what npm start creates', () => {
    expect(isDataFolderContent([])).toBe(true);
    expect(isDataFolderContent(['s3', 'dynamodb', 'retry-queue', 'webhook-secret', 'server.json', '.elevenlabs-local-data'])).toBe(true);
    expect(isDataFolderContent(['s3', 'notes.txt'])).toBe(false);
  });

  it('adopts a new folder and marks it; refuses one holding other files', () => {
    const fresh = join(base, 'fresh');
    expect(prepareDataFolder(fresh, { repoRoot: '/nowhere/repo', home: '/nowhere/home' })).toBeUndefined();
    expect(checkResettable(fresh, '/nowhere/default', { repoRoot: '/nowhere/repo', home: '/nowhere/home' })).toEqual({
      dir: realPath(fresh),
      entries: ['.elevenlabs-local-data'],
    });

    const busy = join(base, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'thesis.tex'), '');
    expect(prepareDataFolder(busy)).toMatch(/already holds other files/);
    expect(checkResettable(busy, '/nowhere/default')).toMatchObject({
      problem: expect.stringMatching(/^refusing to empty .*busy: it is not a data folder made by npm start/),
    });
  });

  it('refuses an unmarked folder (unless it is the default one) and a link to the root', () => {
    const unmarked = join(base, 'unmarked');
    mkdirSync(join(unmarked, 's3'), { recursive: true });
    expect(checkResettable(unmarked, '/nowhere/default')).toHaveProperty('problem');
    expect(checkResettable(unmarked, unmarked)).toEqual({ dir: realPath(unmarked), entries: ['s3'] });

    const link = join(base, 'link-to-root');
    symlinkSync('/', link);
    expect(checkResettable(link, '/nowhere/default')).toEqual({ dir: '/', problem: 'refusing to empty /: it is the filesystem root' });
    expect(checkResettable(join(base, 'missing'), '/nowhere/default')).toMatchObject({ missing: true });
  });
});
