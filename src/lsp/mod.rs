//! `ftprep lsp`: the language server, over stdio.
//!
//! In: LSP messages from an editor. Out: diagnostics on open and on every
//! change (the same codes, levels and suppressions as `ftprep check`, from
//! the same `compile`), and answers to hover, go to definition, find
//! references, rename, completion, document symbols, formatting (the same
//! as `ftprep fmt`) and code actions.
//!
//! Three threads, so that typing never waits for the compiler and no input
//! can stop the server:
//!
//! * the reader and writer of `transport.rs` frame messages on standard
//!   input and output, and answer or log what is not a message;
//! * the message loop here applies each change to the document's text at
//!   once and answers requests from the last compilation that finished;
//! * the compile worker compiles the latest text of each changed document
//!   (edits that arrive meanwhile coalesce) and publishes its diagnostics
//!   if it is still the latest (`workspace.rs`).
//!
//! Every handler reads one compilation and its symbol index (`index.rs`),
//! through a `View` (`view.rs`) that maps positions between the text the
//! request was made against and the compiled one. Positions are UTF-16,
//! as the protocol's default encoding says. A handler or a compilation
//! that panics is answered with an error and the server carries on: no
//! edit sequence can kill it.

mod actions;
mod completion;
mod diagnostics;
mod document;
mod hover;
mod index;
mod symbols;
pub mod transport;
mod view;
mod workspace;

use document::{Document, Text};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    Cancel, DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest,
    PrepareRenameRequest, References, Rename, Request as _,
};
use lsp_types::{
    CodeActionOrCommand, CodeActionProviderCapability, CompletionOptions, CompletionResponse,
    DocumentSymbolResponse, GotoDefinitionResponse, Hover, HoverContents, HoverProviderCapability,
    InitializeParams, Location, MarkupContent, MarkupKind, NumberOrString, OneOf,
    PositionEncodingKind, PrepareRenameResponse, PublishDiagnosticsParams, RenameOptions,
    ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit,
    Uri, WorkspaceEdit,
};
use serde_json::Value;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use view::View;
use workspace::{Answer, Needs, Workspace};

/// Runs the server on standard input and output until the client says
/// `exit`.
pub fn run_stdio() -> Result<(), String> {
    let (connection, transport) = transport::connect(
        std::io::BufReader::new(std::io::stdin()),
        std::io::stdout(),
        |line| eprintln!("ftprep lsp: {line}"),
    );
    let served = serve(&connection);
    // The writer ends once every sender is gone.
    drop(connection);
    let input = transport.finish();
    served.and(input)
}

/// What the server tells a client it can do.
pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Kind(
            TextDocumentSyncKind::INCREMENTAL,
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into(), " ".into()]),
            ..CompletionOptions::default()
        }),
        document_symbol_provider: Some(OneOf::Left(true)),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    }
}

/// Serves one client on `connection`: the handshake, then messages until
/// `shutdown` and `exit`.
pub fn serve(connection: &Connection) -> Result<(), String> {
    let initialize = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": ServerInfo {
            name: "ftprep".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        },
    });
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    connection
        .initialize_finish(id, initialize)
        .map_err(|e| e.to_string())?;
    let _params: Option<InitializeParams> = serde_json::from_value(params).ok();
    let workspace = Workspace::default();
    let explanations = diagnostics::Explanations::write();
    std::thread::scope(|scope| {
        scope.spawn(|| compile_loop(connection, &workspace, &explanations));
        // However the loop ends, even by a panic, the worker is told to
        // stop before the scope waits for it.
        let _stop = StopOnDrop(connection, &workspace);
        message_loop(connection, &workspace)
    })
}

struct StopOnDrop<'a>(&'a Connection, &'a Workspace);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        respond_all(self.0, self.1.stop());
    }
}

