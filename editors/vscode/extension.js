// @ts-check
// The ftprep extension: starts `<ftprep.server.path> lsp` and connects VS Code
// to it over stdio. Highlighting, brackets, comments and indentation come
// from the grammar and the language configuration and need no server.

'use strict';

const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');
const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const SETTING = 'ftprep.server.path';
/** How long `<path> --version` may take before the binary counts as broken. */
const PROBE_TIMEOUT_MS = 10000;

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.OutputChannel} */
let outputChannel;
/** @type {vscode.OutputChannel} */
let traceOutputChannel;
/** Starts and stops run one after the other, in the order asked for. */
let queue = Promise.resolve();

/**
 * @param {() => Promise<void>} task
 * @returns {Promise<void>}
 */
function enqueue(task) {
  queue = queue.then(task).catch((error) => log(`error: ${errorMessage(error)}`));
  return queue;
}

/** @param {vscode.ExtensionContext} context */
function activate(context) {
  outputChannel = vscode.window.createOutputChannel('ftprep Language Server');
  traceOutputChannel = vscode.window.createOutputChannel('ftprep Language Server Trace');
  context.subscriptions.push(
    outputChannel,
    traceOutputChannel,
    vscode.commands.registerCommand('ftprep.restartServer', () => enqueue(restart)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(SETTING)) {
        log(`${SETTING} changed; restarting the language server`);
        void enqueue(restart);
      }
    }),
  );
  return enqueue(start);
}

function deactivate() {
  return enqueue(stop);
}

async function restart() {
  await stop();
  await start();
}

async function start() {
  const configured = vscode.workspace.getConfiguration().get(SETTING);
  const setting = typeof configured === 'string' && configured.trim() !== '' ? configured.trim() : 'ftprep';
  const command = resolveCommand(setting);

  let probe = await runVersion(command);
  let used = command;
  if (!probe.ok && probe.notFound && isBareName(setting)) {
    // `cargo install` puts binaries in ~/.cargo/bin, which is not always on
    // the PATH that VS Code was started with.
    const cargoBinary = cargoBinPath(setting);
    if (cargoBinary && fs.existsSync(cargoBinary)) {
      const second = await runVersion(cargoBinary);
      if (second.ok) {
        log(`\`${setting}\` is not on PATH; using ${cargoBinary}`);
        probe = second;
        used = cargoBinary;
      }
    }
  }
  if (!probe.ok) {
    reportUnusable(command, probe);
    return;
  }

  log(`starting \`${used} lsp\` (${probe.version || 'unknown version'})`);
  const newClient = new LanguageClient(
    'ftprep',
    'ftprep Language Server',
    // No `transport`: the client would add a `--stdio` argument for it.
    { command: used, args: ['lsp'] },
    {
      documentSelector: [
        { scheme: 'file', language: 'ftprep' },
        { scheme: 'untitled', language: 'ftprep' },
      ],
      outputChannel,
      traceOutputChannel,
    },
  );
  client = newClient;
  // Not awaited: a server that never answers `initialize` must not block a
  // later restart. A failure to start is reported by the client itself.
  newClient.start().catch((error) => log(`the language server failed to start: ${errorMessage(error)}`));
}

async function stop() {
  const running = client;
  client = undefined;
  if (!running) return;
  try {
    // Asks the server to shut down, then kills the process if it lingers.
    await running.dispose(2000);
  } catch (error) {
    // A client that never got running cannot be shut down politely; its
    // process is terminated all the same.
    log(`stopping the language server: ${errorMessage(error)}`);
  }
}

/**
 * Turns the setting into the command to run: `~` and `${userHome}` expand,
 * `${workspaceFolder}` is the first workspace folder, and a relative path
 * with a directory in it resolves against the first workspace folder. A
 * bare name such as `ftprep` is left for the operating system to find on
 * PATH.
 *
 * @param {string} setting
 * @returns {string}
 */
function resolveCommand(setting) {
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
  let value = setting.replace(/\$\{userHome\}/g, os.homedir());
  if (folder) value = value.replace(/\$\{workspaceFolder\}/g, folder);
  if (value === '~' || value.startsWith('~/') || value.startsWith('~\\')) {
    value = path.join(os.homedir(), value.slice(1));
  }
  if (!isBareName(value) && !path.isAbsolute(value) && folder) {
    value = path.resolve(folder, value);
  }
  return value;
}

/** @param {string} value */
function isBareName(value) {
  return !value.includes('/') && !value.includes('\\');
}

/** @param {string} name */
function cargoBinPath(name) {
  const cargoHome = process.env.CARGO_HOME || path.join(os.homedir(), '.cargo');
  const file = process.platform === 'win32' && !/\.exe$/i.test(name) ? `${name}.exe` : name;
  return path.join(cargoHome, 'bin', file);
}

/**
 * @typedef {{ ok: true, version: string }
 *   | { ok: false, notFound: boolean, reason: string }} Probe
 */

/**
 * Runs `<command> --version` to check that the binary exists and runs.
 *
 * @param {string} command
 * @returns {Promise<Probe>}
 */
function runVersion(command) {
  return new Promise((resolve) => {
    childProcess.execFile(
      command,
      ['--version'],
      { timeout: PROBE_TIMEOUT_MS, windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ ok: true, version: String(stdout).trim() });
          return;
        }
        const code = /** @type {NodeJS.ErrnoException} */ (error).code;
        if (code === 'ENOENT') {
          resolve({ ok: false, notFound: true, reason: 'not found' });
        } else if (code === 'EACCES') {
          resolve({ ok: false, notFound: false, reason: `\`${command}\` is not executable` });
        } else if (error.killed) {
          resolve({
            ok: false,
            notFound: false,
            reason: `\`${command} --version\` did not finish within ${PROBE_TIMEOUT_MS / 1000} seconds`,
          });
        } else {
          const detail = String(stderr).trim().split(/\r?\n/)[0];
          const status = typeof code === 'number' ? `exited with code ${code}` : errorMessage(error);
          resolve({
            ok: false,
            notFound: false,
            reason: `\`${command} --version\` ${status}${detail ? `: ${detail}` : ''}`,
          });
        }
      },
    );
  });
}

/**
 * @param {string} command
 * @param {Probe & { ok: false }} probe
 */
function reportUnusable(command, probe) {
  const message = probe.notFound
    ? `ftprep: could not start the language server: \`${command}\` was not found. ` +
      'Install ftprep (`cargo install --path .` in the ftprep repository) or set `ftprep.server.path`.'
    : `ftprep: could not start the language server: ${probe.reason}. Check \`ftprep.server.path\`.`;
  log(message);
  const openSettings = 'Open Settings';
  void vscode.window.showErrorMessage(message, openSettings).then((choice) => {
    if (choice === openSettings) {
      void vscode.commands.executeCommand('workbench.action.openSettings', SETTING);
    }
  });
}

/** @param {string} line */
function log(line) {
  outputChannel?.appendLine(`[${new Date().toLocaleTimeString()}] ${line}`);
}

/** @param {unknown} error */
function errorMessage(error) {
  return error instanceof Error ? error.message : String(error);
}

module.exports = { activate, deactivate };
