//! The JSON reader's own parts. serde_json parses, but it neither refuses a file of millions
//! of tiny values before building them nor says on which line a value sits: this module
//! counts values before anything is built, and walks the text once more to record each
//! value's line in the [`LineMap`] — for whole documents, for a template's `%{ else }`
//! reading, and for JSON inside a Terraform heredoc.

use std::borrow::Cow;

use super::error::{line_col, InputError, MAX_DEPTH, MAX_NODES};
use super::lines::{child_hash, pointer_hash, LineMap, ROOT_HASH};

/// Counts JSON values before any is built (a value per `,`, `:`, `[` or `{` outside strings,
/// an upper bound), so a file of millions of tiny values is refused before it costs memory.
pub(super) fn json_within_node_limit(text: &str) -> Result<(), InputError> {
    let bytes = text.as_bytes();
    // Each value counted is one byte of the text: a text no longer than the limit is within it.
    if bytes.len() <= MAX_NODES {
        return Ok(());
    }
    let (mut nodes, mut in_string, mut escaped) = (0usize, false, false);
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                // Inside a string nothing counts: jump to its next quote or backslash.
                _ => {
                    at = memchr::memchr2(b'"', b'\\', &bytes[at..]).map_or(bytes.len(), |i| at + i);
                    continue;
                }
            }
            at += 1;
            continue;
        }
        match b {
            b'"' => in_string = true,
            b',' | b':' | b'[' | b'{' => {
                nodes += 1;
                if nodes > MAX_NODES {
                    let (line, column) = line_col(bytes, at);
                    return Err(InputError {
                        line,
                        column,
                        message: format!("more than {MAX_NODES} JSON values"),
                    });
                }
            }
            _ => {}
        }
        at += 1;
    }
    Ok(())
}

impl LineMap {
    /// Records the lines of JSON text that sits at `base` in the document, `offset` lines
    /// below the document's first.
    pub(super) fn add_json(&mut self, text: &str, base: &str, offset: usize) {
        let mut walker = JsonWalker {
            bytes: text.as_bytes(),
            at: 0,
            line: 1 + offset,
            path: vec![pointer_hash(base)],
        };
        walker.value(self, 0);
    }

    /// Walks JSON text (already validated by serde_json) and records each value's line.
    pub(super) fn from_json(text: &str) -> Self {
        // Sized once for a pretty-printed file's values (about one per 24 bytes): growing the
        // map rehashed it several times a file.
        let mut map = LineMap::with_capacity((text.len() / 24).min(1 << 14));
        let mut walker = JsonWalker {
            bytes: text.as_bytes(),
            at: 0,
            line: 1,
            path: Vec::new(),
        };
        walker.value(&mut map, 0);
        map
    }
}

/// `n` in decimal, written into `buf` (an array index as a pointer segment, without a
/// `String` per item).
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).unwrap_or("0")
}

struct JsonWalker<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
    /// Pointer hashes of the enclosing values (the root's is [`ROOT_HASH`]).
    path: Vec<u64>,
}

impl<'a> JsonWalker<'a> {
    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.at += 1;
        }
    }

    /// Skips a string (at its opening quote) and returns the text between its quotes.
    fn raw_string(&mut self) -> &'a [u8] {
        self.at += 1;
        let start = self.at;
        while let Some(rest) = self.bytes.get(self.at..) {
            // To the next quote or backslash at once.
            let Some(i) = memchr::memchr2(b'"', b'\\', rest) else {
                self.at = self.bytes.len();
                break;
            };
            self.at += i;
            if rest[i] == b'"' {
                break;
            }
            self.at += 2;
        }
        let raw = self
            .bytes
            .get(start..self.at.min(self.bytes.len()))
            .unwrap_or_default();
        self.at += 1;
        raw
    }

    /// A key (at its opening quote), unescaped. Most keys have no escape and are borrowed.
    fn key(&mut self) -> Cow<'a, str> {
        let raw = self.raw_string();
        if !raw.iter().any(|&b| b == b'\\' || b < 0x20) {
            if let Ok(key) = std::str::from_utf8(raw) {
                return Cow::Borrowed(key);
            }
        }
        let quoted = format!("\"{}\"", String::from_utf8_lossy(raw));
        Cow::Owned(serde_json::from_str(&quoted).unwrap_or_default())
    }

    fn value(&mut self, map: &mut LineMap, depth: usize) {
        self.skip_ws();
        map.insert(self.path.last().copied().unwrap_or(ROOT_HASH), self.line);
        if depth > MAX_DEPTH {
            return;
        }
        match self.bytes.get(self.at) {
            Some(b'{') => {
                self.at += 1;
                loop {
                    self.skip_ws();
                    match self.bytes.get(self.at) {
                        Some(b'}') | None => {
                            self.at += 1;
                            return;
                        }
                        Some(b',') => self.at += 1,
                        Some(b'"') => {
                            let key = self.key();
                            self.skip_ws();
                            self.at += 1; // ':'
                            let parent = self.path.last().copied().unwrap_or(ROOT_HASH);
                            self.path.push(child_hash(parent, &key));
                            self.value(map, depth + 1);
                            self.path.pop();
                        }
                        Some(_) => self.at += 1,
                    }
                }
            }
            Some(b'[') => {
                self.at += 1;
                let mut index = 0usize;
                loop {
                    self.skip_ws();
                    match self.bytes.get(self.at) {
                        Some(b']') | None => {
                            self.at += 1;
                            return;
                        }
                        Some(b',') => self.at += 1,
                        Some(_) => {
                            let parent = self.path.last().copied().unwrap_or(ROOT_HASH);
                            let mut digits = [0u8; 20];
                            self.path
                                .push(child_hash(parent, decimal(index, &mut digits)));
                            self.value(map, depth + 1);
                            self.path.pop();
                            index += 1;
                        }
                    }
                }
            }
            Some(b'"') => {
                // A string value: where it is matters, not what it says.
                self.raw_string();
            }
            Some(_) => {
                while let Some(&b) = self.bytes.get(self.at) {
                    if matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace() {
                        break;
                    }
                    self.at += 1;
                }
            }
            None => {}
        }
    }
}
