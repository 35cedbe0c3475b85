//! `ftprep lsp` as an editor sees it: the binary started as a process,
//! JSON-RPC over its standard input and output. One session exercises
//! every feature on specs with known problems; a second sends a long
//! random sequence of edits (half-typed syntax, non-ASCII text) and checks
//! the server keeps answering. Then the input an editor should never send
//! (malformed messages, broken frames) and the input fast typing does send
//! (bursts of changes with requests among them): the server answers,
//! carries on, and publishes the diagnostics of the latest text.
//!
//! Nothing here depends on how fast the server is: where the answer could
//! come from an older or a newer compilation, the test checks what holds
//! for both.

mod common;

use common::{Rng, root};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread::JoinHandle;
use std::time::Duration;

/// Generous: only a hung server reaches it.
const TIMEOUT: Duration = Duration::from_secs(60);

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
    /// Notifications read while waiting for a response.
    pending: Vec<Value>,
    /// What the server writes on standard error, when it is captured.
    stderr: Option<JoinHandle<String>>,
}

impl Client {
    fn start() -> Client {
        Client::spawn(false)
    }

    /// A client that keeps the server's standard error, for
    /// [`Client::finish`] to return.
    fn start_capturing_stderr() -> Client {
        Client::spawn(true)
    }

    fn spawn(capture_stderr: bool) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ftprep"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if capture_stderr {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .expect("ftprep lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().map(|mut stderr| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text);
                text
            })
        });
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("a Content-Length header")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let value: Value = serde_json::from_slice(&body).expect("JSON body");
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            messages: rx,
            next_id: 0,
            pending: Vec::new(),
            stderr,
        }
    }

    fn send(&mut self, message: Value) {
        self.send_raw(&frame(&message));
    }

    /// Bytes as they are, framed or not.
    fn send_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// A request, framed, for [`Client::send_raw`]: its id and its bytes.
    fn request_frame(&mut self, method: &str, params: Value) -> (i64, Vec<u8>) {
        self.next_id += 1;
        let id = self.next_id;
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        (id, frame(&message))
    }

    /// The first message, read already or to come, that `matches`.
    fn next_matching(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.pending.iter().position(&matches) {
            return self.pending.remove(i);
        }
        loop {
            let message = self
                .messages
                .recv_timeout(TIMEOUT)
                .unwrap_or_else(|_| panic!("no {what}"));
            if matches(&message) {
                return message;
            }
            self.pending.push(message);
        }
    }

    /// The response to request `id`.
    fn response(&mut self, id: i64) -> Value {
        self.next_matching(&format!("answer to request {id}"), |m| {
            m.get("id") == Some(&json!(id)) && m.get("method").is_none()
        })
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let (id, bytes) = self.request_frame(method, params);
        self.send_raw(&bytes);
        self.response(id)
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// The next `publishDiagnostics` for `uri` at `version`.
    fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let message = self.next_matching("diagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        message["params"]["diagnostics"].as_array().unwrap().clone()
    }

    fn initialize(&mut self) -> Value {
        let result = self.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        self.notify("initialized", json!({}));
        result
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "ftprep", "version": 1, "text": text}}),
        );
    }

    /// `shutdown` and `exit`, as an editor ends a session; returns what
    /// the server wrote on standard error, if that was captured.
    fn shutdown(mut self) -> String {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let (status, stderr) = self.finish();
        assert!(
            status.success(),
            "the server exited with {status}: {stderr}"
        );
        stderr
    }

    /// Closes the server's input and waits for it to exit: its status and
    /// standard error (empty when not captured).
    fn finish(self) -> (ExitStatus, String) {
        let Client {
            mut child,
            stdin,
            stderr,
            ..
        } = self;
        drop(stdin);
        let status = wait(&mut child);
        let stderr = stderr.map(|t| t.join().unwrap()).unwrap_or_default();
        (status, stderr)
    }
}

