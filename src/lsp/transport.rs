//! The server's standard input and output: LSP framing (`Content-Length`
//! headers, a blank line, then a JSON body) read and written here instead
//! of by `lsp_server::Connection::stdio`, whose reader thread ends at the
//! first malformed message and takes the server with it.
//!
//! In: bytes from the client. Out: [`Message`]s on the channel the message
//! loop reads, and every message the loop sends, framed on standard output.
//! What cannot become a message is dealt with here, and the server carries
//! on:
//!
//! * a body that is not UTF-8 or not JSON is answered with a JSON-RPC parse
//!   error (-32700, `id` null), and JSON that is not a request, response or
//!   notification with an invalid-request error (-32600);
//! * a broken frame (no `Content-Length`, one that is not a number or is
//!   over [`MAX_BODY`], a header line that is not `Name: value`, headers
//!   longer than [`MAX_HEADER`]) is logged on standard error, and reading
//!   resumes at the next `Content-Length:` in the input (should the
//!   skipped bytes hold that text themselves, the frame read from there is
//!   broken too, and the next skip goes on from it);
//! * an input that ends inside a message stops the server with an error
//!   saying so.
//!
//! Both threads write whole frames under one lock on standard output, so an
//! error reply of the reader never lands inside a frame of the writer's.

use lsp_server::{Connection, ErrorCode, Message};
use serde_json::{Value, json};
use std::io::{self, BufRead, Read, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The largest body read: a spec of tens of megabytes, JSON-escaped.
pub const MAX_BODY: usize = 64 << 20;

/// The largest header section (its lines together). Clients send one or
/// two short headers.
pub const MAX_HEADER: usize = 8 << 10;

/// The header that frames every message, as the resynchronisation looks
/// for it (header names are case-insensitive).
const CONTENT_LENGTH: &str = "content-length:";

/// What the input held next.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A body, exactly as long as its `Content-Length` said.
    Body(Vec<u8>),
    /// A frame that could not be read, and why; the reader has skipped to
    /// the next `Content-Length:` header, or to the end of the input.
    Broken(String),
    /// The input ended inside a message: nothing more can be read.
    Truncated(String),
}

/// Where the next frame starts after a broken one.
enum Resume {
    /// At a header line, as usual.
    Header,
    /// Just after a `Content-Length:` found while skipping: the rest of
    /// that line is its value.
    Value,
    /// A `Content-Length:` found inside the broken frame's last line, with
    /// the rest of that line (its value).
    ValueIs(String),
}

/// Reads LSP frames from `input`, skipping past broken ones.
pub struct FrameReader<R> {
    input: R,
    resume: Resume,
}

enum Line {
    Text(String),
    /// The input ended before the line did.
    End,
    TooLong,
}

impl<R: BufRead> FrameReader<R> {
    pub fn new(input: R) -> Self {
        FrameReader {
            input,
            resume: Resume::Header,
        }
    }

    /// The next frame, or `None` at the end of the input between frames.
    pub fn next_frame(&mut self) -> io::Result<Option<Frame>> {
        let mut length = None;
        let mut used = 0;
        // Nothing of this frame has been read yet: an end of the input
        // here is the end of the session, not of a message.
        let mut fresh = true;
        let value = match std::mem::replace(&mut self.resume, Resume::Header) {
            Resume::Header => None,
            Resume::ValueIs(value) => Some(value),
            Resume::Value => match self.header_line(&mut used)? {
                Line::Text(value) => Some(value),
                Line::End => return Ok(Some(truncated("a header"))),
                Line::TooLong => return self.broken(too_long()),
            },
        };
        if let Some(value) = value {
            fresh = false;
            match content_length(&value) {
                Ok(n) => length = Some(n),
                Err(problem) => return self.broken(problem),
            }
        }
        loop {
            let line = match self.header_line(&mut used)? {
                Line::Text(line) => line,
                Line::End if fresh => return Ok(None),
                Line::End => return Ok(Some(truncated("the headers"))),
                Line::TooLong => return self.broken(too_long()),
            };
            if line.is_empty() {
                if fresh {
                    // A blank line between messages: harmless.
                    continue;
                }
                break;
            }
            fresh = false;
            let Some((name, value)) = split_header(&line) else {
                let problem = format!("`{}` is not a header (`Name: value`)", shorten(&line));
                return self.broken_at(problem, &line);
            };
            if name.eq_ignore_ascii_case("content-length") {
                match content_length(value) {
                    Ok(n) => length = Some(n),
                    Err(problem) => return self.broken(problem),
                }
            }
        }
        let Some(length) = length else {
            return self.broken(
                "a message has no Content-Length header (each message starts with \
                 `Content-Length: <bytes of the body>`, a blank line, then the body)"
                    .to_string(),
            );
        };
        let mut body = Vec::new();
        (&mut self.input)
            .take(length as u64)
            .read_to_end(&mut body)?;
        if body.len() < length {
            return Ok(Some(Frame::Truncated(format!(
                "the input ended inside a message: {} of its {length} bytes arrived",
                body.len()
            ))));
        }
        Ok(Some(Frame::Body(body)))
    }

