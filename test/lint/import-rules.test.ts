// Proves that eslint.config.js enforces DESIGN.md's import rules: every deliberate violation in
// test/fixtures/lint/ is reported (linted as if it lived at the path on its first line), nothing
// else in those files is, clean code in each folder passes, and the real tree has no violations.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = join(repo, 'test/fixtures/lint');
const LAYERING_RULES = new Set(['no-restricted-imports', 'no-restricted-syntax', '@typescript-eslint/triple-slash-reference']);

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: repo, overrideConfigFile: join(repo, 'eslint.config.js'), errorOnUnmatchedPattern: false });
});

async function lintAs(code: string, filePath: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath });
  if (!result) throw new Error(`no lint result for ${filePath}`);
  return result.messages;
}

/** Layering messages and anything fatal (a parse error would hide every violation). */
function layering(messages: Linter.LintMessage[]): Linter.LintMessage[] {
  return messages.filter((m) => m.fatal || (m.ruleId !== null && LAYERING_RULES.has(m.ruleId)));
}

interface Fixture {
  name: string;
  lintAs: string;
  code: string;
  violationLines: number[];
}

function loadFixtures(): Fixture[] {
  return readdirSync(fixtures).filter((f) => /\.tsx?$/.test(f)).sort().map((name) => {
    const code = readFileSync(join(fixtures, name), 'utf8');
    const target = /^\/\/ lint-as: (\S+)/.exec(code)?.[1];
    if (!target) throw new Error(`${name} must start with "// lint-as: <path>"`);
    const violationLines = code.split('\n').flatMap((line, i) => (line.trimEnd().endsWith('// VIOLATION') ? [i + 1] : []));
    return { name, lintAs: target, code, violationLines };
  });
}

describe('import rules (eslint.config.js)', () => {
  const all = loadFixtures();

  it('has a fixture for each layer boundary', () => {
    const targets = all.map((f) => f.lintAs);
    for (const folder of ['src-main/core/', 'src-shared/', 'src-renderer/', 'src-main/electron/preload', 'src-main/cli.ts']) {
      expect(targets.some((t) => t.startsWith(folder)), `a fixture linted as ${folder}…`).toBe(true);
    }
  });

  for (const fixture of all) {
    it(`${fixture.name}: reports exactly the lines marked VIOLATION (as ${fixture.lintAs})`, async () => {
      const reported = layering(await lintAs(fixture.code, fixture.lintAs));
      expect(reported.filter((m) => m.fatal)).toEqual([]);
      const lines = [...new Set(reported.map((m) => m.line))].sort((a, b) => a - b);
      expect(lines).toEqual(fixture.violationLines);
    });
  }

  it('names the rule a core file breaks when it imports electron', async () => {
    const [message] = await lintAs("import { app } from 'electron';\nexport const a = app;\n", 'src-main/core/x.ts');
    expect(message?.ruleId).toBe('no-restricted-imports');
    expect(message?.message).toContain("only src-main/electron/ may import 'electron'");
  });

  const clean: Record<string, string> = {
    'src-shared/x.ts': "import { ok } from './result.js';\nimport type { AppApi } from './api.js';\nexport const f = (): ReturnType<typeof ok<number>> => ok(1);\nexport type A = AppApi;\n",
    'src-shared/sub/x.ts': "import { ok } from '../result.js';\nexport const f = () => ok(1);\n",
    'src-main/core/x.ts': "import { readFile } from 'node:fs/promises';\nimport { ok } from '../../src-shared/result.js';\nexport const f = async (p: string) => ok(await readFile(p));\n",
    'src-main/electron/x.ts': "import { app } from 'electron';\nimport { join } from 'node:path';\nexport const f = () => join(app.getPath('userData'), 'x');\n",
    'src-renderer/features/x/X.tsx': "import { useState } from 'react';\nimport { api } from '../../api.js';\nexport function X() {\n  const [n] = useState(0);\n  return <p>{n}{String(api)}</p>;\n}\n",
    'src-renderer/api.ts': 'export const bridge = () => window.medrelay;\n',
  };
  for (const [filePath, code] of Object.entries(clean)) {
    it(`passes clean code in ${filePath}`, async () => {
      expect(await lintAs(code, filePath)).toEqual([]);
    });
  }

  it('finds no layering violation in the real source tree', async () => {
    const results = await eslint.lintFiles(['src-shared', 'src-main', 'src-renderer']);
    const found = results.flatMap((r) => layering(r.messages).map((m) => `${r.filePath}:${m.line} ${m.message}`));
    expect(found).toEqual([]);
  });
});
