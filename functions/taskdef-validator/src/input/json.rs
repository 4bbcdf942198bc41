//! The JSON reader's own parts. serde_json neither refuses a file of millions of tiny values
//! before building them nor says on which line a value sits: this module counts values before
//! anything is built, and reads plain valid JSON in one pass that builds the value and records
//! each value's line together ([`parse_with_lines`]). What that pass leaves (invalid JSON, very
//! deep nesting) serde_json parses, naming the error, and a walk of the text records the lines
//! — as it does for a template's `%{ else }` reading and for JSON inside a Terraform heredoc.

use std::borrow::Cow;

use ecs_secrets_shared::task_definition::{decimal, JsonTape, TapeNode};

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
            upper_key: false,
        };
        walker.value(self, 0);
    }

    /// Walks JSON text (already validated by serde_json) and records each value's line.
    pub(super) fn from_json(text: &str) -> Self {
        Self::from_json_and_keys(text).0
    }

    /// [`LineMap::from_json`], and whether any key of the text starts with an upper-case
    /// letter (without one, the document is camelCase already and needs no normalising).
    pub(super) fn from_json_and_keys(text: &str) -> (Self, bool) {
        // Sized once for a pretty-printed file's values (about one per 24 bytes): growing the
        // map rehashed it several times a file.
        let mut map = LineMap::with_capacity((text.len() / 24).min(1 << 14));
        let mut walker = JsonWalker {
            bytes: text.as_bytes(),
            at: 0,
            line: 1,
            path: Vec::new(),
            upper_key: false,
        };
        walker.value(&mut map, 0);
        (map, walker.upper_key)
    }
}

/// Skips JSON's whitespace from `at`, counting the lines it passes in `line` (what both
/// readers below do between tokens).
fn skip_ws(bytes: &[u8], at: &mut usize, line: &mut usize) {
    while let Some(&b) = bytes.get(*at) {
        match b {
            b'\n' => {
                *line += 1;
                *at += 1;
                // A pretty-printed line's indent, eight spaces at a time (compared as one
                // word: a slice comparison called memcmp for each).
                const SPACES: u64 = u64::from_le_bytes(*b"        ");
                while let Some(eight) = bytes.get(*at..*at + 8) {
                    let mut word = [0u8; 8];
                    word.copy_from_slice(eight);
                    if u64::from_le_bytes(word) != SPACES {
                        break;
                    }
                    *at += 8;
                }
            }
            b' ' | b'\t' | b'\r' => *at += 1,
            _ => return,
        }
    }
}

/// The closing quote of the string whose text starts at `from`, and whether a backslash came
/// before it; `None` when the string does not end.
fn closing_quote(bytes: &[u8], from: usize) -> Option<(usize, bool)> {
    let (mut at, mut escaped) = (from, false);
    loop {
        match end_or_control(bytes, at)? {
            StringEnd::Quote { at, escaped: e } => return Some((at, escaped || e)),
            // Not JSON, but the walker reads only text serde_json has read: step over it.
            StringEnd::Control {
                at: control,
                escaped: e,
            } => {
                escaped |= e;
                at = control + 1;
            }
        }
    }
}

/// Where a string's text stops being plain: at its closing quote, or at a control character
/// written as it is (JSON allows none in a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StringEnd {
    /// The closing quote, and whether a backslash came before it.
    Quote { at: usize, escaped: bool },
    /// An unescaped control character, and whether a backslash came before it.
    Control { at: usize, escaped: bool },
}

/// The closing quote of the string whose text starts at `from`, or its first unescaped
/// control character, whichever comes first: one pass, where the reader searched for the
/// quote and then again for control characters. `None` when the text ends first.
fn end_or_control(bytes: &[u8], from: usize) -> Option<StringEnd> {
    let (mut at, mut escaped) = (from, false);
    loop {
        // To the next quote, backslash or control character at once.
        at += special_byte(bytes.get(at..)?)?;
        match bytes.get(at)? {
            b'"' => return Some(StringEnd::Quote { at, escaped }),
            b'\\' => {
                escaped = true;
                // The backslash and the character it escapes (`\"` does not end the string;
                // an escaped control character is serde_json's to refuse).
                at += 2;
            }
            _ => return Some(StringEnd::Control { at, escaped }),
        }
    }
}