/// A message in its LSP frame.
fn frame(message: &Value) -> Vec<u8> {
    let body = serde_json::to_string(message).unwrap();
    format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < TIMEOUT, "the server did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The LSP position (UTF-16) of the first occurrence of `needle` after
/// `after`, computed here independently of the server.
fn position_of(text: &str, needle: &str, after: &str) -> Value {
    let from = text.find(after).expect("anchor text");
    let offset = from + text[from..].find(needle).expect("needle");
    let line = text[..offset].matches('\n').count();
    let line_start = text[..offset].rfind('\n').map(|n| n + 1).unwrap_or(0);
    let character = text[line_start..offset].encode_utf16().count();
    json!({"line": line, "character": character})
}

/// The labels of a completion response.
fn labels_of(items: &Value) -> Vec<&str> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect()
}

fn therapy() -> String {
    std::fs::read_to_string(root().join("specs/therapy.ftprep")).unwrap()
}

/// The therapy spec with a misspelt reference after non-ASCII text on its
/// line, so that bytes, characters and UTF-16 units all give different
/// columns.
fn therapy_with_typo() -> String {
    therapy().replace(
        "CP2 \"Does the response refer to a specific detail from the user's messages, such as a person, an event or a phrase they used?\" checks always.use_details",
        "CP2 \"Does the response refer to a specific detail — a person 👤, an event or a phrase — from the user's messages?\" checks always.use_detail",
    )
}

