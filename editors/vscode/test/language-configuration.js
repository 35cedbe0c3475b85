#!/usr/bin/env node
// Checks of language-configuration.json that need no running VS Code:
//
// * every regular expression compiles, and the word pattern, the
//   indentation rules and the on-enter rules match what they should;
// * typing quotes and braces auto-closes as intended. VS Code decides what
//   to auto-close from the language configuration *and* from the token type
//   (string, comment, other) that the TextMate grammar gives the text around
//   the cursor, so this test tokenizes with the real grammar (through
//   vscode-textmate, with the `tokenTypes` of package.json) and replays the
//   rules of VS Code's typing code (AutoClosingOpenCharTypeOperation
//   .getAutoClosingPairClose and the overtype check in
//   src/vs/editor/common/cursor/cursorTypeEditOperations.ts, 1.82 to 1.9x).
//   It is a model of those rules, not VS Code itself.

'use strict';

const fs = require('fs');
const path = require('path');
const assert = require('assert');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const root = path.resolve(__dirname, '..');
const pkg = require(path.join(root, 'package.json'));
const config = require(path.join(root, 'language-configuration.json'));
const grammarContribution = pkg.contributes.grammars.find((g) => g.language === 'ftprep');

const StandardTokenType = { Other: 0, Comment: 1, String: 2, RegEx: 3 };
const TOKEN_TYPE_NAMES = { other: 0, comment: 1, string: 2 };

// ---------------------------------------------------------------------------
// Tokenizing
// ---------------------------------------------------------------------------

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== grammarContribution.scopeName) return null;
      const file = path.join(root, grammarContribution.path);
      return vsctm.parseRawGrammar(fs.readFileSync(file, 'utf8'), file);
    },
  });
  const tokenTypes = {};
  for (const [selector, type] of Object.entries(grammarContribution.tokenTypes || {})) {
    tokenTypes[selector] = TOKEN_TYPE_NAMES[type];
  }
  return registry.loadGrammarWithConfiguration(grammarContribution.scopeName, 1, { tokenTypes });
}

/** The standard token types of one line: [{ start, end, type }]. */
function lineTokens(grammar, lines, lineIndex, text = lines[lineIndex]) {
  let state = vsctm.INITIAL;
  for (let i = 0; i < lineIndex; i++) state = grammar.tokenizeLine2(lines[i], state).ruleStack;
  const raw = grammar.tokenizeLine2(text, state).tokens;
  const tokens = [];
  for (let i = 0; i < raw.length; i += 2) {
    const start = raw[i];
    const end = i + 2 < raw.length ? raw[i + 2] : text.length;
    tokens.push({ start, end, type: (raw[i + 1] & 0x300) >>> 8 });
  }
  return tokens;
}

function tokenTypeAtOffset(tokens, offset) {
  // LineTokens.findTokenIndexAtOffset: the token that contains `offset`,
  // the first one for an offset before the line.
  let index = 0;
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].start <= offset) index = i;
  }
  return tokens[index].type;
}

// ---------------------------------------------------------------------------
// A model of VS Code's typing rules for auto-closing pairs
// ---------------------------------------------------------------------------

const pairs = config.autoClosingPairs.map((p) => ({
  open: p.open,
  close: p.close,
  inString: !(p.notIn || []).includes('string'),
  inComment: !(p.notIn || []).includes('comment'),
}));
const AUTO_CLOSE_BEFORE = config.autoCloseBefore || ';:.,=}])> \n\t';
const WORD_SEPARATORS = '`~!@#$%^&*()-=+[{]}\\|;:\'",.<>/?';

function isOK(pair, type) {
  if (type === StandardTokenType.String) return pair.inString;
  if (type === StandardTokenType.Comment) return pair.inComment;
  return true;
}

function neutralCharacter(pair) {
  for (const range of ['0123456789', 'abcdefghijklmnopqrstuvwxyz']) {
    for (const c of range) if (!pair.open.includes(c) && !pair.close.includes(c)) return c;
  }
  return null;
}

class Editor {
  /** `text` marks the cursor with `|`. */
  constructor(grammar, text) {
    this.grammar = grammar;
    this.lines = text.replace('|', '\u0000').split('\n');
    this.line = this.lines.findIndex((l) => l.includes('\u0000'));
    this.col = this.lines[this.line].indexOf('\u0000');
    this.lines[this.line] = this.lines[this.line].replace('\u0000', '');
    this.autoClosed = []; // offsets on the cursor's line of characters the editor inserted
  }

  get text() {
    const lines = this.lines.slice();
    const l = lines[this.line];
    lines[this.line] = l.slice(0, this.col) + '|' + l.slice(this.col);
    return lines.join('\n');
  }

