//! Where finished calls are kept: the run's journal, which makes a run
//! resumable, and the response cache shared by every run.
//!
//! **The journal** (`<run dir>/journal.jsonl`) has one line per finished
//! call: its key, the flow's label for it, where the answer came from, and
//! the answer (or why it could not be used). A call counts as finished only
//! once its line is on disk: lines are written by one thread, in groups,
//! with one `fsync` per group (a line per call and an `fsync` each would
//! cost a millisecond per call on this machine's disk). A kill at any
//! moment loses at most the calls whose lines were not yet written, which
//! are the calls in flight; a line cut off by the kill is dropped when the
//! journal is next opened, and the file is cut back to its last whole line
//! so that new lines do not join it. Only the set of finished keys and
//! each line's offset are held in memory, so a run of 100,000 calls holds
//! about 4 MB, and lines are read back one at a time when outputs are
//! written.
//!
//! **The cache** is an SQLite database (through rusqlite, with SQLite
//! compiled in, so nothing needs installing), keyed by [`CallKey`]: only
//! answers that were used are kept, with the hash of each part of their
//! key, so that `ftprep cache why` can find the entry nearest to a call
//! that missed and say which part differs. It is written by the journal's
//! thread after each group, so a cache write never delays a call, and read
//! from the engine's thread through a second connection (WAL mode lets
//! several runs share it).

use super::key::{CallKey, KeyParts, from_hex, hex};
use crate::llm::chat::ChatResponse;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Sent and paid for in this run.
    Network,
    /// Taken from the shared cache.
    Cache,
}

/// Why an answer that came back could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unusable {
    /// The model declined.
    Refusal,
    /// It ran out of output tokens mid-answer.
    CutOff,
    /// The answer is not JSON.
    NotJson,
    /// The answer is JSON that breaks its schema.
    BreaksSchema,
    /// The answer leaves out questions it had to answer.
    MissingQuestions,
    /// The answer has no text.
    Empty,
    /// A generated conversation that is not one: roles out of turn, the
    /// wrong number of exchanges, an empty message.
    BadConversation,
}

impl Unusable {
    pub fn as_str(self) -> &'static str {
        match self {
            Unusable::Refusal => "refusal",
            Unusable::CutOff => "cut_off",
            Unusable::NotJson => "not_json",
            Unusable::BreaksSchema => "breaks_schema",
            Unusable::MissingQuestions => "missing_questions",
            Unusable::Empty => "empty",
            Unusable::BadConversation => "bad_conversation",
        }
    }
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The call's key, in hex.
    pub key: String,
    /// The flow's label for the call (`conv-7/S1/sample 0`), for people.
    pub tag: String,
    /// The configured name of the model.
    pub model: String,
    pub source: Source,
    pub attempts: u32,
    pub latency_ms: u64,
    /// The last answer the model gave (for an unusable one too: its raw
    /// text is the evidence of what went wrong).
    pub response: ChatResponse,
    /// Set when no answer could be used after every attempt: the call is
    /// finished (its attempts were paid for) and scores as ERROR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unusable: Option<UnusableDetail>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnusableDetail {
    pub class: Unusable,
    pub detail: String,
}

/// The journal of one run: the keys it has finished, where each line is,
/// and the thread that appends lines.
pub struct Journal {
    path: PathBuf,
    offsets: HashMap<[u8; 32], u64>,
    /// Lines dropped when it was opened: cut off by a kill, or unreadable.
    pub dropped: usize,
}

impl Journal {
    /// Opens (or creates) the journal at `path`, indexing its lines and
    /// cutting off a last line that a kill left unfinished.
    pub fn open(path: &Path) -> io::Result<Journal> {
        Journal::open_with(path, true)
    }

    /// [`Journal::open`]; with `keep_unusable` false, calls that finished
    /// as ERROR (no usable answer) are not counted as finished, so a run
    /// asks them again (`--retry-errors`). Their lines stay in the file.
    pub fn open_with(path: &Path, keep_unusable: bool) -> io::Result<Journal> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut offsets = HashMap::new();
        let mut dropped = 0;
        let mut reader = BufReader::new(&mut file);
        let mut at = 0u64;
        let mut good = 0u64;
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 {
                break;
            }
            let whole = line.ends_with(b"\n");
            match serde_json::from_slice::<KeyOnly>(&line) {
                Ok(entry) if whole => match from_hex(&entry.key) {
                    Some(key) if keep_unusable || entry.unusable.is_none() => {
                        offsets.insert(key, at);
                    }
                    Some(key) => {
                        // A later line of the same key (an answer that was
                        // usable this time) still counts.
                        offsets.remove(&key);
                    }
                    None => dropped += 1,
                },
                _ => dropped += 1,
            }
            at += n as u64;
            if whole {
                good = at;
            }
        }
        drop(reader);
        if good < at {
            // The end of a line being written when the process was killed.
            file.set_len(good)?;
        }
        Ok(Journal {
            path: path.to_path_buf(),
            offsets,
            dropped,
        })
    }

    pub fn contains(&self, key: &[u8; 32]) -> bool {
        self.offsets.contains_key(key)
    }

    pub fn len(&self) -> usize {
        self.offsets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records that the line of `key` is at `offset` (after the writer
    /// wrote it).
    pub fn record(&mut self, key: [u8; 32], offset: u64) {
        self.offsets.insert(key, offset);
    }

    /// A reader of this journal's lines by key.
    pub fn reader(&self) -> io::Result<JournalReader<'_>> {
        Ok(JournalReader {
            journal: self,
            file: BufReader::new(File::open(&self.path)?),
            line: Vec::new(),
        })
    }
}