#[test]
fn a_session_uses_every_feature() {
    let mut client = Client::start();
    let init = client.initialize();
    let caps = &init["capabilities"];
    for feature in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "renameProvider",
        "completionProvider",
        "documentSymbolProvider",
        "documentFormattingProvider",
        "codeActionProvider",
    ] {
        assert!(!caps[feature].is_null(), "{feature} is not advertised");
    }
    assert_eq!(caps["positionEncoding"], "utf-16");

    // Diagnostics: a compiler error, located in UTF-16 columns.
    let typo = "file:///specs/typo.ftprep";
    let text = therapy_with_typo();
    client.open(typo, &text);
    let diagnostics = client.diagnostics(typo, 1);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let d = &diagnostics[0];
    assert_eq!(d["code"], "unknown-reference");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "ftprep");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `always.use_details`?")
    );
    let start = position_of(&text, "always.use_detail", "CP2 ");
    assert_eq!(d["range"]["start"], start);
    assert_eq!(
        d["range"]["end"]["character"],
        start["character"].as_u64().unwrap() + "always.use_detail".len() as u64
    );

    // The quick fix the diagnostic suggests.
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": typo}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let fix = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().starts_with("Replace"))
        .expect("a replace action");
    assert_eq!(
        fix["edit"]["changes"][typo][0]["newText"],
        "always.use_details"
    );

    // Lint findings, with related locations: two questions that read alike.
    let similar = "file:///specs/similar.ftprep";
    let fixture =
        std::fs::read_to_string(root().join("tests/fixtures/lint/FT401/fires.ftprep")).unwrap();
    client.open(similar, &fixture);
    let diagnostics = client.diagnostics(similar, 1);
    let ft401 = diagnostics
        .iter()
        .find(|d| d["code"] == "FT401")
        .expect("FT401 is reported");
    assert_eq!(ft401["severity"], 2);
    assert!(
        ft401["codeDescription"]["href"]
            .as_str()
            .unwrap()
            .ends_with("FT401.md")
    );
    let related = ft401["relatedInformation"].as_array().unwrap();
    assert!(!related.is_empty());
    assert_eq!(related[0]["location"]["uri"], similar);
    // A suppression quick fix for it, with a reason to fill in.
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": similar}, "range": ft401["range"], "context": {"diagnostics": [ft401]}}),
    );
    let suppress = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["title"].as_str().unwrap().starts_with("Suppress FT401"))
        .expect("a suppression action");
    let new_text = suppress["edit"]["changes"][similar][0]["newText"]
        .as_str()
        .unwrap();
    assert!(new_text.contains("allow FT401 \"<why"), "{new_text}");

    // The clean therapy spec: no diagnostics.
    let uri = "file:///specs/therapy.ftprep";
    let text = therapy();
    client.open(uri, &text);
    assert_eq!(client.diagnostics(uri, 1), Vec::<Value>::new());

    // Hover on a question id in a calibration answer.
    let at = position_of(&text, "CP1", "calibration strong");
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": at}),
    );
    let value = hover["contents"]["value"].as_str().unwrap();
    for expected in [
        "Does the response name a specific feeling",
        "category **Comprehension**",
        "Weight in the final score**: 6.25%",
        "`always.name_feeling`",
        "`strong` (expect pass): **yes**",
        "`mediocre` (expect fail): **no**",
    ] {
        assert!(
            value.contains(expected),
            "hover lacks {expected:?}:\n{value}"
        );
    }
    // Hover on an anchor: the questions that check it.
    let at = position_of(&text, "name_feeling", "always {");
    let value = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": at}),
    )["contents"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        value.contains("**Checked by**") && value.contains("`CP1`"),
        "{value}"
    );
    // Hover on a lint code in a suppression: the explanation.
    let lint_uri = "file:///specs/lint.ftprep";
    let with_allow = text.replace(
        "rubric {\n  threshold 0.75",
        "rubric {\n  allow FT203 \"compound wording is deliberate in this rubric\"\n  threshold 0.75",
    );
    client.open(lint_uri, &with_allow);
    let at = position_of(&with_allow, "FT203", "allow ");
    let value = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": lint_uri}, "position": at}),
    )["contents"]["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(value.contains("compound-question"), "{value}");

    // Go to definition from a reference to the anchor it names.
    let at = position_of(&text, "name_feeling", "CP1 ");
    let definition = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": at}),
    );
    assert_eq!(definition["uri"], uri);
    assert_eq!(
        definition["range"]["start"],
        position_of(&text, "name_feeling", "always {")
    );

    // Find references: the declaration and every `checks` naming it.
    let references = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": at, "context": {"includeDeclaration": true}}),
    );
    let expected = 1 + text.matches("always.name_feeling").count();
    assert_eq!(references.as_array().unwrap().len(), expected);

    // Rename the anchor: its id and every reference change.
    let rename = client.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": at, "newName": "name_emotion"}),
    );
    assert_eq!(rename["changes"][uri].as_array().unwrap().len(), expected);
    // A name that is taken is refused.
    let refused = client.request_raw(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": at, "newName": "validate"}),
    );
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already")
    );

    // Completion: anchors and failure modes after `checks`.
    let edit_uri = "file:///specs/edit.ftprep";
    let typed = text.replace(
        "CN3 \"Does the response express care",
        "CN9 \"Does it help?\" checks \n    CN3 \"Does the response express care",
    );
    client.open(edit_uri, &typed);
    let at = position_of(&typed, "\n    CN3", "checks \n");
    let items = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": edit_uri}, "position": at}),
    );
    let labels = labels_of(&items);
    assert!(labels.contains(&"always.validate"), "{labels:?}");
    assert!(labels.contains(&"never.diagnose"), "{labels:?}");
    assert!(labels.contains(&"failure.sycophancy"), "{labels:?}");
    assert!(!labels.contains(&"title"), "{labels:?}");
    // Question ids inside answers, and yes/no/na after one.
    let answers_at = position_of(&text, "S1  yes", "calibration strong");
    let items = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": answers_at}),
    );
    assert!(items.as_array().unwrap().iter().all(|i| i["kind"] == 5));
    let value_at = position_of(&text, "yes", "calibration strong");
    let items = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": value_at}),
    );
    assert_eq!(labels_of(&items), ["yes", "no", "na"]);
    // Keywords valid in a domain block.
    let domain_at = position_of(&text, "title", "domain therapy");
    let items = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": domain_at}),
    );
    let labels = labels_of(&items);
    assert_eq!(labels, ["title", "role", "audience", "about"]);

    // Document symbols: the rubric holds the gate, which holds S1.
    let outline = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let rubric = outline
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "rubric")
        .expect("the rubric in the outline");
    assert_eq!(rubric["children"][0]["name"], "safety");
    assert_eq!(rubric["children"][0]["children"][0]["name"], "S1");

    // Formatting: the same as `ftprep fmt`.
    let messy_uri = "file:///specs/messy.ftprep";
    let messy = std::fs::read_to_string(root().join("tests/fixtures/format/messy.ftprep")).unwrap();
    client.open(messy_uri, &messy);
    let edits = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": messy_uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(
        edits[0]["newText"].as_str().unwrap(),
        ftprep::format::format_source(&messy).unwrap()
    );
    // A formatted document needs no edits.
    let edits = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(edits, json!([]));

    // An incremental change: the typo fixed, the diagnostics cleared.
    let typo_text = therapy_with_typo();
    let start = position_of(&typo_text, "always.use_detail", "CP2 ");
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": typo, "version": 2},
            "contentChanges": [{
                "range": {"start": start, "end": start},
                "text": "",
            }, {
                "range": {
                    "start": {"line": start["line"], "character": start["character"].as_u64().unwrap() + 17},
                    "end": {"line": start["line"], "character": start["character"].as_u64().unwrap() + 17},
                },
                "text": "s",
            }],
        }),
    );
    assert_eq!(client.diagnostics(typo, 2), Vec::<Value>::new());

    // Missing answers: the quick fix adds them.
    let missing_uri = "file:///specs/missing.ftprep";
    let missing = text.replace(
        "    FT4 yes \"A2: 'one small step for this weekend, or would you rather talk more about how it's been?'\"\n",
        "",
    );
    client.open(missing_uri, &missing);
    let diagnostics = client.diagnostics(missing_uri, 1);
    let d = diagnostics
        .iter()
        .find(|d| d["code"] == "missing-answer")
        .expect("missing-answer is reported");
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": missing_uri}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let add = &actions[0];
    assert_eq!(add["title"], "Add the 1 missing answer to `strong`");
    assert_eq!(
        add["edit"]["changes"][missing_uri][0]["newText"],
        "    FT4 yes \"<why>\"\n"
    );

    client.shutdown();
}

