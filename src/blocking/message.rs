//! Whole messages, as the blocking layer hands them out (RFC 6455 §5.6).
//!
//! The core speaks in pieces of frames; most programs want whole messages.
//! [`Message`] is what [`WebSocket::read`](crate::WebSocket::read) returns
//! and [`WebSocket::send`](crate::WebSocket::send) takes: text, binary, or
//! one of the three control frames (§5.5).

use std::string::String;
use std::vec::Vec;

use crate::close::CloseCode;

/// The code and reason of a Close frame (RFC 6455 §5.5.1, §7.4), owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// Why, in at most 123 bytes of UTF-8. Often empty.
    pub reason: String,
}

impl CloseFrame {
    /// A close frame with a code and reason.
    pub fn new(code: CloseCode, reason: impl Into<String>) -> Self {
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }
}

impl From<crate::close::CloseFrame<'_>> for CloseFrame {
    fn from(frame: crate::close::CloseFrame<'_>) -> Self {
        CloseFrame::new(frame.code, frame.reason)
    }
}

/// A WebSocket message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message: valid UTF-8, checked on receipt (§8.1).
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping (at most 125 bytes). Received pings are answered automatically
    /// unless [`Config::auto_pong`](crate::Config::auto_pong) is off.
    Ping(Vec<u8>),
    /// A pong (at most 125 bytes).
    Pong(Vec<u8>),
    /// The peer's Close frame, with its code and reason if it had one. Once
    /// it is read, the closing handshake has been answered.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Self {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Vec<u8>>) -> Self {
        Message::Binary(data.into())
    }

    /// Whether this is a text or binary message (not a control frame).
    pub fn is_data(&self) -> bool {
        matches!(self, Message::Text(_) | Message::Binary(_))
    }

    /// Whether this is a Close frame.
    pub fn is_close(&self) -> bool {
        matches!(self, Message::Close(_))
    }

    /// The text, if this is a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The payload bytes, whatever the kind (empty for a Close).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(_) => &[],
        }
    }

    /// The payload, taken out of the message.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(_) => Vec::new(),
        }
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.into())
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Message::Binary(data)
    }
}

impl From<&[u8]> for Message {
    fn from(data: &[u8]) -> Self {
        Message::Binary(data.to_vec())
    }
}