#[derive(Deserialize)]
struct KeyOnly {
    key: String,
    #[serde(default)]
    unusable: Option<serde::de::IgnoredAny>,
}

/// Reads journal lines back by key.
pub struct JournalReader<'j> {
    journal: &'j Journal,
    file: BufReader<File>,
    line: Vec<u8>,
}

impl JournalReader<'_> {
    pub fn get(&mut self, key: &[u8; 32]) -> io::Result<Option<Entry>> {
        let Some(&offset) = self.journal.offsets.get(key) else {
            return Ok(None);
        };
        self.file.seek(SeekFrom::Start(offset))?;
        self.line.clear();
        self.file.read_until(b'\n', &mut self.line)?;
        serde_json::from_slice(&self.line)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

/// What the writer thread is asked to do.
enum Op {
    Append {
        key: [u8; 32],
        line: Vec<u8>,
        cache: Option<(KeyParts, String)>,
        written: tokio::sync::oneshot::Sender<io::Result<u64>>,
    },
}

/// Journal lines that may wait for the writer before appending blocks.
const WRITER_BACKLOG: usize = 512;

/// The thread that appends journal lines and fills the cache.
pub struct Writer {
    ops: Option<mpsc::SyncSender<Op>>,
    thread: Option<JoinHandle<()>>,
}

/// Where a cache lives, and whether calls read it and write it.
#[derive(Debug, Clone)]
pub struct CacheMode {
    pub path: Option<PathBuf>,
    /// `--no-cache` reads nothing and writes nothing; `--refresh` writes
    /// but does not read.
    pub read: bool,
    pub write: bool,
}

impl Writer {
    /// Starts the writer on the journal at `journal` (already opened by
    /// [`Journal::open`]) and the cache at `cache`, if any.
    pub fn start(journal: &Path, cache: Option<&Path>) -> io::Result<Writer> {
        let mut file = OpenOptions::new().append(true).open(journal)?;
        let mut cache = match cache {
            Some(path) => Some(Cache::open(path).map_err(io::Error::other)?),
            None => None,
        };
        // Bounded: should the disk fall behind, the calls wait for it
        // rather than their lines piling up in memory.
        let (ops, inbox) = mpsc::sync_channel::<Op>(WRITER_BACKLOG);
        let thread = std::thread::Builder::new()
            .name("ftprep-journal".into())
            .spawn(move || {
                let mut offset = file.seek(SeekFrom::End(0)).unwrap_or(0);
                while let Ok(first) = inbox.recv() {
                    // Everything waiting is one group: one write and one
                    // fsync for all of it.
                    let mut group = vec![first];
                    while let Ok(next) = inbox.try_recv() {
                        group.push(next);
                    }
                    let mut buffer = Vec::new();
                    let mut placed = Vec::with_capacity(group.len());
                    for Op::Append { line, .. } in &group {
                        placed.push(offset + buffer.len() as u64);
                        buffer.extend_from_slice(line);
                    }
                    let result = file.write_all(&buffer).and_then(|()| file.sync_data());
                    if result.is_ok() {
                        offset += buffer.len() as u64;
                    }
                    let mut inserts = Vec::new();
                    for (op, at) in group.into_iter().zip(placed) {
                        let Op::Append {
                            key,
                            cache: entry,
                            written,
                            ..
                        } = op;
                        let _ = written.send(match &result {
                            Ok(()) => Ok(at),
                            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
                        });
                        if let (Ok(()), Some((parts, response))) = (&result, entry) {
                            inserts.push((key, parts, response));
                        }
                    }
                    if let (Some(cache), false) = (&mut cache, inserts.is_empty()) {
                        // A cache that cannot be written loses reuse, not
                        // answers: the journal has them.
                        let _ = cache.put(&inserts);
                    }
                }
            })?;
        Ok(Writer {
            ops: Some(ops),
            thread: Some(thread),
        })
    }

    /// Appends `entry` to the journal (and, when `cache` is given, to the
    /// cache). Resolves to the line's offset once it is on disk.
    pub fn append(
        &self,
        key: &CallKey,
        entry: &Entry,
        cache: bool,
    ) -> tokio::sync::oneshot::Receiver<io::Result<u64>> {
        let (written, done) = tokio::sync::oneshot::channel();
        let mut line = serde_json::to_vec(entry).unwrap_or_default();
        line.push(b'\n');
        let cache = (cache && entry.unusable.is_none()).then(|| {
            (
                key.parts.clone(),
                serde_json::to_string(&entry.response).unwrap_or_default(),
            )
        });
        let op = Op::Append {
            key: key.key,
            line,
            cache,
            written,
        };
        if let Some(ops) = &self.ops {
            // If the thread is gone, `done` resolves to an error.
            let _ = ops.send(op);
        }
        done
    }

    /// Waits for every line sent to be written.
    pub fn finish(mut self) {
        self.ops = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.ops = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The response cache (see the module comment).
pub struct Cache {
    db: rusqlite::Connection,
}

/// A cache entry's description, for `ftprep cache why`.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheEntryInfo {
    pub key: [u8; 32],
    pub parts: KeyParts,
    pub dialect: String,
    pub model: String,
    pub created: u64,
}

/// The schema of the cache database; a different one is set aside.
const CACHE_SCHEMA: i64 = 1;

impl Cache {
    pub fn open(path: &Path) -> Result<Cache, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let db = rusqlite::Connection::open(path)
            .map_err(|e| format!("cannot open the cache {}: {e}", path.display()))?;
        let setup = || -> rusqlite::Result<()> {
            db.busy_timeout(std::time::Duration::from_secs(10))?;
            db.pragma_update(None, "journal_mode", "WAL")?;
            db.pragma_update(None, "synchronous", "NORMAL")?;
            let version: i64 = db.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if version != 0 && version != CACHE_SCHEMA {
                db.execute_batch("DROP TABLE IF EXISTS responses")?;
            }
            db.execute_batch(
                "CREATE TABLE IF NOT EXISTS responses (
                    key BLOB PRIMARY KEY,
                    target BLOB NOT NULL,
                    sampling BLOB NOT NULL,
                    schema BLOB NOT NULL,
                    system BLOB NOT NULL,
                    conversation BLOB NOT NULL,
                    sample INTEGER NOT NULL,
                    response TEXT NOT NULL,
                    created INTEGER NOT NULL
                 ) WITHOUT ROWID;
                 CREATE INDEX IF NOT EXISTS responses_conversation ON responses(conversation);
                 DROP INDEX IF EXISTS responses_system;",
            )?;
            db.pragma_update(None, "user_version", CACHE_SCHEMA)?;
            Ok(())
        };
        setup().map_err(|e| format!("cannot use the cache {}: {e}", path.display()))?;
        Ok(Cache { db })
    }

    pub fn get(&self, key: &[u8; 32]) -> Option<ChatResponse> {
        let text: String = self
            .db
            .prepare_cached("SELECT response FROM responses WHERE key = ?1")
            .ok()?
            .query_row([key.as_slice()], |row| row.get(0))
            .ok()?;
        serde_json::from_str(&text).ok()
    }

    fn put(&mut self, entries: &[([u8; 32], KeyParts, String)]) -> rusqlite::Result<()> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let tx = self.db.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO responses
                 (key, target, sampling, schema, system, conversation, sample, response, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for (key, parts, response) in entries {
                insert.execute(rusqlite::params![
                    key.as_slice(),
                    parts.target.as_slice(),
                    parts.sampling.as_slice(),
                    parts.schema.as_slice(),
                    parts.system.as_slice(),
                    parts.conversation.as_slice(),
                    parts.sample,
                    response,
                    now,
                ])?;
            }
        }
        tx.commit()
    }

    /// The entry nearest to a call with `parts`: among entries with the
    /// same conversation, else the same system prompt, the one sharing
    /// the most parts. Only the conversation is indexed: every insert pays
    /// for an index, and the system prompt is looked up only when no entry
    /// has the conversation, by `ftprep cache why`, where a scan is fine.
    pub fn nearest(&self, parts: &KeyParts) -> Option<(KeyParts, usize)> {
        let mut best: Option<(KeyParts, usize)> = None;
        for (column, value) in [
            ("conversation", parts.conversation),
            ("system", parts.system),
        ] {
            let sql = format!(
                "SELECT target, sampling, schema, system, conversation, sample FROM responses WHERE {column} = ?1 LIMIT 1000"
            );
            let Ok(mut statement) = self.db.prepare(&sql) else {
                continue;
            };
            let rows = statement.query_map([value.as_slice()], |row| {
                let blob = |i: usize| -> rusqlite::Result<[u8; 32]> {
                    let v: Vec<u8> = row.get(i)?;
                    Ok(v.try_into().unwrap_or([0; 32]))
                };
                Ok(KeyParts {
                    target: blob(0)?,
                    sampling: blob(1)?,
                    schema: blob(2)?,
                    system: blob(3)?,
                    conversation: blob(4)?,
                    sample: row.get(5)?,
                })
            });
            let Ok(rows) = rows else { continue };
            for other in rows.flatten() {
                let shared = shared_parts(parts, &other);
                if best.as_ref().is_none_or(|(_, n)| shared > *n) {
                    best = Some((other, shared));
                }
            }
            if best.is_some() {
                break;
            }
        }
        best
    }

    pub fn len(&self) -> u64 {
        self.db
            .query_row("SELECT COUNT(*) FROM responses", [], |r| r.get::<_, i64>(0))
            .map_or(0, |n| n.max(0) as u64)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How many of the six parts two keys share.
pub fn shared_parts(a: &KeyParts, b: &KeyParts) -> usize {
    [
        a.target == b.target,
        a.sampling == b.sampling,
        a.schema == b.schema,
        a.system == b.system,
        a.conversation == b.conversation,
        a.sample == b.sample,
    ]
    .iter()
    .filter(|&&same| same)
    .count()
}

/// The names of the parts in which `a` and `b` differ.
pub fn differing_parts(a: &KeyParts, b: &KeyParts) -> Vec<&'static str> {
    let mut out = Vec::new();
    for (name, same) in [
        ("target (dialect, base URL or model)", a.target == b.target),
        ("sampling settings", a.sampling == b.sampling),
        ("output schema", a.schema == b.schema),
        ("system prompt", a.system == b.system),
        ("conversation", a.conversation == b.conversation),
        ("sample index", a.sample == b.sample),
    ] {
        if !same {
            out.push(name);
        }
    }
    out
}