  insert(s) {
    const l = this.lines[this.line];
    this.lines[this.line] = l.slice(0, this.col) + s + l.slice(this.col);
    this.autoClosed = this.autoClosed.map((o) => (o >= this.col ? o + s.length : o));
    this.col += s.length;
  }

  type(chars) {
    for (const ch of chars) this.typeOne(ch);
    return this;
  }

  typeOne(ch) {
    if (this.overtype(ch)) return;
    const close = this.autoClosingPairClose(ch);
    if (close === null) {
      this.insert(ch);
      return;
    }
    this.insert(ch);
    const at = this.col;
    this.insert(close);
    this.col = at;
    for (let i = 0; i < close.length; i++) this.autoClosed.push(at + i);
  }

  overtype(ch) {
    // isAutoClosingOvertype with editor.autoClosingOvertype = "auto".
    if (!pairs.some((p) => p.close.length === 1 && p.close === ch)) return false;
    const l = this.lines[this.line];
    if (l.charAt(this.col) !== ch) return false;
    if ((ch === '"' || ch === "'" || ch === '`') && l.charAt(this.col - 1) === '\\') return false;
    if (!this.autoClosed.includes(this.col)) return false;
    this.autoClosed = this.autoClosed.filter((o) => o !== this.col);
    this.col += 1;
    return true;
  }

  autoClosingPairClose(ch) {
    const l = this.lines[this.line];
    const lineBefore = l.slice(0, this.col);
    const lineAfter = l.slice(this.col);
    // _findAutoClosingPairOpen: the longest pair whose open ends with what is typed.
    let pair = null;
    for (const candidate of pairs.filter((p) => p.open.endsWith(ch))) {
      if (pair !== null && candidate.open.length <= pair.open.length) continue;
      if (lineBefore.slice(lineBefore.length - (candidate.open.length - 1)) + ch === candidate.open) {
        pair = candidate;
      }
    }
    if (pair === null) return null;
    // _findContainedAutoClosingPair
    let contained = null;
    if (pair.open.length > 1) {
      for (const c of pairs) {
        if (c.open !== pair.open && pair.open.includes(c.open) && pair.close.endsWith(c.close)) {
          if (!contained || c.open.length > contained.open.length) contained = c;
        }
      }
    }
    const containedClose = contained ? contained.close : '';
    const containedPresent = lineAfter.startsWith(containedClose);
    if (lineAfter.length > 0) {
      const after = lineAfter.charAt(0);
      const beforeClosing = pairs.some((p) => lineAfter.startsWith(p.close)) && !pairs.some((p) => lineAfter.startsWith(p.open));
      if (!beforeClosing && !AUTO_CLOSE_BEFORE.includes(after)) return null;
    }
    // Do not auto-close a quote after a word character.
    if (pair.open.length === 1 && (ch === '"' || ch === "'") && lineBefore.length > 0) {
      const before = lineBefore.charAt(lineBefore.length - 1);
      if (!/\s/.test(before) && !WORD_SEPARATORS.includes(before)) return null;
    }
    // The token before the cursor must allow the pair (notIn).
    const tokens = lineTokens(this.grammar, this.lines, this.line);
    if (!isOK(pair, tokenTypeAtOffset(tokens, this.col - 1))) return null;
    // What would a neutral character typed here be?
    const neutral = neutralCharacter(pair);
    if (neutral) {
      const withNeutral = lineBefore + neutral + lineAfter;
      const t = lineTokens(this.grammar, this.lines, this.line, withNeutral);
      if (!isOK(pair, tokenTypeAtOffset(t, this.col))) return null;
    }
    return containedPresent ? pair.close.slice(0, pair.close.length - containedClose.length) : pair.close;
  }
}

// ---------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------

const results = [];
function check(name, fn) {
  results.push({ name, fn });
}

check('every regular expression compiles', () => {
  new RegExp(config.wordPattern);
  new RegExp(config.folding.markers.start);
  new RegExp(config.folding.markers.end);
  new RegExp(config.indentationRules.increaseIndentPattern);
  new RegExp(config.indentationRules.decreaseIndentPattern);
  for (const rule of config.onEnterRules) {
    new RegExp(rule.beforeText);
    if (rule.afterText) new RegExp(rule.afterText);
  }
});

check('words: ids, numbers and lint codes are whole words; dots separate words', () => {
  const words = (s) => s.match(new RegExp(config.wordPattern, 'g'));
  assert.deepStrictEqual(words('checks never.diagnose, failure.armchair_diagnosis'), [
    'checks', 'never', 'diagnose', 'failure', 'armchair_diagnosis',
  ]);
  assert.deepStrictEqual(words('threshold 0.75  turns 3..6'), ['threshold', '0.75', 'turns', '3', '6']);
  assert.deepStrictEqual(words('allow compound-question FT203'), ['allow', 'compound-question', 'FT203']);
  assert.deepStrictEqual(words('CP1 yes "Brené\'s words"'), ['CP1', 'yes', 'Brené', 's', 'words']);
});

