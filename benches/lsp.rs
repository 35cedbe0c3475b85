//! Language server latency on the therapy spec, as an editor feels it.
//!
//! * `change to diagnostics`: one `didChange` (one character of a
//!   question edited) to the `publishDiagnostics` of that version;
//! * `burst to diagnostics`: ten `didChange`s sent back to back, as fast
//!   typing does, to the diagnostics of the last one;
//! * `hover in a burst`: the same ten changes followed by a hover on a
//!   question id the edits do not touch, to the hover's answer;
//! * `hover`: that hover alone, on a server with nothing to do: the floor
//!   of the one before.
//!
//! Each runs on `ftprep lsp` as a process, JSON-RPC over pipes, as an
//! editor runs it (`stdio`); the first also on the server loop with an
//! in-memory connection (`in-process`), without process I/O. Edits toggle
//! one letter between two of the same width, so the document keeps its
//! size and its diagnostics.

use criterion::{Criterion, criterion_group, criterion_main};
use lsp_server::{Connection, Message};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const URI: &str = "file:///bench/therapy.ftprep";

/// How many changes a burst sends before it waits.
const BURST: i32 = 10;

fn therapy() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/therapy.ftprep"))
        .expect("the therapy spec")
}

/// The change of version `v`: `CP1`'s first letter after `Does` toggled
/// between two letters of the same width.
fn change(text: &str, version: i32) -> Value {
    let at = text.find("CP1 \"Does the response").expect("CP1") + "CP1 \"Does the ".len();
    let (line, character) = position(text, at);
    let letter = if version % 2 == 0 { "r" } else { "R" };
    json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": URI, "version": version},
        "contentChanges": [{
            "range": {
                "start": {"line": line, "character": character},
                "end": {"line": line, "character": character + 1},
            },
            "text": letter,
        }],
    }})
}

/// Line and column of a byte offset (the spec is ASCII up to there).
fn position(text: &str, at: usize) -> (usize, usize) {
    let line = text[..at].matches('\n').count();
    (line, at - text[..at].rfind('\n').map_or(0, |n| n + 1))
}

/// A hover on the first `S1` (the gate's first question, above `CP1`, so
/// no edit moves it).
fn hover(text: &str, id: i32) -> Value {
    let (line, character) = position(text, text.find("S1 ").expect("S1"));
    json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": URI},
        "position": {"line": line, "character": character},
    }})
}

fn is_diagnostics_of(message: &Value, version: i32) -> bool {
    message["method"] == "textDocument/publishDiagnostics"
        && message["params"]["version"] == version
}

/// One way to talk to the server.
trait Link {
    fn send(&mut self, message: Value);
    fn receive(&mut self) -> Value;

    fn wait_for(&mut self, done: impl Fn(&Value) -> bool) {
        while !done(&self.receive()) {}
    }

    fn start(&mut self, text: &str) {
        self.send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}));
        self.wait_for(|m| m["id"] == 1);
        self.send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
        self.send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": URI, "languageId": "ftprep", "version": 1, "text": text}}}),
        );
        self.wait_for(|m| is_diagnostics_of(m, 1));
    }

    fn stop(&mut self) {
        self.send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}));
        self.wait_for(|m| m["id"] == 2);
        self.send(json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    }
}

struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Process {
    fn start() -> Process {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ftprep"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("ftprep lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Process {
            child,
            stdin,
            stdout,
        }
    }
}

impl Link for Process {
    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.stdout.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }
}

struct InProcess(Connection);

impl Link for InProcess {
    fn send(&mut self, message: Value) {
        let message: Message = serde_json::from_value(message).unwrap();
        self.0.sender.send(message).unwrap();
    }

    fn receive(&mut self) -> Value {
        serde_json::to_value(self.0.receiver.recv().unwrap()).unwrap()
    }
}

fn stdio(c: &mut Criterion) {
    let text = therapy();
    let mut server = Process::start();
    server.start(&text);
    let mut version = 1;
    c.bench_function("lsp change to diagnostics (stdio, therapy)", |b| {
        b.iter(|| {
            version += 1;
            server.send(change(&text, version));
            server.wait_for(|m| is_diagnostics_of(m, version));
        })
    });
    let mut id = 10;
    c.bench_function("lsp hover (stdio, therapy)", |b| {
        b.iter(|| {
            id += 1;
            server.send(hover(&text, id));
            server.wait_for(|m| m["id"] == id);
        })
    });
    let mut group = c.benchmark_group("lsp burst");
    group.sample_size(20);
    group.bench_function("burst of 10 changes to diagnostics (stdio, therapy)", |b| {
        b.iter(|| {
            for _ in 0..BURST {
                version += 1;
                server.send(change(&text, version));
            }
            server.wait_for(|m| is_diagnostics_of(m, version));
        })
    });
    group.bench_function("hover after a burst of 10 changes (stdio, therapy)", |b| {
        b.iter_custom(|iterations| {
            let mut spent = Duration::ZERO;
            for _ in 0..iterations {
                let start = Instant::now();
                for _ in 0..BURST {
                    version += 1;
                    server.send(change(&text, version));
                }
                id += 1;
                server.send(hover(&text, id));
                let mut answered = false;
                let mut published = false;
                // Timed until the hover's answer; the diagnostics of the
                // burst are then let in, so that the next burst starts
                // on an idle server.
                while !(answered && published) {
                    let message = server.receive();
                    if message["id"] == id {
                        assert!(message["result"]["contents"].is_object(), "{message}");
                        answered = true;
                        spent += start.elapsed();
                    }
                    published |= is_diagnostics_of(&message, version);
                }
            }
            spent
        })
    });
    group.finish();
    server.stop();
    server.child.wait().unwrap();
}

fn in_process(c: &mut Criterion) {
    let (server, client) = Connection::memory();
    let thread = std::thread::spawn(move || ftprep::lsp::serve(&server));
    let mut client = InProcess(client);
    let text = therapy();
    client.start(&text);
    let mut version = 1;
    c.bench_function("lsp change to diagnostics (in-process, therapy)", |b| {
        b.iter(|| {
            version += 1;
            client.send(change(&text, version));
            client.wait_for(|m| is_diagnostics_of(m, version));
        })
    });
    client.stop();
    thread.join().unwrap().unwrap();
}

criterion_group!(benches, stdio, in_process);
criterion_main!(benches);
