#!/usr/bin/env node
// Tests of extension.js outside VS Code: `vscode` and the language client
// are replaced by small fakes that record what the extension does, and the
// "ftprep binaries" are shell scripts written to a temporary folder. Runs on
// Linux and macOS; skipped on Windows.

'use strict';

const assert = require('assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const Module = require('module');

if (process.platform === 'win32') {
  console.log('extension: skipped on Windows (the fake binaries are shell scripts)');
  console.log('extension: 0 passed, 0 failed');
  process.exit(0);
}

// ---------------------------------------------------------------------------
// Fakes
// ---------------------------------------------------------------------------

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ftprep-vscode-test-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

/** Writes an executable shell script and returns its path. */
function script(name, body) {
  const file = path.join(tmp, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

const fake = {
  settings: /** @type {Record<string, unknown>} */ ({}),
  errors: /** @type {{message: string, items: string[]}[]} */ ([]),
  commandsRun: /** @type {unknown[][]} */ ([]),
  commands: /** @type {Record<string, Function>} */ ({}),
  configListeners: /** @type {Function[]} */ ([]),
  clients: /** @type {FakeClient[]} */ ([]),
  workspaceFolders: /** @type {unknown[] | undefined} */ (undefined),
  answer: /** @type {string | undefined} */ (undefined),
  log: /** @type {string[]} */ ([]),
};

class FakeClient {
  constructor(id, name, serverOptions, clientOptions) {
    Object.assign(this, { id, name, serverOptions, clientOptions, started: false, disposed: false });
    fake.clients.push(this);
  }
  start() {
    this.started = true;
    return Promise.resolve();
  }
  dispose() {
    this.disposed = true;
    return Promise.resolve();
  }
}

const vscode = {
  window: {
    createOutputChannel: (name) => ({ name, appendLine: (l) => fake.log.push(l), dispose() {} }),
    showErrorMessage: (message, ...items) => {
      fake.errors.push({ message, items });
      return Promise.resolve(fake.answer);
    },
  },
  commands: {
    registerCommand: (id, fn) => {
      fake.commands[id] = fn;
      return { dispose() {} };
    },
    executeCommand: (...args) => {
      fake.commandsRun.push(args);
      return Promise.resolve();
    },
  },
  workspace: {
    getConfiguration: () => ({ get: (key) => fake.settings[key] }),
    onDidChangeConfiguration: (fn) => {
      fake.configListeners.push(fn);
      return { dispose() {} };
    },
    get workspaceFolders() {
      return fake.workspaceFolders;
    },
  },
};

const originalLoad = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === 'vscode') return vscode;
  if (request === 'vscode-languageclient/node') return { LanguageClient: FakeClient };
  return originalLoad.call(this, request, parent, isMain);
};

function reset(settings) {
  fake.settings = settings;
  fake.errors = [];
  fake.commandsRun = [];
  fake.commands = {};
  fake.configListeners = [];
  fake.clients = [];
  fake.workspaceFolders = undefined;
  fake.answer = undefined;
  fake.log = [];
  delete require.cache[require.resolve('../extension.js')];
  return require('../extension.js');
}

const context = () => ({ subscriptions: [] });
const settle = () => new Promise((r) => setTimeout(r, 50));

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

const good = script('bin/ftprep', 'echo "ftprep 0.1.0"');
const other = script('other/ftprep', 'echo "ftprep 0.2.0"');
const broken = script('broken/ftprep', 'echo "error: unexpected argument" >&2; exit 2');

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('starts `<path> lsp` over stdio when the binary runs', async () => {
  const ext = reset({ 'ftprep.server.path': good });
  await ext.activate(context());
  assert.strictEqual(fake.errors.length, 0, JSON.stringify(fake.errors));
  assert.strictEqual(fake.clients.length, 1);
  const [c] = fake.clients;
  assert.strictEqual(c.id, 'ftprep');
  assert.deepStrictEqual(c.serverOptions, { command: good, args: ['lsp'] });
  assert.deepStrictEqual(c.clientOptions.documentSelector, [
    { scheme: 'file', language: 'ftprep' },
    { scheme: 'untitled', language: 'ftprep' },
  ]);
  assert.ok(c.started);
  assert.ok(fake.log.some((l) => l.includes('ftprep 0.1.0')), fake.log.join('\n'));
});

test('a missing binary gives the install message and an Open Settings button', async () => {
  const ext = reset({ 'ftprep.server.path': path.join(tmp, 'nowhere', 'ftprep') });
  fake.answer = 'Open Settings';
  await ext.activate(context());
  await settle();
  assert.strictEqual(fake.clients.length, 0);
  assert.deepStrictEqual(fake.errors, [
    {
      message:
        `ftprep: could not start the language server: \`${path.join(tmp, 'nowhere', 'ftprep')}\` was not found. ` +
        'Install ftprep (`cargo install --path .` in the ftprep repository) or set `ftprep.server.path`.',
      items: ['Open Settings'],
    },
  ]);
  assert.deepStrictEqual(fake.commandsRun, [['workbench.action.openSettings', 'ftprep.server.path']]);
});

test('a bare name that is not on PATH gives the same message', async () => {
  const ext = reset({ 'ftprep.server.path': 'ftprep-not-installed-anywhere' });
  await ext.activate(context());
  assert.strictEqual(fake.clients.length, 0);
  assert.strictEqual(fake.errors.length, 1);
  assert.match(fake.errors[0].message, /`ftprep-not-installed-anywhere` was not found\. Install ftprep/);
});

test('a binary that fails says how', async () => {
  const ext = reset({ 'ftprep.server.path': broken });
  await ext.activate(context());
  assert.strictEqual(fake.clients.length, 0);
  assert.strictEqual(fake.errors.length, 1);
  assert.strictEqual(
    fake.errors[0].message,
    `ftprep: could not start the language server: \`${broken} --version\` exited with code 2: error: unexpected argument. Check \`ftprep.server.path\`.`,
  );
  assert.deepStrictEqual(fake.errors[0].items, ['Open Settings']);
});

test('a file that is not executable says so', async () => {
  const file = path.join(tmp, 'plain', 'ftprep');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, 'not a program\n', { mode: 0o644 });
  const ext = reset({ 'ftprep.server.path': file });
  await ext.activate(context());
  assert.strictEqual(fake.clients.length, 0);
  assert.match(fake.errors[0].message, /is not executable\. Check `ftprep\.server\.path`\.$/);
});

