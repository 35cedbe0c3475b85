//! `ftprep lsp`: the language server, over stdio.
//!
//! In: LSP messages from an editor. Out: diagnostics on open and on every
//! change (the same codes, levels and suppressions as `ftprep check`, from
//! the same `compile`), and answers to hover, go to definition, find
//! references, rename, completion, document symbols, formatting (the same
//! as `ftprep fmt`) and code actions.
//!
//! Each open document is compiled once per change (`document.rs`); every
//! handler reads that one compilation and its symbol index (`index.rs`).
//! Positions are UTF-16, as the protocol's default encoding says, and go
//! through the one `LineIndex`. A handler that panics is answered with an
//! error and the server carries on: no edit sequence can kill it.

mod actions;
mod completion;
mod diagnostics;
mod document;
mod hover;
mod index;
mod symbols;

use document::Document;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest,
    PrepareRenameRequest, References, Rename, Request as _,
};
use lsp_types::{
    CodeActionOrCommand, CodeActionProviderCapability, CompletionOptions, CompletionResponse,
    DocumentSymbolResponse, GotoDefinitionResponse, Hover, HoverContents, HoverProviderCapability,
    InitializeParams, Location, MarkupContent, MarkupKind, OneOf, PositionEncodingKind,
    PrepareRenameResponse, PublishDiagnosticsParams, RenameOptions, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Uri, WorkspaceEdit,
};
use serde_json::Value;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs the server on standard input and output until the client says
/// `exit`.
pub fn run_stdio() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    serve(&connection)?;
    // The writer thread ends only when every sender is gone.
    drop(connection);
    io_threads.join().map_err(|e| e.to_string())
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
    let mut server = Server {
        connection,
        documents: HashMap::new(),
        explanations: diagnostics::Explanations::write(),
    };
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection
                    .handle_shutdown(&request)
                    .map_err(|e| e.to_string())?
                {
                    return Ok(());
                }
                let id = request.id.clone();
                let method = request.method.clone();
                let response = match catch_unwind(AssertUnwindSafe(|| server.request(request))) {
                    Ok(Ok(value)) => Response::new_ok(id, value),
                    Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
                    Err(_) => Response::new_err(
                        id,
                        ErrorCode::InternalError as i32,
                        format!("ftprep could not answer {method}; this is a bug in ftprep"),
                    ),
                };
                server.send(response.into());
            }
            Message::Notification(notification) => {
                let method = notification.method.clone();
                if catch_unwind(AssertUnwindSafe(|| server.notification(notification))).is_err() {
                    eprintln!("ftprep lsp: {method} failed; this is a bug in ftprep");
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

type RequestResult = Result<Value, (ErrorCode, String)>;

struct Server<'c> {
    connection: &'c Connection,
    documents: HashMap<Uri, Document>,
    explanations: diagnostics::Explanations,
}

fn params<P: serde::de::DeserializeOwned>(value: Value) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(value).map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
}