/// Where the first `"`, `\\` or control character (below 0x20) of `s` is, eight bytes at a
/// time. Most strings of a task definition are short: memchr's vector search spent more on
/// setting up than on searching, and a second pass looked for control characters.
fn special_byte(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    // `(x - ONES * n) & !x & HIGH` flags the bytes of `x` below `n` (n <= 0x80); a borrow only
    // runs upward from a flagged byte, so the lowest flag is the first such byte, and equality
    // is "below 1" of `x ^ byte`.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let mut chunks = s.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let flags = below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1)
            | below(x, 0x20);
        if flags != 0 {
            return Some(base + (flags.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| base + i)
}

struct JsonWalker<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
    /// Pointer hashes of the enclosing values (the root's is [`ROOT_HASH`]).
    path: Vec<u64>,
    /// Whether a key seen so far starts with an upper-case ASCII letter.
    upper_key: bool,
}

impl<'a> JsonWalker<'a> {
    fn skip_ws(&mut self) {
        skip_ws(self.bytes, &mut self.at, &mut self.line);
    }

    /// Skips a string (at its opening quote) and returns the text between its quotes (to the
    /// end of the text, were it unterminated).
    fn raw_string(&mut self) -> &'a [u8] {
        let start = self.at + 1;
        self.at = closing_quote(self.bytes, start).map_or(self.bytes.len(), |(close, _)| close);
        let raw = self.bytes.get(start..self.at).unwrap_or_default();
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
                            self.upper_key |= key.starts_with(|c: char| c.is_ascii_uppercase());
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

/// What [`parse_with_lines`] read.
#[derive(Debug)]
pub(super) struct OneRead<'a> {
    pub tape: JsonTape<'a>,
    pub lines: LineMap,
    /// Whether a key starts with an upper-case ASCII letter (without one, the document is
    /// camelCase already and needs no normalising).
    pub upper_key: bool,
    /// Whether an object repeats a key or has more than [`SURE_MEMBERS`] members (where
    /// looking for a repeat would cost more than it saves): the tape is then read only as the
    /// `Value` it converts to.
    pub unsure: bool,
}

/// Most members of one object the one pass checks for a repeated key.
const SURE_MEMBERS: usize = 32;

/// Parses JSON text into a tape, its [`LineMap`] and what [`OneRead`] says of its keys, in one
/// pass — or `None` when the text is anything but plain valid JSON (invalid, nested deeper than
/// [`ONE_PASS_DEPTH`], …), and serde_json then parses it and names the error. The tree converts
/// to what serde_json gives for the same text, and the lines and key flag are what
/// [`LineMap::from_json_and_keys`] gives (the property tests compare them): reading the text
/// twice, once to build the value and once for its lines, was a fifth of a scan. The tape is
/// one list for the whole document, where a tree of objects had one list per object and per
/// list: building, moving and dropping them was a twentieth of a scan. Strings with
/// escapes and numbers are read by serde_json itself, one token at a time, so their meaning
/// cannot drift.
pub(super) fn parse_with_lines(text: &str) -> Option<OneRead<'_>> {
    let mut parser = OnePass {
        text,
        at: 0,
        line: 1,
        path: Vec::new(),
        upper_key: false,
        unsure: false,
        lines: LineMap::with_capacity((text.len() / 24).min(1 << 14)),
        tape: JsonTape::with_capacity((text.len() / 16).min(1 << 14)),
        keys: Vec::new(),
    };
    parser.value(0)?;
    parser.skip_ws();
    (parser.at == parser.text.len()).then_some(OneRead {
        tape: parser.tape,
        lines: parser.lines,
        upper_key: parser.upper_key,
        unsure: parser.unsure,
    })
}

