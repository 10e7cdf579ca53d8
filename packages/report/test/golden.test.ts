import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMENT_LIMIT, COMMENT_MARKER } from '../src/index.ts';
import { GOLDEN_CASES } from './golden-cases.ts';

const GOLDEN_DIR = join(import.meta.dirname, 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

describe('golden comments (UPDATE_GOLDEN=1 rewrites them)', () => {
  for (const c of GOLDEN_CASES) {
    it(`renders the ${c.name} comment exactly as test/golden/${c.name}.md`, () => {
      const markdown = c.render();
      const file = join(GOLDEN_DIR, `${c.name}.md`);
      if (UPDATE) writeFileSync(file, markdown);
      expect(existsSync(file), `${file} is missing: run the test with UPDATE_GOLDEN=1`).toBe(true);
      expect(markdown.startsWith(`${COMMENT_MARKER}\n`)).toBe(true);
      expect(markdown.length).toBeLessThanOrEqual(COMMENT_LIMIT);
      expect(markdown).toBe(readFileSync(file, 'utf8'));
    });
  }
});
