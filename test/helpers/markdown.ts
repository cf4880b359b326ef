/**
 * Markdown helpers for the documentation tests: GitHub's heading anchors, so a test can check
 * that a link such as `README.md#crmforwardnotdurable` lands on a heading that exists.
 */

/**
 * The anchor GitHub gives a heading: lower case, markup and punctuation other than `-` and `_`
 * removed, spaces turned into hyphens (github/cmark-gfm's anchor rules; the same as
 * github-slugger without the duplicate counter).
 */
export function githubSlug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/\s/g, '-');
}