fn json<T: serde::Serialize>(value: T) -> RequestResult {
    serde_json::to_value(value).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

impl Server<'_> {
    fn send(&self, message: Message) {
        // A closed channel means the client is gone; the loop ends on its
        // own when the reader sees that.
        let _ = self.connection.sender.send(message);
    }

    fn document(&self, uri: &Uri) -> Result<&Document, (ErrorCode, String)> {
        self.documents.get(uri).ok_or_else(|| {
            (
                ErrorCode::InvalidParams,
                format!("{} is not open", uri.as_str()),
            )
        })
    }

    fn publish(&self, doc: &Document) {
        let params = PublishDiagnosticsParams {
            uri: doc.uri.clone(),
            diagnostics: diagnostics::to_lsp(doc, &self.explanations),
            version: Some(doc.version),
        };
        self.send(Notification::new(PublishDiagnostics::METHOD.to_string(), params).into());
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params)
                else {
                    return;
                };
                let doc = Document::new(
                    p.text_document.uri,
                    p.text_document.version,
                    p.text_document.text,
                );
                self.publish(&doc);
                self.documents.insert(doc.uri.clone(), doc);
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params)
                else {
                    return;
                };
                let uri = p.text_document.uri;
                let Some(doc) = self.documents.remove(&uri) else {
                    return;
                };
                let doc = doc.apply(p.text_document.version, p.content_changes);
                self.publish(&doc);
                self.documents.insert(uri, doc);
            }
            DidCloseTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params)
                else {
                    return;
                };
                self.documents.remove(&p.text_document.uri);
                let params = PublishDiagnosticsParams {
                    uri: p.text_document.uri,
                    diagnostics: Vec::new(),
                    version: None,
                };
                self.send(Notification::new(PublishDiagnostics::METHOD.to_string(), params).into());
            }
            _ => {}
        }
    }

    fn request(&mut self, r: Request) -> RequestResult {
        match r.method.as_str() {
            HoverRequest::METHOD => {
                let p: lsp_types::HoverParams = params(r.params)?;
                let pos = p.text_document_position_params;
                let doc = self.document(&pos.text_document.uri)?;
                let offset = doc.offset(pos.position);
                json(hover::hover(doc, offset).map(|(span, text)| Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value: text,
                    }),
                    range: Some(doc.range(span)),
                }))
            }
            GotoDefinition::METHOD => {
                let p: lsp_types::GotoDefinitionParams = params(r.params)?;
                let pos = p.text_document_position_params;
                let doc = self.document(&pos.text_document.uri)?;
                let offset = doc.offset(pos.position);
                json(doc.index.symbol_at(offset).map(|s| {
                    GotoDefinitionResponse::Scalar(Location::new(
                        doc.uri.clone(),
                        doc.range(doc.index.symbols[s].name_span),
                    ))
                }))
            }
            References::METHOD => {
                let p: lsp_types::ReferenceParams = params(r.params)?;
                let pos = p.text_document_position;
                let doc = self.document(&pos.text_document.uri)?;
                let offset = doc.offset(pos.position);
                let Some(symbol) = doc.index.symbol_at(offset) else {
                    return json(Vec::<Location>::new());
                };
                let mut locations = Vec::new();
                if p.context.include_declaration {
                    locations.push(Location::new(
                        doc.uri.clone(),
                        doc.range(doc.index.symbols[symbol].name_span),
                    ));
                }
                locations.extend(
                    doc.index
                        .references_to(symbol)
                        .map(|r| Location::new(doc.uri.clone(), doc.range(r.span))),
                );
                json(locations)
            }
            PrepareRenameRequest::METHOD => {
                let p: lsp_types::TextDocumentPositionParams = params(r.params)?;
                let doc = self.document(&p.text_document.uri)?;
                let offset = doc.offset(p.position);
                json(doc.index.name_at(offset).map(|(span, symbol)| {
                    PrepareRenameResponse::RangeWithPlaceholder {
                        range: doc.range(span),
                        placeholder: doc.index.symbols[symbol].name.clone(),
                    }
                }))
            }
            Rename::METHOD => {
                let p: lsp_types::RenameParams = params(r.params)?;
                let pos = p.text_document_position;
                let doc = self.document(&pos.text_document.uri)?;
                json(rename(doc, doc.offset(pos.position), &p.new_name)?)
            }
            Completion::METHOD => {
                let p: lsp_types::CompletionParams = params(r.params)?;
                let pos = p.text_document_position;
                let doc = self.document(&pos.text_document.uri)?;
                let items = completion::complete(doc, doc.offset(pos.position));
                json(CompletionResponse::Array(items))
            }
            DocumentSymbolRequest::METHOD => {
                let p: lsp_types::DocumentSymbolParams = params(r.params)?;
                let doc = self.document(&p.text_document.uri)?;
                json(DocumentSymbolResponse::Nested(symbols::outline(doc)))
            }
            Formatting::METHOD => {
                let p: lsp_types::DocumentFormattingParams = params(r.params)?;
                let doc = self.document(&p.text_document.uri)?;
                // A document with syntax errors is left alone (no edits).
                let edits = match crate::format::format_source(doc.text()) {
                    Ok(formatted) if formatted != doc.text() => vec![TextEdit {
                        range: doc.range(crate::source::Span::new(0, doc.text().len())),
                        new_text: formatted,
                    }],
                    _ => Vec::new(),
                };
                json(edits)
            }
            CodeActionRequest::METHOD => {
                let p: lsp_types::CodeActionParams = params(r.params)?;
                let doc = self.document(&p.text_document.uri)?;
                let span =
                    crate::source::Span::new(doc.offset(p.range.start), doc.offset(p.range.end));
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