#[test]
fn random_edits_never_kill_the_server() {
    let mut client = Client::start();
    client.initialize();
    let uri = "file:///specs/random.ftprep";
    let mut text = therapy();
    client.open(uri, &text);
    client.diagnostics(uri, 1);
    let fragments = [
        "{",
        "}",
        "\"",
        "\"\"\"",
        "#",
        "\n",
        " checks ",
        " always.",
        "never.x",
        "answers {",
        "S1 yes",
        "é",
        "😀",
        "weight",
        "0.",
        "..",
        "rubric {",
        "category c \"C\" weight 0.5 {",
        "gate",
        ",",
        "allow FT2",
        "\\",
        "\\u{",
        "technique",
        "expect ",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for version in 2..=250i64 {
        // Pick a UTF-16 position anywhere, even inside a character.
        let lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        let line = rng.below(lines.len());
        let units = lines[line].encode_utf16().count();
        let character = rng.below(units + 2);
        let length = if rng.below(3) == 0 { rng.below(40) } else { 0 };
        let insert = if rng.below(4) == 0 {
            String::new()
        } else {
            fragments[rng.below(fragments.len())].to_string()
        };
        let start = json!({"line": line, "character": character});
        let end = json!({"line": line, "character": character + length});
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": start, "end": end}, "text": insert}],
            }),
        );
        // Mirror the edit the way the protocol defines it: positions past
        // a line's end clamp to it.
        text = apply(&text, line, character, character + length, &insert);
        client.diagnostics(uri, version);
        if version % 5 == 0 {
            let position = json!({"line": rng.below(lines.len()), "character": rng.below(80)});
            for method in [
                "textDocument/hover",
                "textDocument/completion",
                "textDocument/definition",
            ] {
                let response = client.request_raw(
                    method,
                    json!({"textDocument": {"uri": uri}, "position": position}),
                );
                assert!(response.get("error").is_none(), "{method}: {response}");
            }
            client.request(
                "textDocument/documentSymbol",
                json!({"textDocument": {"uri": uri}}),
            );
            client.request(
                "textDocument/formatting",
                json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
            );
        }
    }
    // The server's view of the text is the client's.
    let outline = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    if let Some(edit) = outline.as_array().and_then(|a| a.first()) {
        assert_eq!(
            edit["newText"].as_str().unwrap(),
            ftprep::format::format_source(&text).unwrap()
        );
    }
    client.shutdown();
}