test('the default setting is `ftprep`', async () => {
  const ext = reset({});
  const PATH = process.env.PATH;
  process.env.PATH = `${path.dirname(good)}${path.delimiter}${PATH}`;
  try {
    await ext.activate(context());
  } finally {
    process.env.PATH = PATH;
  }
  assert.strictEqual(fake.errors.length, 0, JSON.stringify(fake.errors));
  assert.deepStrictEqual(fake.clients[0].serverOptions, { command: 'ftprep', args: ['lsp'] });
});

test('a relative path resolves against the workspace folder; ~ against the home folder', async () => {
  let ext = reset({ 'ftprep.server.path': 'bin/ftprep' });
  fake.workspaceFolders = [{ uri: { scheme: 'file', fsPath: tmp } }];
  await ext.activate(context());
  assert.deepStrictEqual(fake.clients[0].serverOptions, { command: good, args: ['lsp'] });

  ext = reset({ 'ftprep.server.path': '${workspaceFolder}/other/ftprep' });
  fake.workspaceFolders = [{ uri: { scheme: 'file', fsPath: tmp } }];
  await ext.activate(context());
  assert.deepStrictEqual(fake.clients[0].serverOptions, { command: other, args: ['lsp'] });

  const HOME = process.env.HOME;
  process.env.HOME = tmp;
  try {
    ext = reset({ 'ftprep.server.path': '~/bin/ftprep' });
    await ext.activate(context());
  } finally {
    process.env.HOME = HOME;
  }
  assert.deepStrictEqual(fake.clients[0].serverOptions, { command: good, args: ['lsp'] });
});