/// The message loop: reads every message as it comes, and never compiles.
fn message_loop(connection: &Connection, workspace: &Workspace) -> Result<(), String> {
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if request.method == "shutdown" {
                    // Nothing is published after the answer to `shutdown`.
                    respond_all(connection, workspace.stop());
                    connection
                        .handle_shutdown(&request)
                        .map_err(|e| e.to_string())?;
                    return Ok(());
                }
                let id = request.id.clone();
                let method = request.method.clone();
                if catch_unwind(AssertUnwindSafe(|| route(connection, workspace, request))).is_err()
                {
                    send(connection, bug(id, &method).into());
                }
            }
            Message::Notification(n) if n.method == "exit" => {
                return Err("the client sent `exit` without `shutdown` first".to_string());
            }
            Message::Notification(n) => {
                let method = n.method.clone();
                let answers =
                    catch_unwind(AssertUnwindSafe(|| notification(connection, workspace, n)));
                match answers {
                    Ok(answers) => respond_all(connection, answers),
                    Err(_) => eprintln!("ftprep lsp: {method} failed; this is a bug in ftprep"),
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

/// The compile worker: the latest text of each changed document, one at
/// a time, until the server stops.
fn compile_loop(
    connection: &Connection,
    workspace: &Workspace,
    explanations: &diagnostics::Explanations,
) {
    while let Some(job) = workspace.next_job() {
        let compiled = catch_unwind(AssertUnwindSafe(|| {
            Document::compile(job.uri.clone(), &job.text)
        }));
        if compiled.is_err() {
            eprintln!(
                "ftprep lsp: compiling version {} of {} failed; this is a bug in ftprep",
                job.text.version,
                job.uri.as_str()
            );
        }
        let answers = workspace.finish(job, compiled.ok(), |doc| {
            let published =
                catch_unwind(AssertUnwindSafe(|| publish(connection, doc, explanations)));
            if published.is_err() {
                eprintln!("ftprep lsp: publishing diagnostics failed; this is a bug in ftprep");
            }
        });
        respond_all(connection, answers);
    }
}

fn send(connection: &Connection, message: Message) {
    // A closed channel means the client is gone; the loop ends on its own
    // when the reader sees that.
    let _ = connection.sender.send(message);
}

fn publish(connection: &Connection, doc: &Document, explanations: &diagnostics::Explanations) {
    let params = PublishDiagnosticsParams {
        uri: doc.uri.clone(),
        diagnostics: diagnostics::to_lsp(doc, explanations),
        version: Some(doc.version),
    };
    send(
        connection,
        Notification::new(PublishDiagnostics::METHOD.to_string(), params).into(),
    );
}

fn bug(id: RequestId, method: &str) -> Response {
    Response::new_err(
        id,
        ErrorCode::InternalError as i32,
        format!("ftprep could not answer {method}; this is a bug in ftprep"),
    )
}

/// Sends the answer to a request, computing it if it is not an error.
fn respond(connection: &Connection, answer: Answer) {
    let response = match answer {
        Answer::With(request, doc, text) => {
            guarded(request, |r| handle(&View::new(&doc, &text), r))
        }
        Answer::Error(request, code, message) => {
            Response::new_err(request.id, code as i32, message)
        }
    };
    send(connection, response.into());
}

fn respond_all(connection: &Connection, answers: Vec<Answer>) {
    for answer in answers {
        respond(connection, answer);
    }
}

/// The response of `handler`, or an internal error if it panics.
fn guarded(request: Request, handler: impl FnOnce(Request) -> RequestResult) -> Response {
    let id = request.id.clone();
    let method = request.method.clone();
    match catch_unwind(AssertUnwindSafe(|| handler(request))) {
        Ok(Ok(value)) => Response::new_ok(id, value),
        Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
        Err(_) => bug(id, &method),
    }
}

fn notification(connection: &Connection, workspace: &Workspace, n: Notification) -> Vec<Answer> {
    match n.method.as_str() {
        DidOpenTextDocument::METHOD => {
            let Ok(p) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
            else {
                return Vec::new();
            };
            let d = p.text_document;
            let text = Text::new(&d.uri, d.version, d.text);
            workspace.open(d.uri, text)
        }
        DidChangeTextDocument::METHOD => {
            let Ok(p) = serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
            else {
                return Vec::new();
            };
            let uri = p.text_document.uri;
            let Some(latest) = workspace.latest(&uri) else {
                return Vec::new();
            };
            // Cheap: a copy of the text with the edits in it. Compiling it
            // is the worker's.
            let text = latest.apply(p.text_document.version, p.content_changes);
            workspace.change(&uri, text)
        }
        DidCloseTextDocument::METHOD => {
            let Ok(p) = serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
            else {
                return Vec::new();
            };
            let answers = workspace.close(&p.text_document.uri);
            let params = PublishDiagnosticsParams {
                uri: p.text_document.uri,
                diagnostics: Vec::new(),
                version: None,
            };
            send(
                connection,
                Notification::new(PublishDiagnostics::METHOD.to_string(), params).into(),
            );
            answers
        }
        Cancel::METHOD => {
            let Ok(p) = serde_json::from_value::<lsp_types::CancelParams>(n.params) else {
                return Vec::new();
            };
            let id = match p.id {
                NumberOrString::Number(n) => RequestId::from(n),
                NumberOrString::String(s) => RequestId::from(s),
            };
            workspace.cancel(&id).into_iter().collect()
        }
        _ => Vec::new(),
    }
}

type RequestResult = Result<Value, (ErrorCode, String)>;

fn params<P: serde::de::DeserializeOwned>(value: Value) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(value).map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
}

fn json<T: serde::Serialize>(value: T) -> RequestResult {
    serde_json::to_value(value).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

/// Answers a request now (formatting, which needs only the text, and
/// anything that is not a request about an open document), or hands it to
/// the workspace, which says whether the last compilation can answer it
/// now or parks it.
fn route(connection: &Connection, workspace: &Workspace, request: Request) {
    let needs = match request.method.as_str() {
        HoverRequest::METHOD
        | GotoDefinition::METHOD
        | References::METHOD
        | PrepareRenameRequest::METHOD
        | Completion::METHOD
        | DocumentSymbolRequest::METHOD => Some(Needs::Any),
        // Their edits must fit the text exactly.
        Rename::METHOD | CodeActionRequest::METHOD => Some(Needs::Exact),
        Formatting::METHOD => None,
        method => {
            let message = format!("ftprep does not handle {method}");
            return respond(
                connection,
                Answer::Error(request, ErrorCode::MethodNotFound, message),
            );
        }
    };
    let uri = request
        .params
        .get("textDocument")
        .and_then(|d| d.get("uri"))
        .and_then(|u| serde_json::from_value::<Uri>(u.clone()).ok());
    let Some(uri) = uri else {
        let message = "the request names no document (`textDocument.uri`)".to_string();
        return respond(
            connection,
            Answer::Error(request, ErrorCode::InvalidParams, message),
        );
    };
    match needs {
        Some(needs) => {
            if let Some(answer) = workspace.request(&uri, request, needs) {
                respond(connection, answer);
            }
        }
        None => match workspace.latest(&uri) {
            Some(text) => send(connection, guarded(request, |_| format(&text)).into()),
            None => {
                let message = format!("{} is not open", uri.as_str());
                respond(
                    connection,
                    Answer::Error(request, ErrorCode::InvalidParams, message),
                );
            }
        },
    }
}

/// Formatting: the latest text in the layout of `ftprep fmt`. A document
/// with syntax errors is left alone (no edits).
fn format(text: &Text) -> RequestResult {
    let edits = match crate::format::format_source(text.text()) {
        Ok(formatted) if formatted != text.text() => vec![TextEdit {
            range: text.range(crate::source::Span::new(0, text.text().len())),
            new_text: formatted,
        }],
        _ => Vec::new(),
    };
    json(edits)
}

/// The answer to a request about a document, from `view`. Requests that
/// need an exact compilation (rename, code actions) only come here with
/// one, so they read the compiled document directly.
fn handle(view: &View, r: Request) -> RequestResult {
    let doc = view.doc;
    match r.method.as_str() {
        HoverRequest::METHOD => {
            let p: lsp_types::HoverParams = params(r.params)?;
            let offset = view.offset(p.text_document_position_params.position);
            let hover = view
                .to_compiled(offset)
                .and_then(|offset| hover::hover(doc, offset))
                .and_then(|(span, text)| {
                    Some(Hover {
                        contents: HoverContents::Markup(MarkupContent {
                            kind: MarkupKind::Markdown,
                            value: text,
                        }),
                        range: Some(view.compiled_range(span)?),
                    })
                });
            json(hover)
        }
        GotoDefinition::METHOD => {
            let p: lsp_types::GotoDefinitionParams = params(r.params)?;
            let offset = view.offset(p.text_document_position_params.position);
            let definition = view
                .to_compiled(offset)
                .and_then(|offset| doc.index.symbol_at(offset))
                .and_then(|s| view.compiled_range(doc.index.symbols[s].name_span))
                .map(|range| GotoDefinitionResponse::Scalar(Location::new(doc.uri.clone(), range)));
            json(definition)
        }
        References::METHOD => {
            let p: lsp_types::ReferenceParams = params(r.params)?;
            let offset = view.offset(p.text_document_position.position);
            let Some(symbol) = view
                .to_compiled(offset)
                .and_then(|o| doc.index.symbol_at(o))
            else {
                return json(Vec::<Location>::new());
            };
            let declaration = p
                .context
                .include_declaration
                .then_some(doc.index.symbols[symbol].name_span);
            let locations: Vec<Location> = declaration
                .into_iter()
                .chain(doc.index.references_to(symbol).map(|r| r.span))
                .filter_map(|span| view.compiled_range(span))
                .map(|range| Location::new(doc.uri.clone(), range))
                .collect();
            json(locations)
        }
        PrepareRenameRequest::METHOD => {
            let p: lsp_types::TextDocumentPositionParams = params(r.params)?;
            let offset = view.offset(p.position);
            let prepared = view
                .to_compiled(offset)
                .and_then(|offset| doc.index.name_at(offset))
                .and_then(|(span, symbol)| {
                    Some(PrepareRenameResponse::RangeWithPlaceholder {
                        range: view.compiled_range(span)?,
                        placeholder: doc.index.symbols[symbol].name.clone(),
                    })
                });
            json(prepared)
        }
        Rename::METHOD => {
            debug_assert!(view.is_current(), "rename needs the exact compilation");
            let p: lsp_types::RenameParams = params(r.params)?;
            let offset = doc.offset(p.text_document_position.position);
            json(rename(doc, offset, &p.new_name)?)
        }
        Completion::METHOD => {
            let p: lsp_types::CompletionParams = params(r.params)?;
            let offset = view.offset(p.text_document_position.position);
            json(CompletionResponse::Array(completion::complete(
                view, offset,
            )))
        }
        DocumentSymbolRequest::METHOD => {
            let _: lsp_types::DocumentSymbolParams = params(r.params)?;
            json(DocumentSymbolResponse::Nested(symbols::outline(view)))
        }
        CodeActionRequest::METHOD => {
            debug_assert!(view.is_current(), "code actions need the exact compilation");
            let p: lsp_types::CodeActionParams = params(r.params)?;
            let span = crate::source::Span::new(doc.offset(p.range.start), doc.offset(p.range.end));
            let actions: Vec<CodeActionOrCommand> =
                actions::actions(doc, span, &p.context.diagnostics)
                    .into_iter()
                    .map(CodeActionOrCommand::CodeAction)
                    .collect();
            json(actions)
        }
        method => Err((
            ErrorCode::MethodNotFound,
            format!("ftprep does not handle {method}"),
        )),
    }
}

fn rename(
    doc: &Document,
    offset: usize,
    new_name: &str,
) -> Result<WorkspaceEdit, (ErrorCode, String)> {
    let Some(symbol) = doc.index.symbol_at(offset) else {
        return Err((
            ErrorCode::InvalidParams,
            "there is no id to rename here".to_string(),
        ));
    };
    if !index::is_ident(new_name) {
        return Err((
            ErrorCode::InvalidParams,
            format!(
                "`{new_name}` is not an id: use letters, digits and `_`, starting with a letter"
            ),
        ));
    }
    if let Some(other) = doc.index.clash(symbol, new_name) {
        return Err((
            ErrorCode::InvalidParams,
            format!(
                "there is already a {} called `{}`",
                other.kind.describe(),
                other.name
            ),
        ));
    }
    let mut edits = vec![TextEdit {
        range: doc.range(doc.index.symbols[symbol].name_span),
        new_text: new_name.to_string(),
    }];
    edits.extend(doc.index.references_to(symbol).map(|r| TextEdit {
        range: doc.range(r.span),
        new_text: new_name.to_string(),
    }));
    Ok(WorkspaceEdit {
        changes: Some(HashMap::from([(doc.uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    })
}

#[cfg(test)]
mod tests {
    //! Requests answered from the compilation of an older text, as they
    //! are while the worker catches up: for random edits of the therapy
    //! spec, every handler that reads a stale compilation answers without
    //! panicking, and every range it gives lies inside the request's text.

    use super::*;
    use serde_json::json;
    use std::str::FromStr;

    /// xorshift64*, so that a failure reproduces.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1) as u64) as usize
        }
    }

    /// Every `{"start": .., "end": ..}` position in `value` is inside
    /// `text`, and starts come before ends.
    fn assert_ranges_inside(value: &Value, text: &str, what: &str) {
        let lines: Vec<usize> = text.split('\n').map(|l| l.encode_utf16().count()).collect();
        let inside = |p: &Value| {
            let line = p["line"].as_u64().unwrap() as usize;
            let character = p["character"].as_u64().unwrap() as usize;
            assert!(
                line < lines.len() && character <= lines[line],
                "{what}: {p} is outside the text ({} lines)",
                lines.len()
            );
            (line, character)
        };
        let mut stack = vec![value];
        while let Some(value) = stack.pop() {
            match value {
                Value::Object(map) => {
                    if let (Some(start), Some(end)) = (map.get("start"), map.get("end"))
                        && start.get("line").is_some()
                    {
                        assert!(inside(start) <= inside(end), "{what}: {value}");
                    }
                    stack.extend(map.values());
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
    }

    #[test]
    fn stale_compilations_answer_inside_the_request_text() {
        let uri = Uri::from_str("file:///stale.ftprep").unwrap();
        let therapy =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/therapy.ftprep"))
                .unwrap();
        let fragments = [
            "{",
            "}",
            "\"",
            "\n",
            " checks ",
            " always.",
            "é",
            "😀",
            "S1",
            "CP1 yes",
            "rubric {",
            "allow FT2",
            ",",
        ];
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let mut old = Text::new(&uri, 1, therapy);
        let mut doc = Document::compile(uri.clone(), &old);
        for version in 2..60 {
            // One to four edits since the last compilation.
            let mut new = old.apply(version, Vec::new());
            for _ in 0..1 + rng.below(4) {
                let lines = new.source.line_index.line_count();
                let line = rng.below(lines) as u32;
                let character = rng.below(90) as u32;
                let length = if rng.below(3) == 0 { rng.below(30) } else { 0 } as u32;
                let insert = if rng.below(4) == 0 {
                    ""
                } else {
                    fragments[rng.below(fragments.len())]
                };
                let range = lsp_types::Range::new(
                    lsp_types::Position::new(line, character),
                    lsp_types::Position::new(line, character + length),
                );
                new = new.apply(
                    version,
                    vec![lsp_types::TextDocumentContentChangeEvent {
                        range: Some(range),
                        range_length: None,
                        text: insert.to_string(),
                    }],
                );
            }
            let view = View::new(&doc, &new);
            // The tokens the compilation names things with: a range it
            // gives back must still hold one of them.
            let tokens: std::collections::HashSet<&str> = doc
                .index
                .symbols
                .iter()
                .map(|s| doc.slice(s.name_span))
                .chain(doc.index.references.iter().map(|r| doc.slice(r.span)))
                .chain(doc.index.lint_codes.iter().map(|(s, _)| doc.slice(*s)))
                .collect();
            let mut names: Vec<&str> = tokens.iter().copied().collect();
            names.sort_unstable();
            for i in 0..8 {
                // Half on a name the compilation knows, where the new text
                // has it; half anywhere, past the ends included.
                let name = names[rng.below(names.len())];
                let found: Vec<usize> = new.text().match_indices(name).map(|(o, _)| o).collect();
                let position = match found.len() {
                    n if n > 0 && i % 2 == 0 => {
                        let o = found[rng.below(n)] + rng.below(name.len() + 1);
                        serde_json::to_value(new.range(crate::source::Span::point(o)).start)
                            .unwrap()
                    }
                    _ => {
                        let lines = new.source.line_index.line_count();
                        json!({"line": rng.below(lines + 1), "character": rng.below(100)})
                    }
                };
                let at = json!({"textDocument": {"uri": uri.as_str()}, "position": position});
                for (method, params) in [
                    (HoverRequest::METHOD, at.clone()),
                    (GotoDefinition::METHOD, at.clone()),
                    (PrepareRenameRequest::METHOD, at.clone()),
                    (Completion::METHOD, at.clone()),
                    (
                        References::METHOD,
                        json!({"textDocument": {"uri": uri.as_str()}, "position": position,
                               "context": {"includeDeclaration": true}}),
                    ),
                    (
                        DocumentSymbolRequest::METHOD,
                        json!({"textDocument": {"uri": uri.as_str()}}),
                    ),
                ] {
                    let request = Request::new(RequestId::from(1), method.to_string(), params);
                    let what = format!("{method} at {position} of version {version}");
                    let answer = handle(&view, request).unwrap_or_else(|e| panic!("{what}: {e:?}"));
                    assert_ranges_inside(&answer, new.text(), &what);
                    let ranges: Vec<&Value> = match method {
                        References::METHOD => answer
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|l| &l["range"])
                            .collect(),
                        HoverRequest::METHOD
                        | GotoDefinition::METHOD
                        | PrepareRenameRequest::METHOD => vec![&answer["range"]],
                        _ => vec![],
                    };
                    for range in ranges.into_iter().filter(|r| !r.is_null()) {
                        let range: lsp_types::Range =
                            serde_json::from_value(range.clone()).unwrap();
                        let token = &new.text()[new.offset(range.start)..new.offset(range.end)];
                        assert!(tokens.contains(token), "{what}: `{token}` is not a name");
                    }
                }
            }
            // Every other version, the worker catches up.
            if version % 2 == 0 {
                doc = Document::compile(uri.clone(), &new);
            }
            old = new;
        }
    }
}