    /// One header line without its line ending (`\r\n`, or a bare `\n`),
    /// counted against [`MAX_HEADER`] in `used`.
    fn header_line(&mut self, used: &mut usize) -> io::Result<Line> {
        let room = MAX_HEADER.saturating_sub(*used);
        let mut bytes = Vec::new();
        (&mut self.input)
            .take(room as u64 + 1)
            .read_until(b'\n', &mut bytes)?;
        *used += bytes.len();
        if *used > MAX_HEADER {
            return Ok(Line::TooLong);
        }
        if bytes.pop() != Some(b'\n') {
            return Ok(Line::End);
        }
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        Ok(Line::Text(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// A broken frame: skips to the next `Content-Length:` header.
    fn broken(&mut self, problem: String) -> io::Result<Option<Frame>> {
        self.broken_at(problem, "")
    }

    /// A broken frame whose last line read, `line`, may hold the next
    /// `Content-Length:` itself: a body sent without headers runs into the
    /// next frame's header with no line break between them.
    fn broken_at(&mut self, problem: String, line: &str) -> io::Result<Option<Frame>> {
        if let Some(at) = find_ignore_case(line, CONTENT_LENGTH) {
            self.resume = Resume::ValueIs(line[at + CONTENT_LENGTH.len()..].to_string());
            return Ok(Some(Frame::Broken(format!(
                "{problem}; skipped to the Content-Length header in that line"
            ))));
        }
        let (skipped, found) = skip_to_content_length(&mut self.input)?;
        let then = if found {
            self.resume = Resume::Value;
            "to the next Content-Length header"
        } else {
            "to the end of the input"
        };
        Ok(Some(Frame::Broken(format!(
            "{problem}; skipped {skipped} bytes {then}"
        ))))
    }
}

fn truncated(what: &str) -> Frame {
    Frame::Truncated(format!("the input ended inside {what} of a message"))
}

fn too_long() -> String {
    format!("the headers of a message are over {MAX_HEADER} bytes")
}

/// `Name: value`, with a name made of the characters HTTP allows in one.
fn split_header(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    (!name.is_empty() && name.bytes().all(token)).then_some((name, value.trim()))
}

/// The value of a `Content-Length` header.
fn content_length(value: &str) -> Result<usize, String> {
    let value = value.trim();
    match value.parse::<usize>() {
        Ok(n) if n <= MAX_BODY => Ok(n),
        Ok(n) => Err(format!(
            "a message of {n} bytes is over the limit of {MAX_BODY} bytes ({} MiB)",
            MAX_BODY >> 20
        )),
        Err(_) => Err(format!(
            "`Content-Length: {}` is not a number of bytes",
            shorten(value)
        )),
    }
}

/// At most 60 characters of `text`, for a log line.
fn shorten(text: &str) -> String {
    if text.chars().count() <= 60 {
        text.to_string()
    } else {
        let cut: String = text.chars().take(59).collect();
        format!("{cut}…")
    }
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    (0..=h.len().checked_sub(n.len())?).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Consumes the input up to and including the next `Content-Length:`
/// (in any case). Returns how many bytes went before it, and whether one
/// was found before the end of the input.
fn skip_to_content_length(input: &mut impl BufRead) -> io::Result<(usize, bool)> {
    let pattern = CONTENT_LENGTH.as_bytes();
    let mut matched = 0;
    let mut skipped = 0;
    loop {
        let buffer = input.fill_buf()?;
        if buffer.is_empty() {
            return Ok((skipped + matched, false));
        }
        let mut used = 0;
        for &b in buffer {
            used += 1;
            let b = b.to_ascii_lowercase();
            if b == pattern[matched] {
                matched += 1;
                if matched == pattern.len() {
                    input.consume(used);
                    return Ok((skipped, true));
                }
            } else {
                // `c` occurs once in the pattern, at its start, so a
                // mismatch can only restart the match at this byte.
                skipped += matched + 1;
                matched = 0;
                if b == pattern[0] {
                    skipped -= 1;
                    matched = 1;
                }
            }
        }
        input.consume(used);
    }
}

/// What a body is, as the message loop or the client needs to hear it.
#[derive(Debug)]
pub enum Decoded {
    Message(Message),
    /// Not a message: the error response to send, and the log line.
    Error(Value, String),
}

/// Turns a body into a message, or into the JSON-RPC error that says why
/// it is not one.
pub fn decode(body: &[u8]) -> Decoded {
    let error = |code: ErrorCode, id: Value, message: String| {
        let reply = json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": code as i32, "message": message},
        });
        Decoded::Error(reply, message)
    };
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => {
            return error(
                ErrorCode::ParseError,
                Value::Null,
                format!(
                    "the message is not UTF-8 (at byte {} of its body); LSP messages are UTF-8 JSON",
                    e.valid_up_to()
                ),
            );
        }
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            return error(
                ErrorCode::ParseError,
                Value::Null,
                format!("the message is not JSON: {e}"),
            );
        }
    };
    // The id of a request that is not otherwise one, so that the client
    // can match the error to what it sent.
    let id = match value.get("id") {
        Some(id @ (Value::Number(_) | Value::String(_))) => id.clone(),
        _ => Value::Null,
    };
    match serde_json::from_value::<Message>(value) {
        Ok(message) => Decoded::Message(message),
        Err(_) => error(
            ErrorCode::InvalidRequest,
            id,
            "the message is JSON but not a JSON-RPC message: a request has `id` and \
             `method`, a notification `method`, a response `id` and `result` or `error`"
                .to_string(),
        ),
    }
}

