//! The language server's input framing on any bytes: reading frames never
//! panics and always makes progress (each frame consumes input, so the
//! reader ends), and every body decodes to a message or to the JSON-RPC
//! error that answers it.
#![no_main]

use ftprep::lsp::transport::{Decoded, Frame, FrameReader, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut reader = FrameReader::new(data);
    // A frame takes at least one byte, so more reads than bytes is a loop.
    for _ in 0..=data.len() + 1 {
        match reader.next_frame() {
            Ok(Some(Frame::Body(body))) => {
                if let Decoded::Error(reply, _) = decode(&body) {
                    assert!(reply.get("error").is_some());
                }
            }
            Ok(Some(Frame::Broken(_))) => {}
            Ok(Some(Frame::Truncated(_))) | Ok(None) | Err(_) => return,
        }
    }
    panic!("the reader did not reach the end of {} bytes", data.len());
});
