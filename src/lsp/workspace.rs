//! The open documents, shared by the message loop and the compile worker.
//!
//! The message loop never compiles. On `didOpen` and `didChange` it stores
//! the new text as the document's latest and queues the document; the
//! worker takes the latest text of a queued document, compiles it with no
//! lock held, and stores the result. Changes that arrive meanwhile replace
//! each other: when the worker comes back it compiles only the newest, so
//! typing costs at most one compilation that is already stale, never a
//! queue of them. Diagnostics are published only for a compilation of the
//! latest text, under the lock that changes take, so a client never sees
//! the diagnostics of a version after it has sent a newer one.
//!
//! A request is answered from the last compilation that finished (see
//! `view.rs`), at once, except:
//!
//! * when no compilation has finished yet (the document was just opened):
//!   it waits for the first;
//! * when it makes edits that must fit the text exactly (rename, code
//!   actions) and the last compilation is of an older text: it waits for
//!   the compilation of its own text, and is answered `ContentModified`
//!   if a newer text replaces that one first (the client asks again).
//!
//! A waiting request is parked here with the text it was made against and
//! answered by the worker, so the message loop goes on reading.

use super::document::{Document, Text};
use lsp_server::{ErrorCode, Request, RequestId};
use lsp_types::Uri;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Which compilation a request can be answered from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Any: its positions are mapped to the text it was made against.
    Any,
    /// The compilation of the very text it was made against.
    Exact,
}

/// A request the message loop or the worker is to answer now.
pub enum Answer {
    /// From this compilation, seen from this text.
    With(Request, Arc<Document>, Arc<Text>),
    Error(Request, ErrorCode, String),
}

struct Parked {
    request: Request,
    text: Arc<Text>,
    needs: Needs,
}

struct Entry {
    latest: Arc<Text>,
    compiled: Option<Arc<Document>>,
    /// In the worker's queue.
    queued: bool,
    parked: Vec<Parked>,
}

#[derive(Default)]
struct State {
    documents: HashMap<Uri, Entry>,
    /// Documents whose latest text is not compiled yet, oldest first.
    queue: VecDeque<Uri>,
    stopping: bool,
}

/// The latest text of a document, for the worker to compile.
pub struct Job {
    pub uri: Uri,
    pub text: Arc<Text>,
}

#[derive(Default)]
pub struct Workspace {
    state: Mutex<State>,
    /// Signalled when a document is queued or the server stops.
    queued: Condvar,
}

impl Workspace {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held (a bug) leaves the state as it
        // was: still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A newly opened document. Requests waiting on an earlier opening of
    /// it are answered `ContentModified`.
    pub fn open(&self, uri: Uri, text: Text) -> Vec<Answer> {
        let mut state = self.lock();
        let entry = Entry {
            latest: Arc::new(text),
            compiled: None,
            queued: true,
            parked: Vec::new(),
        };
        let old = state.documents.insert(uri.clone(), entry);
        if !old.as_ref().is_some_and(|e| e.queued) {
            state.queue.push_back(uri);
        }
        self.queued.notify_one();
        old.map(|e| e.parked.into_iter().map(modified).collect())
            .unwrap_or_default()
    }

    /// The latest text of an open document.
    pub fn latest(&self, uri: &Uri) -> Option<Arc<Text>> {
        self.lock().documents.get(uri).map(|e| e.latest.clone())
    }

    /// A new latest text for an open document. Requests waiting for the
    /// compilation of an older text exactly are answered `ContentModified`;
    /// those that take any compilation keep waiting.
    pub fn change(&self, uri: &Uri, text: Text) -> Vec<Answer> {
        let mut state = self.lock();
        let Some(entry) = state.documents.get_mut(uri) else {
            return Vec::new();
        };
        entry.latest = Arc::new(text);
        let (exact, any) = std::mem::take(&mut entry.parked)
            .into_iter()
            .partition(|p| p.needs == Needs::Exact);
        entry.parked = any;
        if !entry.queued {
            entry.queued = true;
            state.queue.push_back(uri.clone());
        }
        self.queued.notify_one();
        exact.into_iter().map(modified).collect()
    }

    /// Forgets a document; the requests waiting on it are answered with an
    /// error.
    pub fn close(&self, uri: &Uri) -> Vec<Answer> {
        let Some(entry) = self.lock().documents.remove(uri) else {
            return Vec::new();
        };
        let message = format!("{} was closed before this could be answered", uri.as_str());
        entry
            .parked
            .into_iter()
            .map(|p| Answer::Error(p.request, ErrorCode::ContentModified, message.clone()))
            .collect()
    }