/// Standard output, shared by the writer and the reader's error replies.
type Output = Arc<Mutex<Box<dyn Write + Send>>>;

fn write_frame(output: &Output, body: &str) -> io::Result<()> {
    let mut out = output
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
    out.write_all(body.as_bytes())?;
    out.flush()
}

/// The threads behind [`connect`].
pub struct Transport {
    writer: JoinHandle<()>,
    /// Why the input stopped, when it was not a clean end: set before the
    /// reader lets go of its channel, so it is there by the time the
    /// message loop sees the channel close.
    fatal: Arc<Mutex<Option<String>>>,
}

impl Transport {
    /// Waits for everything sent to be written, once the message loop has
    /// let go of its connection, and says whether the input ended cleanly.
    /// The reader is not waited for: after `exit` it may still be blocked
    /// on an input the client keeps open, and the process ends it.
    pub fn finish(self) -> Result<(), String> {
        let _ = self.writer.join();
        match self.fatal.lock() {
            Ok(mut fatal) => fatal.take().map_or(Ok(()), Err),
            Err(_) => Ok(()),
        }
    }
}

/// A connection over `input` and `output`: a reader thread that turns
/// frames into messages (answering or logging what is not one) and a
/// writer thread that frames what the server sends.
pub fn connect(
    input: impl BufRead + Send + 'static,
    output: impl Write + Send + 'static,
    log: impl Fn(&str) + Send + 'static,
) -> (Connection, Transport) {
    let (server, client) = Connection::memory();
    let output: Output = Arc::new(Mutex::new(Box::new(output)));
    let fatal = Arc::new(Mutex::new(None));
    let Connection {
        sender: to_server,
        receiver: from_server,
    } = client;
    let writer = {
        let output = output.clone();
        std::thread::spawn(move || {
            let mut client_gone = false;
            for message in from_server {
                // Once the client has gone, messages are still taken (and
                // dropped), so that sending never fails: the loop ends
                // when the input does.
                if client_gone {
                    continue;
                }
                let Ok(body) = serde_json::to_string(&Framed(&message)) else {
                    continue;
                };
                client_gone = write_frame(&output, &body).is_err();
            }
        })
    };
    {
        let fatal = fatal.clone();
        std::thread::spawn(move || {
            let mut frames = FrameReader::new(input);
            loop {
                let frame = match frames.next_frame() {
                    Ok(Some(frame)) => frame,
                    Ok(None) => return,
                    Err(e) => Frame::Truncated(format!("the input could not be read: {e}")),
                };
                match frame {
                    Frame::Body(body) => match decode(&body) {
                        Decoded::Message(message) => {
                            let exit =
                                matches!(&message, Message::Notification(n) if n.method == "exit");
                            if to_server.send(message).is_err() || exit {
                                return;
                            }
                        }
                        Decoded::Error(reply, why) => {
                            let code = &reply["error"]["code"];
                            log(&format!("{why} (answered with error {code})"));
                            let _ = write_frame(&output, &reply.to_string());
                        }
                    },
                    Frame::Broken(why) => log(&why),
                    Frame::Truncated(why) => {
                        log(&why);
                        if let Ok(mut slot) = fatal.lock() {
                            *slot = Some(why);
                        }
                        return;
                    }
                }
            }
        });
    }
    (server, Transport { writer, fatal })
}

/// A message as it goes out: with the `"jsonrpc": "2.0"` member
/// `lsp_server::Message` leaves to its own writer.
struct Framed<'m>(&'m Message);