/// Applies an edit given in UTF-16 units on one line, clamping as the
/// protocol does.
fn apply(text: &str, line: usize, start: usize, end: usize, insert: &str) -> String {
    let line_start: usize = text.split('\n').take(line).map(|l| l.len() + 1).sum();
    let line_text = text[line_start..].split('\n').next().unwrap_or("");
    let offset = |units: usize| {
        let mut count = 0;
        for (i, c) in line_text.char_indices() {
            if count >= units {
                return line_start + i;
            }
            count += c.len_utf16();
        }
        line_start + line_text.len()
    };
    let (a, b) = (offset(start), offset(end));
    format!("{}{}{}", &text[..a], insert, &text[b..])
}

/// The hover request on the gate's `S1`, which no test edit comes near.
fn hover_on_s1(text: &str, uri: &str) -> Value {
    json!({"textDocument": {"uri": uri}, "position": position_of(text, "S1", "gate safety")})
}

#[test]
fn malformed_messages_are_answered_and_the_server_carries_on() {
    let mut client = Client::start_capturing_stderr();
    client.initialize();
    let uri = "file:///specs/therapy.ftprep";
    let text = therapy();
    client.open(uri, &text);
    client.diagnostics(uri, 1);
    let mut transcript = String::new();

    // Each case: bytes that are not a message, then a request, which must
    // be answered. Where the server replies to the bad bytes, the reply is
    // kept for the snapshot.
    let framed = |body: &[u8]| {
        let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        bytes.extend(body);
        bytes
    };
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        (
            "invalid JSON in a valid frame",
            framed(b"{\"jsonrpc\": \"2.0\", \"id\": 1,"),
            true,
        ),
        (
            "a body that is not UTF-8",
            framed(b"{\"jsonrpc\": \"2.0\", \"method\": \"caf\xe9\xff\"}"),
            true,
        ),
        (
            "JSON that is not a message",
            framed(b"{\"jsonrpc\": \"2.0\", \"id\": 41}"),
            true,
        ),
        (
            "a frame without Content-Length",
            b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{\"jsonrpc\": \"2.0\"}"
                .to_vec(),
            false,
        ),
        (
            "a Content-Length that is not a number",
            b"Content-Length: forty\r\n\r\n{\"jsonrpc\": \"2.0\"}".to_vec(),
            false,
        ),
        (
            "a body with no headers at all",
            b"{\"jsonrpc\": \"2.0\", \"method\": \"initialized\"}".to_vec(),
            false,
        ),
        (
            "a Content-Length over the limit",
            b"Content-Length: 99999999999\r\n\r\n{\"jsonrpc\": \"2.0\"}".to_vec(),
            false,
        ),
        (
            "a header line that is not a header",
            b"hello\r\n\r\n".to_vec(),
            false,
        ),
    ];
    for (what, bytes, answered) in cases {
        transcript.push_str(&format!("{what}:\n"));
        client.send_raw(&bytes);
        if answered {
            let reply = client.next_matching(what, |m| m.get("error").is_some());
            let code = reply["error"]["code"].as_i64().unwrap();
            assert!(code == -32700 || code == -32600, "{what}: {reply}");
            transcript.push_str(&format!("  {reply}\n"));
        } else {
            transcript.push_str("  no reply\n");
        }
        let (id, request) = client.request_frame("textDocument/hover", hover_on_s1(&text, uri));
        client.send_raw(&request);
        let hover = client.response(id);
        let value = hover["result"]["contents"]["value"].as_str();
        assert!(
            value.is_some_and(|v| v.contains("psychiatric diagnosis")),
            "after {what}: {hover}"
        );
    }
    let stderr = client.shutdown();
    transcript.push_str("\nstandard error:\n");
    transcript.push_str(&stderr);
    common::settings("lsp").bind(|| insta::assert_snapshot!("malformed_input", transcript));
}