test('a bare name missing from PATH is found in ~/.cargo/bin', async () => {
  const name = 'ftprep-cargo-only';
  script(`cargo/bin/${name}`, 'echo "ftprep 0.1.0"');
  const CARGO_HOME = process.env.CARGO_HOME;
  process.env.CARGO_HOME = path.join(tmp, 'cargo');
  try {
    const ext = reset({ 'ftprep.server.path': name });
    await ext.activate(context());
  } finally {
    if (CARGO_HOME === undefined) delete process.env.CARGO_HOME;
    else process.env.CARGO_HOME = CARGO_HOME;
  }
  assert.strictEqual(fake.errors.length, 0, JSON.stringify(fake.errors));
  assert.deepStrictEqual(fake.clients[0].serverOptions, {
    command: path.join(tmp, 'cargo', 'bin', name),
    args: ['lsp'],
  });
});

test('changing ftprep.server.path restarts the client with the new binary', async () => {
  const ext = reset({ 'ftprep.server.path': good });
  await ext.activate(context());
  fake.settings['ftprep.server.path'] = other;
  for (const listener of fake.configListeners) listener({ affectsConfiguration: (s) => s === 'ftprep.server.path' });
  await settle();
  assert.strictEqual(fake.clients.length, 2);
  assert.ok(fake.clients[0].disposed);
  assert.deepStrictEqual(fake.clients[1].serverOptions, { command: other, args: ['lsp'] });
  assert.ok(fake.clients[1].started && !fake.clients[1].disposed);

  // Other settings leave the client alone.
  for (const listener of fake.configListeners) listener({ affectsConfiguration: (s) => s === 'editor.tabSize' });
  await settle();
  assert.strictEqual(fake.clients.length, 2);
});

test('ftprep.restartServer stops the client and starts a new one; deactivate stops it', async () => {
  const ext = reset({ 'ftprep.server.path': good });
  await ext.activate(context());
  await fake.commands['ftprep.restartServer']();
  assert.strictEqual(fake.clients.length, 2);
  assert.ok(fake.clients[0].disposed);
  assert.ok(fake.clients[1].started);
  await ext.deactivate();
  assert.ok(fake.clients[1].disposed);
});

test('after a failed start, restarting with a fixed setting starts the server', async () => {
  const ext = reset({ 'ftprep.server.path': path.join(tmp, 'nowhere', 'ftprep') });
  await ext.activate(context());
  assert.strictEqual(fake.clients.length, 0);
  fake.settings['ftprep.server.path'] = good;
  await fake.commands['ftprep.restartServer']();
  assert.strictEqual(fake.clients.length, 1);
  assert.ok(fake.clients[0].started);
});

test('package.json declares what extension.js uses', () => {
  const pkg = require('../package.json');
  assert.ok(pkg.activationEvents.includes('onLanguage:ftprep'));
  assert.ok(pkg.contributes.commands.some((c) => c.command === 'ftprep.restartServer'));
  const props = pkg.contributes.configuration.properties;
  assert.strictEqual(props['ftprep.server.path'].default, 'ftprep');
  assert.deepStrictEqual(props['ftprep.trace.server'].enum, ['off', 'messages', 'verbose']);
  assert.strictEqual(pkg.main, './extension.js');
});

(async () => {
  let passed = 0;
  let failed = 0;
  for (const { name, fn } of tests) {
    try {
      await fn();
      console.log(`✓ ${name}`);
      passed++;
    } catch (e) {
      console.log(`✖ ${name}\n    ${String(e && e.stack).split('\n').join('\n    ')}`);
      failed++;
    }
  }
  console.log(`extension: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