impl serde::Serialize for Framed<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct JsonRpc<'a> {
            jsonrpc: &'static str,
            #[serde(flatten)]
            message: &'a Message,
        }
        JsonRpc {
            jsonrpc: "2.0",
            message: self.0,
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut reader = FrameReader::new(input);
        let mut out = Vec::new();
        while let Some(frame) = reader.next_frame().unwrap() {
            let end = matches!(frame, Frame::Truncated(_));
            out.push(frame);
            if end {
                break;
            }
        }
        out
    }

    fn body(text: &str) -> Frame {
        Frame::Body(text.as_bytes().to_vec())
    }

    fn is_broken(frame: &Frame, says: &str) -> bool {
        matches!(frame, Frame::Broken(why) if why.contains(says))
    }

    #[test]
    fn frames_are_read_by_their_length() {
        let input = b"Content-Length: 2\r\n\r\n{}Content-Type: x\r\ncontent-length:3\r\n\r\n[1]";
        assert_eq!(frames(input), [body("{}"), body("[1]")]);
        // Bare newlines and blank lines between messages are accepted.
        assert_eq!(frames(b"\r\nContent-Length: 2\n\n{}"), [body("{}")]);
        assert_eq!(frames(b""), []);
    }

    #[test]
    fn a_frame_without_a_length_is_skipped_to_the_next_one() {
        let input = b"Content-Type: x\r\n\r\n{\"a\": 1}Content-Length: 2\r\n\r\n{}";
        let got = frames(input);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(is_broken(&got[0], "no Content-Length header"), "{got:?}");
        assert!(is_broken(&got[0], "skipped 8 bytes"), "{got:?}");
        assert_eq!(got[1], body("{}"));
    }

    #[test]
    fn a_body_without_headers_runs_into_the_next_header() {
        let got = frames(b"{\"a\": 1}Content-Length: 2\r\n\r\n{}");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(is_broken(&got[0], "is not a header"), "{got:?}");
        assert_eq!(got[1], body("{}"));
    }

    #[test]
    fn a_bad_length_is_skipped() {
        let got = frames(b"Content-Length: twelve\r\n\r\n{}CONTENT-LENGTH: 2\r\n\r\n[]");
        assert!(is_broken(
            &got[0],
            "`Content-Length: twelve` is not a number"
        ));
        assert_eq!(got[1], body("[]"));
        let huge = format!("Content-Length: {}\r\n\r\n", MAX_BODY + 1);
        let got = frames(huge.as_bytes());
        assert!(is_broken(&got[0], "over the limit"), "{got:?}");
        assert!(is_broken(&got[0], "to the end of the input"), "{got:?}");
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn long_headers_are_refused() {
        let mut input = b"X-Padding: ".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_HEADER));
        input.extend(b"\r\nContent-Length: 2\r\n\r\n{}");
        let got = frames(&input);
        assert!(is_broken(&got[0], "over 8192 bytes"), "{got:?}");
        assert_eq!(got[1], body("{}"));
    }

    #[test]
    fn an_input_that_ends_inside_a_message_is_truncated() {
        let got = frames(b"Content-Length: 10\r\n\r\n{}");
        assert_eq!(
            got,
            [Frame::Truncated(
                "the input ended inside a message: 2 of its 10 bytes arrived".into()
            )]
        );
        assert!(matches!(
            frames(b"Content-Length: 10\r\n")[..],
            [Frame::Truncated(_)]
        ));
    }

    #[test]
    fn the_skip_counts_partial_matches() {
        // `Content-L` then something else: those bytes are skipped too.
        let got = frames(b"Bad\r\n\r\nContent-Lx Content-Length: 2\r\n\r\n{}");
        assert!(is_broken(&got[0], "skipped 13 bytes"), "{got:?}");
        assert_eq!(got[1], body("{}"));
    }

    #[test]
    fn bodies_that_are_not_messages_get_errors() {
        let reply = |body: &[u8]| match decode(body) {
            Decoded::Error(reply, _) => reply,
            Decoded::Message(m) => panic!("decoded {m:?}"),
        };
        let r = reply(b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\"");
        assert_eq!(r["error"]["code"], -32700);
        assert_eq!(r["id"], Value::Null);
        let r = reply(b"{\"method\": \"caf\xe9\"}");
        assert_eq!(r["error"]["code"], -32700);
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not UTF-8")
        );
        let r = reply(b"{\"id\": 7, \"params\": {}}");
        assert_eq!(r["error"]["code"], -32600);
        assert_eq!(r["id"], 7);
        assert!(matches!(
            decode(b"{\"jsonrpc\": \"2.0\", \"method\": \"initialized\", \"params\": {}}"),
            Decoded::Message(Message::Notification(_))
        ));
    }
}