/// Deepest nesting [`parse_with_lines`] reads itself (serde_json's limit is 128; between the
/// two, serde_json decides).
const ONE_PASS_DEPTH: usize = 100;

struct OnePass<'a> {
    text: &'a str,
    at: usize,
    line: usize,
    /// Pointer hashes of the enclosing values (the root's is [`ROOT_HASH`]).
    path: Vec<u64>,
    upper_key: bool,
    unsure: bool,
    lines: LineMap,
    tape: JsonTape<'a>,
    /// Where the keys of the objects being read sit on the tape, innermost object last: an
    /// object's keys are looked through for a repeat, and dropped from here when it closes.
    keys: Vec<usize>,
}

impl<'a> OnePass<'a> {
    fn skip_ws(&mut self) {
        skip_ws(self.text.as_bytes(), &mut self.at, &mut self.line);
    }

    /// The byte at the cursor after whitespace.
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.text.as_bytes().get(self.at).copied()
    }

    /// Reads one value onto the tape (`None`: not plain valid JSON, or too deep).
    fn value(&mut self, depth: usize) -> Option<()> {
        let first = self.peek()?;
        let here = self.path.last().copied().unwrap_or(ROOT_HASH);
        self.lines.insert(here, self.line);
        let node =
            match first {
                b'{' => {
                    if depth >= ONE_PASS_DEPTH {
                        return None;
                    }
                    self.at += 1;
                    let open = self.tape.push(TapeNode::Object { len: 0, end: 0 });
                    if self.peek()? == b'}' {
                        self.at += 1;
                        self.tape.close(open, 0);
                        return Some(());
                    }
                    let mark = self.keys.len();
                    loop {
                        if self.peek()? != b'"' {
                            return None;
                        }
                        let key = self.string()?;
                        self.upper_key |= key.starts_with(|c: char| c.is_ascii_uppercase());
                        if self.peek()? != b':' {
                            return None;
                        }
                        self.at += 1;
                        // A repeated key is kept as written: converted to a `Value`, the last
                        // value counts, as serde_json keeps (the line map keeps the first line, as
                        // the walker does); read through the view, it is unsure.
                        let siblings = self.keys.get(mark..).unwrap_or_default();
                        if !self.unsure
                        && (siblings.len() >= SURE_MEMBERS
                            || siblings.iter().any(|&k| {
                                matches!(self.tape.node(k), Some(TapeNode::Key(k)) if *k == key)
                            }))
                    {
                        self.unsure = true;
                    }
                        self.path.push(child_hash(here, &key));
                        let at = self.tape.push(TapeNode::Key(key));
                        self.keys.push(at);
                        self.value(depth + 1)?;
                        self.path.pop();
                        match self.peek()? {
                            b',' => self.at += 1,
                            b'}' => {
                                self.at += 1;
                                self.tape.close(open, self.keys.len() - mark);
                                self.keys.truncate(mark);
                                return Some(());
                            }
                            _ => return None,
                        }
                    }
                }
                b'[' => {
                    if depth >= ONE_PASS_DEPTH {
                        return None;
                    }
                    self.at += 1;
                    let open = self.tape.push(TapeNode::Array { len: 0, end: 0 });
                    if self.peek()? == b']' {
                        self.at += 1;
                        self.tape.close(open, 0);
                        return Some(());
                    }
                    let mut index = 0;
                    loop {
                        let mut digits = [0u8; 20];
                        self.path
                            .push(child_hash(here, decimal(index, &mut digits)));
                        self.value(depth + 1)?;
                        self.path.pop();
                        index += 1;
                        match self.peek()? {
                            b',' => self.at += 1,
                            b']' => {
                                self.at += 1;
                                self.tape.close(open, index);
                                return Some(());
                            }
                            _ => return None,
                        }
                    }
                }
                b'"' => TapeNode::String(self.string()?),
                b't' => self.literal("true", TapeNode::Bool(true))?,
                b'f' => self.literal("false", TapeNode::Bool(false))?,
                b'n' => self.literal("null", TapeNode::Null)?,
                b'-' | b'0'..=b'9' => {
                    let start = self.at;
                    while self.text.as_bytes().get(self.at).is_some_and(|b| {
                        matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                    }) {
                        self.at += 1;
                    }
                    let number: serde_json::Number =
                        serde_json::from_str(self.text.get(start..self.at)?).ok()?;
                    TapeNode::Number(number)
                }
                _ => return None,
            };
        self.tape.push(node);
        Some(())
    }

    fn literal(&mut self, word: &str, value: TapeNode<'a>) -> Option<TapeNode<'a>> {
        let end = self.at + word.len();
        (self.text.as_bytes().get(self.at..end)? == word.as_bytes()).then(|| {
            self.at = end;
            value
        })
    }

    /// A string at its opening quote. Without escapes it is borrowed as it stands (after the
    /// control-character check serde_json makes); with one, serde_json decodes the literal.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let open = self.at;
        // A control character written as it is: not plain valid JSON, left to serde_json
        // (which names it), without reading on to the quote.
        let StringEnd::Quote { at: close, escaped } =
            end_or_control(self.text.as_bytes(), open + 1)?
        else {
            return None;
        };
        self.at = close + 1;
        if escaped {
            return serde_json::from_str::<String>(self.text.get(open..=close)?)
                .ok()
                .map(Cow::Owned);
        }
        self.text.get(open + 1..close).map(Cow::Borrowed)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;
    use ecs_secrets_shared::task_definition::JsonView;

    /// When the one pass answers, its value is serde_json's and its lines and key check are
    /// the walker's.
    fn agrees(text: &str) -> bool {
        let Some(OneRead {
            tape,
            lines,
            upper_key,
            unsure,
        }) = parse_with_lines(text)
        else {
            return false;
        };
        let value = tape.to_value();
        // A sure tape answers as its value does.
        if !unsure {
            assert_eq!(
                sure_view(tape.root().unwrap()),
                sure_view(&value),
                "{text:?}"
            );
        }
        assert_eq!(
            serde_json::from_str::<Value>(text).ok(),
            Some(value),
            "{text:?}"
        );
        let (walked, walked_upper) = LineMap::from_json_and_keys(text);
        assert!(lines == walked, "lines differ for {text:?}");
        assert_eq!(upper_key, walked_upper, "{text:?}");
        true
    }

    /// A value as seen through [`JsonView`] alone, with the view's own answers checked against
    /// each other (an object's `get` finds each member, `object_len` counts them).
    fn sure_view<'v, J: JsonView<'v> + PartialEq + std::fmt::Debug>(v: J) -> (Value, &'static str) {
        let kind = v.kind();
        let value = if v.is_null() {
            Value::Null
        } else if let Some(b) = v.as_bool() {
            Value::Bool(b)
        } else if let Some(n) = v.as_number() {
            Value::Number(n.clone())
        } else if let Some(s) = v.as_str() {
            Value::String(s.to_owned())
        } else if let Some(items) = v.items() {
            let items: Vec<Value> = items.map(|i| sure_view(i).0).collect();
            assert_eq!(v.items_len(), Some(items.len()));
            Value::Array(items)
        } else {
            let members: Vec<(&str, J)> = v.members().unwrap().collect();
            assert_eq!(v.object_len(), Some(members.len()));
            let mut map = serde_json::Map::new();
            for (k, m) in members {
                assert_eq!(v.get(k), Some(m), "get({k:?})");
                map.insert(k.to_owned(), sure_view(m).0);
            }
            Value::Object(map)
        };
        (value, kind)
    }

    /// The search eight bytes at a time finds what a byte-by-byte search finds: every byte
    /// value at every position of a word and of the tail, after any other bytes.
    #[test]
    fn the_special_byte_search_is_a_plain_search() {
        let plain = |s: &[u8]| s.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        for len in 0..20 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    for filler in [b'a', 0x7f, 0x80, 0xff, b'!', b'#', b'[', b']', b' '] {
                        let mut s = vec![filler; len];
                        s[at] = byte;
                        assert_eq!(special_byte(&s), plain(&s), "{s:?}");
                        // A second special byte later changes nothing.
                        if at + 1 < len {
                            s[len - 1] = b'"';
                            assert_eq!(special_byte(&s), plain(&s), "{s:?}");
                        }
                    }
                }
            }
        }
        let quote = |at, escaped| Some(StringEnd::Quote { at, escaped });
        let control = |at, escaped| Some(StringEnd::Control { at, escaped });
        assert_eq!(end_or_control(b"a\\\"b\"", 0), quote(4, true));
        assert_eq!(end_or_control(b"a\tb\"", 0), control(1, false));
        assert_eq!(end_or_control(b"\\n\tb\"", 0), control(2, true));
        // An escaped control character is serde_json's to refuse: it is stepped over here.
        assert_eq!(end_or_control(b"\\\tb\"", 0), quote(3, true));
        assert_eq!(end_or_control(b"ab\\", 0), None);
        assert_eq!(closing_quote(b"a\tb\\\"\x01\"", 0), Some((6, true)));
    }

    #[test]
    fn a_repeated_key_or_a_large_object_makes_the_tree_unsure() {
        let unsure = |text: &str| parse_with_lines(text).map(|r| r.unsure);
        assert_eq!(unsure(r#"{"a": 1, "b": {"c": 2, "d": 3}}"#), Some(false));
        assert_eq!(unsure(r#"{"a": 1, "b": {"c": 2, "c": 3}}"#), Some(true));
        assert_eq!(unsure(r#"[{"a": 1}, {"a": 2}]"#), Some(false));
        // A name repeated only at another level, or in a sibling object, is no repeat: each
        // object's members are its own (the reader gathers all of them on one stack).
        assert_eq!(unsure(r#"{"a": 1, "b": {"a": 2}}"#), Some(false));
        assert_eq!(
            unsure(r#"{"a": 1, "b": [{"a": 2}, {"b": [3, {"a": 4}]}], "c": 5}"#),
            Some(false)
        );
        assert_eq!(
            unsure(r#"{"a": {"x": 1}, "b": {"x": 2}, "c": {"y": {"x": 3}}}"#),
            Some(false)
        );
        assert_eq!(
            unsure(r#"{"a": {"x": 1}, "b": [{"x": 2}], "a": 3}"#),
            Some(true)
        );
        // An escaped spelling of the same key is the same key.
        assert_eq!(unsure(r#"{"ab": 1, "\u0061b": 2}"#), Some(true));
        let members = |n: usize| {
            let body: Vec<String> = (0..n).map(|i| format!("\"k{i}\": {i}")).collect();
            format!("{{{}}}", body.join(","))
        };
        assert_eq!(unsure(&members(SURE_MEMBERS)), Some(false));
        assert_eq!(unsure(&members(SURE_MEMBERS + 1)), Some(true));
        // Either way the value is serde_json's: the last of a repeated key.
        assert!(agrees(r#"{"a": 1, "b": {"c": 2, "c": 3}}"#));
        assert!(agrees(&members(SURE_MEMBERS + 1)));
    }

    #[test]
    fn one_pass_reads_what_serde_reads_and_leaves_the_rest_to_it() {
        for text in [
            "{}",
            "[]",
            "  {\"a\" : [1, -2.5e3, 0, -0, 1E+2, true, false, null]}  ",
            "{\"a\": 1, \"a\": {\"b\": 2}}",
            "{\"\\u0041a\": \"x\\ny\\\"z\\\\\", \"\\u00e9\": \"\\ud83d\\ude00\"}",
            "{\r\n\t\"Family\": \"web\",\r\n\"k\": \"caf\u{e9} \u{1f600}\"\r\n}",
            // Indents of eight spaces and more (read eight at a time), mixed with tabs and
            // carriage returns, and a last line of spaces only.
            "{\n        \"a\": {\n                \"b\":\n\t        [1,\r\n                 2]}\n         }\n                ",
            "[\n\n        \n       1\n]",
            "\"just a string\"",
            "12345678901234567890123",
            "{\"x\": \"\u{7f}\"}",
        ] {
            assert!(agrees(text), "not read in one pass: {text:?}");
        }
        // Invalid, or beyond what the one pass reads: serde_json's to decide.
        for text in [
            "",
            "{",
            "{\"a\": 1,}",
            "[1,]",
            "[01]",
            "[1.]",
            "[-]",
            "[1e400]",
            "{\"a\" 1}",
            "{a: 1}",
            "[tru]",
            "[nulll]",
            "{\"a\": \"tab\there\"}",
            "{\"a\": \"\\x\"}",
            "{\"a\": \"\\ud800\"}",
            "{\"a\": \"unterminated}",
            "{\"a\": \"ends in a backslash\\",
            "{} {}",
            "[1] x",
            "'single'",
        ] {
            assert!(parse_with_lines(text).is_none(), "{text:?}");
        }
        // Nested past the one pass's depth but within serde_json's: serde_json reads it.
        let deep = format!("{}{}", "[".repeat(110), "]".repeat(110));
        assert!(parse_with_lines(&deep).is_none());
        assert!(serde_json::from_str::<Value>(&deep).is_ok());
    }

    /// serde_json's `raw_value` feature makes its `Value` parser read an object keyed
    /// `$serde_json::private::RawValue` as the JSON inside that key's string: a second parse,
    /// outside the node count, with a fresh depth budget. No crate of the workspace may turn
    /// the feature on (features are shared by everything one `cargo build --workspace`
    /// builds): here, as in the one pass, the key is an ordinary key.
    #[test]
    fn serde_json_reads_the_raw_value_key_as_an_ordinary_key() {
        let text = r#"{"$serde_json::private::RawValue": "[1, 2]"}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(value["$serde_json::private::RawValue"], "[1, 2]");
        assert!(agrees(text));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let text = prop_oneof![
            "[a-zA-Z0-9_ ./:-]{0,12}",
            Just("tab\t, newline\n, quote\", backslash\\, \u{1}, \u{e9}, \u{1f600}".to_owned()),
            "\\PC{0,6}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            text.clone().prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(
                    (prop_oneof!["[a-zA-Z][a-zA-Z0-9]{0,6}", text.clone()], inner),
                    0..6
                )
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// Pieces of JSON text, valid and not, for texts serde_json may refuse.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\n",
            "\r\n",
            "\"a\"",
            "\"Key\"",
            "\"\\u0041\"",
            "\"\\n\"",
            "\"\\\"",
            "1",
            "-0.5e3",
            "01",
            "true",
            "nul",
            "null",
            "\"\t\"",
            "x",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// Every value serde_json writes, compact or pretty, is read in one pass, the same.
        #[test]
        fn one_pass_reads_every_value_serde_writes(value in json_value(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&value)
            } else {
                serde_json::to_string(&value)
            }
            .unwrap();
            prop_assert!(agrees(&text), "{}", text);
        }

        /// On any text, what the one pass answers is what serde_json and the walker give.
        #[test]
        fn one_pass_answers_only_as_serde_would(pieces in prop::collection::vec(piece(), 0..24)) {
            let text = pieces.concat();
            let _ = agrees(&text);
        }
    }
}