/// Reads a whole journal, in file order (for `ftprep cache` and tests).
pub fn read_entries(path: &Path) -> io::Result<Vec<Entry>> {
    let mut text = String::new();
    File::open(path)?.read_to_string(&mut text)?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// The key of an entry, as bytes.
pub fn entry_key(entry: &Entry) -> Option<[u8; 32]> {
    from_hex(&entry.key)
}

/// An entry's key, in hex (the inverse of [`entry_key`]).
pub fn key_hex(key: &[u8; 32]) -> String {
    hex(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::chat::{Finish, Usage};

    fn entry(key: &[u8; 32], text: &str) -> Entry {
        Entry {
            key: hex(key),
            tag: "t".into(),
            model: "m".into(),
            source: Source::Network,
            attempts: 1,
            latency_ms: 5,
            response: ChatResponse {
                text: text.into(),
                refusal: None,
                finish: Finish::Stop,
                usage: Usage::default(),
            },
            unusable: None,
        }
    }

    fn parts(n: u8) -> KeyParts {
        KeyParts {
            target: [n; 32],
            sampling: [1; 32],
            schema: [2; 32],
            system: [3; 32],
            conversation: [n; 32],
            sample: 0,
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn lines_survive_a_reopen_and_a_cut_off_last_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let cache = dir.path().join("cache.sqlite");
        let mut journal = Journal::open(&path).unwrap();
        let writer = Writer::start(&path, Some(&cache)).unwrap();
        let mut offsets = Vec::new();
        for n in 0..3u8 {
            let key = CallKey {
                key: [n; 32],
                parts: parts(n),
            };
            let at = writer
                .append(&key, &entry(&key.key, &format!("answer {n}")), true)
                .await
                .unwrap()
                .unwrap();
            journal.record(key.key, at);
            offsets.push(at);
        }
        writer.finish();
        // A kill in the middle of a fourth line.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"key\": \"0303")
            .unwrap();
        let reopened = Journal::open(&path).unwrap();
        assert_eq!(reopened.len(), 3);
        assert_eq!(reopened.dropped, 1);
        assert!(std::fs::read_to_string(&path).unwrap().ends_with("}\n"));
        let mut reader = reopened.reader().unwrap();
        assert_eq!(
            reader.get(&[1; 32]).unwrap().unwrap().response.text,
            "answer 1"
        );
        assert!(reader.get(&[9; 32]).unwrap().is_none());
        // The cache has them too, and finds the nearest of a near miss.
        let cache = Cache::open(&cache).unwrap();
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get(&[2; 32]).unwrap().text, "answer 2");
        let mut near = parts(2);
        near.sampling = [7; 32];
        let (found, shared) = cache.nearest(&near).unwrap();
        assert_eq!(shared, 5);
        assert_eq!(differing_parts(&near, &found), vec!["sampling settings"]);
    }
}
