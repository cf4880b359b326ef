/**
 * The documentation's links: every relative link in the README, docs/ and bench/README.md
 * resolves to a file in the repository, every `#anchor` to a heading that exists (GitHub's
 * slugs), and nothing points at a file the repository does not carry.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { githubSlug } from '../helpers/markdown';

const ROOT = join(import.meta.dirname, '..', '..');
const markdownFiles = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
  cwd: ROOT,
  encoding: 'utf8',
})
  .split('\n')
  .filter((file) => file !== '' && !file.startsWith('node_modules/'));

/** The text without fenced code blocks and inline code, where a `[x](y)` is not a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's anchors for a file's headings, with its -1, -2 suffixes for repeats. */
function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = githubSlug(heading ?? '');
    const count = seen.get(slug) ?? 0;
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
    seen.set(slug, count + 1);
  }
  return anchors;
}

function linksOf(file: string): string[] {
  const text = prose(readFileSync(join(ROOT, file), 'utf8'));
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] ?? '');
}

describe('documentation links', () => {
  it('finds the documents', () => {
    expect(markdownFiles).toEqual(expect.arrayContaining(['README.md', 'docs/contract.md', 'docs/crm-records.md', 'bench/README.md']));
  });

  it.each(markdownFiles)('%s: every relative link resolves, every anchor exists', (file) => {
    const broken: string[] = [];
    for (const link of linksOf(file)) {
      if (/^(https?:|mailto:)/.test(link)) continue;
      const [path = '', anchor] = link.split('#');
      const target = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)));
      if (!existsSync(join(ROOT, target))) {
        broken.push(`${link}: no such file ${target}`);
        continue;
      }
      if (anchor !== undefined && target.endsWith('.md') && !anchorsOf(target).has(anchor))
        broken.push(`${link}: no heading #${anchor} in ${target}`);
    }
    expect(broken).toEqual([]);
  });

  it.each(markdownFiles)('%s names no document the repository does not carry', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    expect(text).not.toMatch(/SPEC\.md|NOTES\.md|\bseeds\/|docs\/deploy\.md/);
  });

  it('knows a broken link when it sees one', () => {
    expect(anchorsOf('README.md').has('operate')).toBe(true);
    expect(anchorsOf('README.md').has('no-such-heading')).toBe(false);
    expect(linksOf('README.md')).toContain('docs/contract.md');
  });
});

describe('the data folders the documentation suggests', () => {
  /** `LOCAL_DATA_DIR=<folder>` and `LOCAL_DATA_DIR` values in the docs that are folders in the repository. */
  const suggested = [
    ...new Set(
      markdownFiles.flatMap((file) =>
        [...readFileSync(join(ROOT, file), 'utf8').matchAll(/LOCAL_DATA_DIR=([^\s`'")]+)/g)]
          .map((match) => match[1]!)
          .filter((folder) => !folder.startsWith('/') && !folder.startsWith('~') && !folder.startsWith('$')),
      ),
    ),
  ];

  it('include at least the second folder for a second npm start', () => {
    expect(suggested).toContain('.local-2');
  });

  it.each(suggested)('%s is git-ignored, so local data never lands in a commit', (folder) => {
    // git check-ignore exits 0 when the path is ignored, 1 when it is not.
    expect(() => execFileSync('git', ['check-ignore', '-q', `${folder}/webhook-secret`], { cwd: ROOT })).not.toThrow();
  });
});