    /// A request made against the latest text of `uri`: to answer now, or
    /// parked until the compilation it needs (then `None`).
    pub fn request(&self, uri: &Uri, request: Request, needs: Needs) -> Option<Answer> {
        let mut state = self.lock();
        let Some(entry) = state.documents.get_mut(uri) else {
            let message = format!("{} is not open", uri.as_str());
            return Some(Answer::Error(request, ErrorCode::InvalidParams, message));
        };
        match &entry.compiled {
            Some(doc) if needs == Needs::Any || doc.is_of(&entry.latest) => {
                Some(Answer::With(request, doc.clone(), entry.latest.clone()))
            }
            _ => {
                let text = entry.latest.clone();
                entry.parked.push(Parked {
                    request,
                    text,
                    needs,
                });
                None
            }
        }
    }

    /// A parked request the client has cancelled, answered as such.
    pub fn cancel(&self, id: &RequestId) -> Option<Answer> {
        let mut state = self.lock();
        for entry in state.documents.values_mut() {
            if let Some(i) = entry.parked.iter().position(|p| &p.request.id == id) {
                let parked = entry.parked.remove(i);
                return Some(Answer::Error(
                    parked.request,
                    ErrorCode::RequestCanceled,
                    "cancelled by the client".to_string(),
                ));
            }
        }
        None
    }

