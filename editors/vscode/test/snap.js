#!/usr/bin/env node
// Snapshot tests of the TextMate grammar over the specs shipped in the
// repository's `specs/` folder.
//
// The specs are copied into test/snapshots/ (the copies are ignored by git)
// and `vscode-tmgrammar-snap` compares their tokens with the committed
// `<name>.ftprep.snap` files there. A snap file holds every source line with
// the scopes of its tokens, so a change to the grammar *or* to a shipped
// spec shows up as a failing diff.
//
//   node test/snap.js                   check; fails on any difference
//   node test/snap.js --updateSnapshot  accept the current output
//
// Unlike `vscode-tmgrammar-snap` on its own, a missing snap file is a
// failure here (the tool would quietly create it and pass), and so is a
// snap file left behind for a spec that no longer exists.

'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const root = path.resolve(__dirname, '..');
const specsDir = path.resolve(root, '..', '..', 'specs');
const snapDir = path.join(__dirname, 'snapshots');
const snapTool = require.resolve('vscode-tmgrammar-test/dist/snapshot.js');
const update = process.argv.slice(2).some((a) => a === '--updateSnapshot' || a === '-u');

if (!fs.existsSync(specsDir)) {
  console.error(`snapshot: no specs folder at ${specsDir}`);
  process.exit(1);
}
const specs = fs
  .readdirSync(specsDir)
  .filter((f) => f.endsWith('.ftprep'))
  .sort();
if (specs.length === 0) {
  console.error(`snapshot: no .ftprep files in ${specsDir}`);
  process.exit(1);
}

fs.mkdirSync(snapDir, { recursive: true });

let passed = 0;
let failed = 0;

// Snap files whose spec is gone.
for (const f of fs.readdirSync(snapDir)) {
  if (!f.endsWith('.ftprep.snap')) continue;
  const spec = f.slice(0, -'.snap'.length);
  if (specs.includes(spec)) continue;
  if (update) {
    fs.unlinkSync(path.join(snapDir, f));
    const copy = path.join(snapDir, spec);
    if (fs.existsSync(copy)) fs.unlinkSync(copy);
    console.log(`snapshot: removed ${path.relative(root, path.join(snapDir, f))} (specs/${spec} no longer exists)`);
  } else {
    console.log(`✖ ${f}: specs/${spec} no longer exists; run \`npm run test:update\` to remove the snapshot`);
    failed++;
  }
}

for (const spec of specs) {
  const copy = path.join(snapDir, spec);
  fs.copyFileSync(path.join(specsDir, spec), copy);
  const rel = path.relative(root, copy);
  if (!update && !fs.existsSync(copy + '.snap')) {
    console.log(`✖ specs/${spec}: no snapshot ${rel}.snap; run \`npm run test:update\` to create it`);
    failed++;
    continue;
  }
  const args = [snapTool, '--config', path.join(root, 'package.json'), rel];
  if (update) args.push('--updateSnapshot');
  const run = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
  const output = (run.stdout || '') + (run.stderr || '');
  if (run.status === 0) {
    if (update) process.stdout.write(output);
    console.log(`✓ specs/${spec}`);
    passed++;
  } else {
    process.stdout.write(output);
    console.log(`✖ specs/${spec}: the tokens differ from ${rel}.snap (run \`npm run test:update\` if the change is intended)`);
    failed++;
  }
}

console.log(`snapshot: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
