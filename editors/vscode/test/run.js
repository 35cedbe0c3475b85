#!/usr/bin/env node
// `npm test`: runs every test suite of the extension, prints their output
// and a total, and fails if any of them fails.
//
//   typecheck               tsc over extension.js (jsconfig.json)
//   snapshots               test/snap.js: the grammar over ../../specs/*.ftprep
//   grammar cases           vscode-tmgrammar-test over test/cases/*.ftprep
//   language configuration  test/language-configuration.js
//   extension               test/extension.js

'use strict';

const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const node = process.execPath;

const suites = [
  {
    name: 'typecheck',
    args: [path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc'), '-p', 'jsconfig.json'],
    // tsc prints nothing on success.
    count: (out, ok) => (ok ? [1, 0] : [0, 1]),
    passMessage: '✓ extension.js type-checks against @types/vscode 1.82',
  },
  { name: 'snapshots', args: [path.join(__dirname, 'snap.js')] },
  {
    name: 'grammar cases',
    args: [require.resolve('vscode-tmgrammar-test/dist/unit.js'), '--config', 'package.json', 'test/cases/*.ftprep'],
    count: (out) => [(out.match(/^✓ /gm) || []).length, (out.match(/^✖ /gm) || []).length],
  },
  { name: 'language configuration', args: [path.join(__dirname, 'language-configuration.js')] },
  { name: 'extension', args: [path.join(__dirname, 'extension.js')] },
];

/** The counts of a suite's closing line "name: N passed, M failed". */
function closingCounts(out) {
  const m = /(\d+) passed, (\d+) failed\s*$/.exec(out);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

let passed = 0;
let failed = 0;
let suitesFailed = 0;
for (const suite of suites) {
  console.log(`\n── ${suite.name}`);
  const run = spawnSync(node, suite.args, { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  const out = (run.stdout || '') + (run.stderr || '');
  process.stdout.write(out.endsWith('\n') || out === '' ? out : out + '\n');
  const ok = run.status === 0;
  if (ok && suite.passMessage) console.log(suite.passMessage);
  let [p, f] = (suite.count || closingCounts)(out, ok);
  if (!ok && f === 0) f = 1; // a suite that crashed counts as a failure
  if (!ok) suitesFailed++;
  passed += p;
  failed += f;
}

console.log(`\n${suitesFailed === 0 ? 'all suites passed' : `${suitesFailed} suite(s) failed`}`);
console.log(`vscode: ${passed} passed, ${failed} failed`);
process.exit(suitesFailed === 0 ? 0 : 1);