    /// The next document to compile, waiting until there is one; `None`
    /// once the server stops.
    pub fn next_job(&self) -> Option<Job> {
        let mut state = self.lock();
        loop {
            if state.stopping {
                return None;
            }
            if let Some(uri) = state.queue.pop_front() {
                // A closed document may still be in the queue.
                if let Some(entry) = state.documents.get_mut(&uri) {
                    entry.queued = false;
                    let text = entry.latest.clone();
                    return Some(Job { uri, text });
                }
                continue;
            }
            state = self.queued.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Stores the compilation of a job (`None`: compiling it failed) and
    /// returns the parked requests it can answer. When its text is still
    /// the latest, `publish` is called with it, under the lock.
    pub fn finish(
        &self,
        job: Job,
        compiled: Option<Document>,
        publish: impl FnOnce(&Document),
    ) -> Vec<Answer> {
        let mut state = self.lock();
        if state.stopping {
            // What waited has been answered, and nothing more is sent.
            return Vec::new();
        }
        let Some(entry) = state.documents.get_mut(&job.uri) else {
            return Vec::new();
        };
        let Some(doc) = compiled.map(Arc::new) else {
            // Nothing to answer from: what waits for this text, or for any
            // compilation when there is none, is answered with an error.
            let message =
                "ftprep could not compile this document; this is a bug in ftprep".to_string();
            let has_any = entry.compiled.is_some();
            let (failed, waiting) = std::mem::take(&mut entry.parked)
                .into_iter()
                .partition(|p| Arc::ptr_eq(&p.text, &job.text) || !has_any);
            entry.parked = waiting;
            return failed
                .into_iter()
                .map(|p: Parked| {
                    Answer::Error(p.request, ErrorCode::InternalError, message.clone())
                })
                .collect();
        };
        if Arc::ptr_eq(&entry.latest, &job.text) {
            publish(&doc);
        }
        let previous = entry.compiled.replace(doc.clone());
        let (ready, waiting) = std::mem::take(&mut entry.parked)
            .into_iter()
            .partition(|p| p.needs == Needs::Any || doc.is_of(&p.text));
        entry.parked = waiting;
        drop(state);
        // Freeing a compilation takes a while on a large spec: not with
        // the message loop waiting for the lock.
        drop(previous);
        ready
            .into_iter()
            .map(|p: Parked| Answer::With(p.request, doc.clone(), p.text))
            .collect()
    }

    /// Stops the worker once it has finished what it is compiling; the
    /// requests still waiting are answered with an error.
    pub fn stop(&self) -> Vec<Answer> {
        let mut state = self.lock();
        state.stopping = true;
        self.queued.notify_all();
        state
            .documents
            .values_mut()
            .flat_map(|e| std::mem::take(&mut e.parked))
            .map(|p| {
                Answer::Error(
                    p.request,
                    ErrorCode::InvalidRequest,
                    "the server is shutting down".to_string(),
                )
            })
            .collect()
    }
}

fn modified(p: Parked) -> Answer {
    Answer::Error(
        p.request,
        ErrorCode::ContentModified,
        "the document changed before this could be answered; ask again".to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn uri() -> Uri {
        Uri::from_str("file:///w.ftprep").unwrap()
    }

    fn text(version: i32) -> Text {
        Text::new(
            &uri(),
            version,
            format!("domain d{version} {{ title \"T\" }}\n"),
        )
    }

    fn request(id: i32) -> Request {
        Request::new(RequestId::from(id), "textDocument/hover".into(), ())
    }

    fn compile(job: &Job) -> Option<Document> {
        Some(Document::compile(job.uri.clone(), &job.text))
    }

    fn ids(answers: &[Answer]) -> Vec<String> {
        answers
            .iter()
            .map(|a| match a {
                Answer::With(r, doc, text) => {
                    format!("{} from v{} for v{}", r.id, doc.version, text.version)
                }
                Answer::Error(r, code, _) => format!("{} error {}", r.id, *code as i32),
            })
            .collect()
    }

    /// The interleaving a fast typist causes, step by step: changes while
    /// a compilation runs are coalesced, and only the latest is published.
    #[test]
    fn changes_during_a_compilation_replace_each_other() {
        let w = Workspace::default();
        w.open(uri(), text(1));
        // A hover before anything is compiled waits for the first compilation.
        assert!(w.request(&uri(), request(1), Needs::Any).is_none());
        let job = w.next_job().unwrap();
        assert_eq!(job.text.version, 1);
        // While version 1 compiles, versions 2, 3 and 4 arrive, and a
        // rename made against version 3.
        w.change(&uri(), text(2));
        w.change(&uri(), text(3));
        assert!(w.request(&uri(), request(2), Needs::Exact).is_none());
        let superseded = w.change(&uri(), text(4));
        assert_eq!(ids(&superseded), ["2 error -32801"]);
        // Version 1 is done: stale, so not published, but the hover (any
        // compilation will do) is answered from it.
        let mut published = Vec::new();
        let doc = compile(&job);
        let answers = w.finish(job, doc, |d| published.push(d.version));
        assert_eq!(published, Vec::<i32>::new());
        assert_eq!(ids(&answers), ["1 from v1 for v1"]);
        // The worker's next job is the latest text only: 2 and 3 are never
        // compiled.
        let job = w.next_job().unwrap();
        assert_eq!(job.text.version, 4);
        // A request now gets the stale compilation, or waits for an exact one.
        assert!(matches!(
            w.request(&uri(), request(3), Needs::Any),
            Some(Answer::With(..))
        ));
        assert!(w.request(&uri(), request(4), Needs::Exact).is_none());
        let doc = compile(&job);
        let answers = w.finish(job, doc, |d| published.push(d.version));
        assert_eq!(published, [4]);
        assert_eq!(ids(&answers), ["4 from v4 for v4"]);
        // Nothing is left to compile.
        assert!(w.lock().queue.is_empty());
    }

    #[test]
    fn closing_answers_what_waits_and_stops_publishing() {
        let w = Workspace::default();
        w.open(uri(), text(1));
        let job = w.next_job().unwrap();
        assert!(w.request(&uri(), request(1), Needs::Exact).is_none());
        assert_eq!(ids(&w.close(&uri())), ["1 error -32801"]);
        let doc = compile(&job);
        let mut published = false;
        assert!(w.finish(job, doc, |_| published = true).is_empty());
        assert!(!published);
        // A request for a document that is not open is an error at once.
        assert!(matches!(
            w.request(&uri(), request(2), Needs::Any),
            Some(Answer::Error(_, ErrorCode::InvalidParams, _))
        ));
    }

    #[test]
    fn a_failed_compilation_answers_with_an_error() {
        let w = Workspace::default();
        w.open(uri(), text(1));
        assert!(w.request(&uri(), request(1), Needs::Any).is_none());
        let job = w.next_job().unwrap();
        assert_eq!(ids(&w.finish(job, None, |_| ())), ["1 error -32603"]);
    }

    #[test]
    fn cancelling_and_stopping_answer_parked_requests() {
        let w = Workspace::default();
        w.open(uri(), text(1));
        assert!(w.request(&uri(), request(1), Needs::Any).is_none());
        assert!(w.request(&uri(), request(2), Needs::Any).is_none());
        assert_eq!(
            ids(&[w.cancel(&RequestId::from(1)).unwrap()]),
            ["1 error -32800"]
        );
        assert!(w.cancel(&RequestId::from(1)).is_none());
        assert_eq!(ids(&w.stop()), ["2 error -32600"]);
        assert!(w.next_job().is_none());
    }
}