check('indentation: after a line ending in `{`, and back on `}`', () => {
  const inc = new RegExp(config.indentationRules.increaseIndentPattern);
  const dec = new RegExp(config.indentationRules.decreaseIndentPattern);
  for (const l of [
    'framework cbt "CBT" {',
    '  gate safety "Safety #1 {}" {',
    '    S1 "Does it avoid \\"x\\"?" checks never.diagnose {  # a comment',
    '  answers {',
  ]) assert.ok(inc.test(l), l);
  for (const l of ['  user "a { b"', '  # {', '  title "x" # {', '}', '  about """']) assert.ok(!inc.test(l), l);
  assert.ok(dec.test('  }'));
  assert.ok(!dec.test('  user "}"'));
});

check('on enter: between `"""` and `"""`, and after an opening `"""`', () => {
  const [between, opening] = config.onEnterRules;
  assert.ok(new RegExp(between.beforeText).test('  about """') && new RegExp(between.afterText).test('"""'));
  const open = new RegExp(opening.beforeText);
  for (const l of ['  about """', '  escalation """', '    S1 yes """', '    assistant """']) assert.ok(open.test(l), l);
  for (const l of ['    some text """', '    """', '  about "x"']) assert.ok(!open.test(l), l);
});

check('folding markers', () => {
  assert.ok(new RegExp(config.folding.markers.start).test('# region Phase 1'));
  assert.ok(new RegExp(config.folding.markers.end).test('  # endregion'));
  assert.ok(!new RegExp(config.folding.markers.start).test('# regional'));
});

// Typing scenarios: [description, text with the cursor as `|`, typed, expected].
const typing = [
  ['a quote opens a string', 'title |', '"', 'title "|"'],
  ['a second quote types over the inserted one', 'title |', '""', 'title ""|'],
  ['a quote closes a string it opened', 'title |', '"Hi"', 'title "Hi"|'],
  ['three quotes open a text block', 'about |', '"""', 'about """|"""'],
  ['three quotes at the start of a line', '|', '"""', '"""|"""'],
  ['a quote inside a string is not doubled', 'title "a |"', '"', 'title "a "|"'],
  ['a quote inside a comment is not doubled', '# say |', '"""', '# say """|'],
  ['a quote after a word is not doubled', 'title x|', '"', 'title x"|'],
  ['quotes inside a text block are not doubled', 'about """\n  he said |\n  """', '"', 'about """\n  he said "|\n  """'],
  ['closing a text block by hand adds nothing', 'about """\n  text\n  |', '"""', 'about """\n  text\n  """|'],
  ['quotes in a text block that say "" do not open a block', 'about """\n  say |\n  """', '""', 'about """\n  say ""|\n  """'],
  ['a brace opens a block', 'gate safety "Safety" |', '{', 'gate safety "Safety" {|}'],
  ['a brace in a string is not doubled', 'title "|"', '{', 'title "{|"'],
];

function main(grammar) {
  for (const [name, start, typed, expected] of typing) {
    check(`typing: ${name}`, () => {
      const editor = new Editor(grammar, start).type(typed);
      assert.strictEqual(editor.text, expected);
    });
  }
  check('tokens: the closing quote of a string counts as "other", its text as "string"', () => {
    const t = lineTokens(grammar, ['title "a" """b"""'], 0);
    assert.strictEqual(tokenTypeAtOffset(t, 6), StandardTokenType.String); // opening quote
    assert.strictEqual(tokenTypeAtOffset(t, 7), StandardTokenType.String); // a
    assert.strictEqual(tokenTypeAtOffset(t, 8), StandardTokenType.Other); // closing quote
    assert.strictEqual(tokenTypeAtOffset(t, 13), StandardTokenType.String); // b
    assert.strictEqual(tokenTypeAtOffset(t, 14), StandardTokenType.Other); // closing """
    assert.strictEqual(tokenTypeAtOffset(lineTokens(grammar, ['# x'], 0), 2), StandardTokenType.Comment);
  });

  let passed = 0;
  let failed = 0;
  for (const { name, fn } of results) {
    try {
      fn();
      console.log(`✓ ${name}`);
      passed++;
    } catch (e) {
      console.log(`✖ ${name}\n    ${String(e.message).split('\n').join('\n    ')}`);
      failed++;
    }
  }
  console.log(`language configuration: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

loadGrammar().then(main, (e) => {
  console.error(e);
  process.exit(1);
});