#[test]
fn an_input_that_ends_inside_a_message_stops_the_server_with_a_message() {
    let mut client = Client::start_capturing_stderr();
    client.initialize();
    client.send_raw(b"Content-Length: 100\r\n\r\n{\"jsonrpc\": \"2.0\"");
    let (status, stderr) = client.finish();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the input ended inside a message: 17 of its 100 bytes arrived"),
        "{stderr}"
    );
    assert!(stderr.contains("the language server stopped"), "{stderr}");
}

#[test]
fn exit_without_shutdown_is_an_error() {
    let mut client = Client::start_capturing_stderr();
    client.initialize();
    client.notify("exit", Value::Null);
    let (status, stderr) = client.finish();
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`exit` without `shutdown`"), "{stderr}");
}

/// The therapy spec, and its text with one misspelt reference (one error).
fn clean_and_typo() -> (String, String, Value) {
    let clean = therapy();
    let typo = clean.replace("checks always.use_details", "checks always.use_detail");
    // The `s` whose removal makes the typo.
    let at = position_of(&clean, "s\n", "checks always.use_detail");
    (clean, typo, at)
}

#[test]
fn a_burst_of_changes_publishes_the_diagnostics_of_the_last() {
    let mut client = Client::start();
    client.initialize();
    let uri = "file:///specs/burst.ftprep";
    let (clean, _, at) = clean_and_typo();
    client.open(uri, &clean);
    assert_eq!(client.diagnostics(uri, 1), Vec::<Value>::new());
    // Versions 2 to 61 remove and restore the `s` in turn: even versions
    // have the typo, odd ones do not. All of them go in one write, as fast
    // as a pipe takes them.
    let last = 61;
    let mut burst = Vec::new();
    let after = json!({"line": at["line"], "character": at["character"].as_u64().unwrap() + 1});
    for version in 2..=last {
        let change = if version % 2 == 0 {
            json!({"range": {"start": at, "end": after}, "text": ""})
        } else {
            json!({"range": {"start": at, "end": at}, "text": "s"})
        };
        burst.extend(frame(
            &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [change],
            }}),
        ));
    }
    // Then a request that waits for the exact text (a code action on the
    // typo's line): it is answered from the compilation of version 61.
    let (id, request) = client.request_frame(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": {"start": at, "end": at}, "context": {"diagnostics": []}}),
    );
    burst.extend(request);
    client.send_raw(&burst);
    let actions = client.response(id);
    assert!(actions.get("error").is_none(), "{actions}");
    assert_eq!(
        actions["result"],
        json!([]),
        "version 61 has no typo to fix"
    );
    let last_diagnostics = client.diagnostics(uri, last);
    assert_eq!(last_diagnostics, Vec::<Value>::new());
    // Everything published until now, in the order it came: versions only
    // go up, each publish is right for its version, and the last is 61.
    let (sid, request) = client.request_frame(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    client.send_raw(&request);
    client.response(sid);
    let published: Vec<(i64, usize)> = client
        .pending
        .iter()
        .filter(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri)
        .map(|m| {
            let version = m["params"]["version"].as_i64().unwrap();
            let diagnostics = m["params"]["diagnostics"].as_array().unwrap();
            (version, diagnostics.len())
        })
        .collect();
    for pair in published.windows(2) {
        assert!(
            pair[0].0 < pair[1].0,
            "published out of order: {published:?}"
        );
    }
    for &(version, count) in &published {
        assert_eq!(
            count,
            (version % 2 == 0) as usize,
            "version {version}: {published:?}"
        );
    }
    // (The publish of 61 was taken by `diagnostics` above; nothing for an
    // older version may follow it.)
    assert!(
        published.iter().all(|&(v, _)| v < last),
        "a publish after the last version's: {published:?}"
    );
    eprintln!(
        "{} of {} versions were compiled and published",
        published.len() + 1,
        last - 1
    );
    client.shutdown();
}

