//! Why a document was refused, with where, and the limits every reader holds untrusted input
//! to. Each reader reports through [`InputError`] — the JSON and YAML readers beside this
//! module, and `crate::terraform` — so the error and the limits sit below all of them and
//! below the dispatch in `input` that calls them: a reader reports without importing the
//! dispatch that imports it.

/// Largest file read (ECS itself caps a task definition at 64 KiB; templates are larger).
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// Deepest nesting accepted (serde_json's own limit is 128).
pub(super) const MAX_DEPTH: usize = 128;
/// Most values built: YAML nodes (aliases expanded), or JSON values. A CloudFormation template
/// is at most 1 MB and a task definition 64 KiB, far below this; memory stays in tens of MiB.
pub(super) const MAX_NODES: usize = 500_000;

/// How the message of a readable document that holds no task definition begins.
pub const NOT_A_TASK_DEFINITION: &str = "not a task definition";

/// Why a document could not be read, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", position(*line, *column))]
pub struct InputError {
    /// 1-based; 0 when the error is about the whole document.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

fn position(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!("line {line}, column {column}: ")
    }
}

impl InputError {
    pub(super) fn whole(message: impl Into<String>) -> Self {
        InputError {
            line: 0,
            column: 0,
            message: message.into(),
        }
    }
}

pub(super) fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, column)
}

/// serde_json appends " at line L column C"; the position is reported separately.
pub(crate) fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |at| &message[..at])
}
