//! Language server latency: from a `didChange` notification to the
//! `publishDiagnostics` it causes, on the therapy spec.
//!
//! * `stdio`: `ftprep lsp` as a process, JSON-RPC over pipes, as an editor
//!   runs it;
//! * `in-process`: the server loop on an in-memory connection, without
//!   process I/O.
//!
//! Each iteration edits one character of a question's text (alternating,
//! so the document keeps its size) and waits for the diagnostics of that
//! version.

use criterion::{Criterion, criterion_group, criterion_main};
use lsp_server::{Connection, Message, Notification, Request, RequestId};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

const URI: &str = "file:///bench/therapy.ftprep";

fn therapy() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/therapy.ftprep"))
        .expect("the therapy spec")
}

/// The change of version `v`: `CP1`'s first letter after `Does` toggled
/// between two letters of the same width.
fn change(text: &str, version: i32) -> Value {
    let at = text.find("CP1 \"Does the response").expect("CP1") + "CP1 \"Does the ".len();
    let line = text[..at].matches('\n').count();
    let character = at - text[..at].rfind('\n').map_or(0, |n| n + 1);
    let letter = if version % 2 == 0 { "r" } else { "R" };
    json!({
        "textDocument": {"uri": URI, "version": version},
        "contentChanges": [{
            "range": {
                "start": {"line": line, "character": character},
                "end": {"line": line, "character": character + 1},
            },
            "text": letter,
        }],
    })
}

fn is_diagnostics_of(message: &Value, version: i32) -> bool {
    message["method"] == "textDocument/publishDiagnostics"
        && message["params"]["version"] == version
}

fn stdio(c: &mut Criterion) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ftprep"))
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("ftprep lsp starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |message: Value| {
        let body = message.to_string();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    };
    let mut receive = move || -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            stdout.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    };
    let text = therapy();
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
    );
    while receive()["id"] != 1 {}
    send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": URI, "languageId": "ftprep", "version": 1, "text": text}}}),
    );
    while !is_diagnostics_of(&receive(), 1) {}
    let mut version = 1;
    c.bench_function("lsp change to diagnostics (stdio, therapy)", |b| {
        b.iter(|| {
            version += 1;
            send(json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": change(&text, version)}));
            while !is_diagnostics_of(&receive(), version) {}
        })
    });
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}));
    while receive()["id"] != 2 {}
    send(json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    child.wait().unwrap();
}

fn in_process(c: &mut Criterion) {
    let (server, client) = Connection::memory();
    let thread = std::thread::spawn(move || ftprep::lsp::serve(&server));
    let request = |id: i32, method: &str, params: Value| {
        Message::Request(Request::new(
            RequestId::from(id),
            method.to_string(),
            params,
        ))
    };
    let notify = |method: &str, params: Value| {
        Message::Notification(Notification::new(method.to_string(), params))
    };
    let receive = || -> Value { serde_json::to_value(client.receiver.recv().unwrap()).unwrap() };
    let text = therapy();
    client
        .sender
        .send(request(1, "initialize", json!({"capabilities": {}})))
        .unwrap();
    while receive()["id"] != 1 {}
    client
        .sender
        .send(notify("initialized", json!({})))
        .unwrap();
    client
        .sender
        .send(notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": URI, "languageId": "ftprep", "version": 1, "text": text}}),
        ))
        .unwrap();
    while !is_diagnostics_of(&receive(), 1) {}
    let mut version = 1;
    c.bench_function("lsp change to diagnostics (in-process, therapy)", |b| {
        b.iter(|| {
            version += 1;
            client
                .sender
                .send(notify("textDocument/didChange", change(&text, version)))
                .unwrap();
            while !is_diagnostics_of(&receive(), version) {}
        })
    });
    client
        .sender
        .send(request(2, "shutdown", Value::Null))
        .unwrap();
    while receive()["id"] != 2 {}
    client.sender.send(notify("exit", Value::Null)).unwrap();
    thread.join().unwrap().unwrap();
}

criterion_group!(benches, stdio, in_process);
criterion_main!(benches);