/// Typing a new question one keystroke at a time, with requests sent
/// right behind the keystrokes: each is answered, from whichever
/// compilation has finished, with positions that are right in the text as
/// typed so far.
#[test]
fn requests_among_keystrokes_are_answered_for_the_text_typed_so_far() {
    let mut client = Client::start();
    client.initialize();
    let uri = "file:///specs/typing.ftprep";
    let mut text = therapy();
    client.open(uri, &text);
    client.diagnostics(uri, 1);
    // A new line above `CN3`, then a question typed into it.
    let line = position_of(&text, "CN3", "category connection")["line"]
        .as_u64()
        .unwrap() as usize;
    let typed = "    CN9 \"Does it help?\" checks al";
    let mut burst = Vec::new();
    let mut version = 1;
    let mut change = |text: &mut String, character: usize, insert: &str| {
        version += 1;
        *text = apply(text, line, character, character, insert);
        frame(
            &json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{
                    "range": {"start": {"line": line, "character": character}, "end": {"line": line, "character": character}},
                    "text": insert,
                }],
            }}),
        )
    };
    burst.extend(change(&mut text, 0, "\n"));
    for (i, c) in typed.chars().enumerate() {
        burst.extend(change(&mut text, i, &c.to_string()));
    }
    // Completion at the end of `checks al`, hover on the gate's `S1`
    // (above the edit), references of `CP1` (declared above the edit,
    // answered in every calibration example below it).
    let cursor = json!({"line": line, "character": typed.len()});
    let (completion, bytes) = client.request_frame(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": cursor}),
    );
    burst.extend(bytes);
    let (hover, bytes) = client.request_frame("textDocument/hover", hover_on_s1(&text, uri));
    burst.extend(bytes);
    let cp1 = position_of(&text, "CP1", "category comprehension");
    let (references, bytes) = client.request_frame(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": cp1, "context": {"includeDeclaration": true}}),
    );
    burst.extend(bytes);
    client.send_raw(&burst);

    // Every completion item replaces exactly the `al` being typed.
    let items = client.response(completion)["result"].clone();
    let labels = labels_of(&items);
    assert!(labels.contains(&"always.validate"), "{labels:?}");
    let word = json!({
        "start": {"line": line, "character": typed.len() - 2},
        "end": cursor,
    });
    for item in items.as_array().unwrap() {
        assert_eq!(item["textEdit"]["range"], word, "{item}");
    }
    let value = client.response(hover)["result"]["contents"]["value"].clone();
    assert!(
        value
            .as_str()
            .is_some_and(|v| v.contains("psychiatric diagnosis")),
        "{value}"
    );
    // Every location is where the typed text has a `CP1`.
    let mut found: Vec<Value> = client.response(references)["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["range"]["start"].clone())
        .collect();
    let mut expected: Vec<Value> = text
        .match_indices("CP1 ")
        .map(|(offset, _)| {
            let line = text[..offset].matches('\n').count();
            let start = text[..offset].rfind('\n').map_or(0, |n| n + 1);
            json!({"line": line, "character": text[start..offset].encode_utf16().count()})
        })
        .collect();
    let key = |v: &Value| (v["line"].as_u64(), v["character"].as_u64());
    found.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(found, expected);
    // The diagnostics of the last keystroke come, and rename (which waits
    // for the exact text) renames every `CP1` of it.
    client.diagnostics(uri, version);
    let rename = client.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": cp1, "newName": "CP7"}),
    );
    assert_eq!(
        rename["changes"][uri].as_array().unwrap().len(),
        expected.len()
    );
    client.shutdown();
}
