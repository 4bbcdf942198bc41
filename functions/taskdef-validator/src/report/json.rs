//! The JSON report written straight from the findings: byte for byte what
//! `serde_json::to_string_pretty(&report.to_json())` gives, without building it.
//!
//! A scan of many files reports hundreds of thousands of findings, and serializing them
//! through serde_json's pretty printer cost a twelfth of a scan: every key and string went
//! through its escaping byte by byte, and a finding is mostly text that needs none (the
//! rule's remediation alone is a few hundred bytes). Here a finding's fields are written as
//! the pretty printer lays them out — two spaces an indent, `"key": value`, `,` and a newline
//! between members — and a string is copied as it stands once a check made a block at a time
//! finds nothing in it to escape; a string that does need escaping, and every part of the
//! report other than the findings (rare, small), goes through serde_json itself, so the
//! escaping cannot drift from serde_json's. The tests compare both on every field and on
//! strings that need each kind of escape.

use std::io::Write;

use serde::Serialize;

use super::Report;
use crate::finding::{Evidence, Finding};

/// Bytes gathered before they are handed to the writer.
const FLUSH_AT: usize = 1 << 16;

pub(super) fn write(report: &Report, mut out: impl Write) -> serde_json::Result<()> {
    let mut w = Writer {
        buf: Vec::with_capacity(2 * FLUSH_AT),
        first: true,
    };
    w.buf.push(b'{');
    if !report.actions.is_empty() {
        w.entry("actions", &report.actions)?;
    }
    w.entry("checked", &report.checked)?;
    w.entry("errors", &report.errors)?;
    w.key("findings");
    if report.findings.is_empty() {
        w.buf.extend_from_slice(b"[]");
    } else {
        w.buf.push(b'[');
        for (i, finding) in report.findings.iter().enumerate() {
            if i > 0 {
                w.buf.push(b',');
            }
            w.finding(finding)?;
            if w.buf.len() >= FLUSH_AT {
                out.write_all(&w.buf).map_err(serde_json::Error::io)?;
                w.buf.clear();
            }
        }
        w.buf.extend_from_slice(b"\n  ]");
    }
    w.entry("live", &report.live)?;
    w.entry("summary", &report.counts())?;
    if !report.suppressed.is_empty() {
        w.entry("suppressed", &EachAsValue(&report.suppressed))?;
    }
    w.buf.extend_from_slice(b"\n}");
    out.write_all(&w.buf).map_err(serde_json::Error::io)
}

/// A list whose items are written as their `Value` (keys sorted, as in `to_json`): a
/// suppressed finding is its finding flattened beside `suppression`.
struct EachAsValue<'a, T>(&'a [T]);

impl<T: Serialize> Serialize for EachAsValue<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&serde_json::to_value(item).map_err(S::Error::custom)?)?;
        }
        seq.end()
    }
}

struct Writer {
    buf: Vec<u8>,
    /// No member of the report's object written yet.
    first: bool,
}

impl Writer {
    /// A member of the report's object: its key, then its value as the pretty printer lays
    /// it out one level in.
    fn entry(&mut self, key: &str, value: &impl Serialize) -> serde_json::Result<()> {
        self.key(key);
        nested(&mut self.buf, value, b"\n  ")
    }

    fn key(&mut self, key: &str) {
        self.buf
            .extend_from_slice(if self.first { b"\n  " } else { b",\n  " });
        self.first = false;
        string(&mut self.buf, key);
        self.buf.extend_from_slice(b": ");
    }

    /// One finding, an item of the report's `findings`: its members in the order of its
    /// `Value` (alphabetical, as [`Finding`] declares them), optional ones left out as its
    /// `skip_serializing_if` leaves them out.
    fn finding(&mut self, f: &Finding) -> serde_json::Result<()> {
        const MEMBER: &[u8] = b"\n      ";
        let b = &mut self.buf;
        b.extend_from_slice(b"\n    {");
        let mut first = true;
        let mut key = |b: &mut Vec<u8>, key: &[u8]| {
            if !first {
                b.push(b',');
            }
            first = false;
            b.extend_from_slice(MEMBER);
            b.extend_from_slice(key);
        };
        if let Some(access) = &f.access {
            key(b, b"\"access\": ");
            nested(b, access, MEMBER)?;
        }
        key(b, b"\"container\": ");
        match &f.container {
            Some(c) => string(b, c),
            None => b.extend_from_slice(b"null"),
        }
        if let Some(evidence) = &f.evidence {
            key(b, b"\"evidence\": ");
            self::evidence(b, evidence);
        }
        if let Some(file) = &f.file {
            key(b, b"\"file\": ");
            string(b, file);
        }
        if let Some(line) = f.line {
            key(b, b"\"line\": ");
            b.extend_from_slice(itoa::Buffer::new().format(line).as_bytes());
        }
        key(b, b"\"message\": ");
        string(b, &f.message);
        key(b, b"\"pointer\": ");
        string(b, &f.pointer);
        key(b, b"\"remediation\": ");
        string(b, f.remediation);
        key(b, b"\"rule\": ");
        string(b, f.rule);
        key(b, b"\"severity\": ");
        string(b, f.severity.as_str());
        key(b, b"\"task_definition\": ");
        string(b, &f.task_definition);
        b.extend_from_slice(b"\n    }");
        Ok(())
    }
}

/// A finding's evidence, three levels in.
fn evidence(b: &mut Vec<u8>, e: &Evidence) {
    const MEMBER: &[u8] = b"\n        ";
    b.push(b'{');
    if let Some(fingerprint) = &e.fingerprint {
        b.extend_from_slice(MEMBER);
        b.extend_from_slice(b"\"fingerprint\": ");
        string(b, fingerprint);
        b.push(b',');
    }
    b.extend_from_slice(MEMBER);
    b.extend_from_slice(b"\"kind\": ");
    string(b, e.kind);
    b.push(b',');
    b.extend_from_slice(MEMBER);
    b.extend_from_slice(b"\"length\": ");
    b.extend_from_slice(itoa::Buffer::new().format(e.length).as_bytes());
    b.extend_from_slice(b"\n      }");
}

/// `value` pretty-printed by serde_json, each of its lines after the first indented by
/// `newline`'s spaces (a JSON text holds a newline only between tokens: a string's are
/// escaped).
fn nested(b: &mut Vec<u8>, value: &impl Serialize, newline: &[u8]) -> serde_json::Result<()> {
    let text = serde_json::to_vec_pretty(value)?;
    let mut lines = text.split(|&c| c == b'\n');
    if let Some(first) = lines.next() {
        b.extend_from_slice(first);
    }
    for line in lines {
        b.extend_from_slice(newline);
        b.extend_from_slice(line);
    }
    Ok(())
}

/// `s` as a JSON string: copied between quotes when nothing in it needs escaping, else
/// escaped by serde_json.
fn string(b: &mut Vec<u8>, s: &str) {
    if needs_escaping(s.as_bytes()) {
        // Writing into a `Vec` cannot fail, nor can serializing a string.
        let _ = serde_json::to_writer(&mut *b, s);
        return;
    }
    b.reserve(s.len() + 2);
    b.push(b'"');
    b.extend_from_slice(s.as_bytes());
    b.push(b'"');
}

/// Whether serde_json escapes anything in `bytes`: a control character, `"` or `\`. Checked
/// sixteen bytes at a time without stopping early inside a block, which the compiler turns
/// into vector compares.
fn needs_escaping(bytes: &[u8]) -> bool {
    let special = |c: u8| c < 0x20 || c == b'"' || c == b'\\';
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        if block.iter().fold(false, |any, &c| any | special(c)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&c| special(c))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::finding::{Access, EvidenceKey, Severity, CATALOG};
    use crate::report::InputProblem;

    /// Any text: mostly plain, with quotes, backslashes, control characters and non-ASCII.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9/_.:-]{0,40}",
            r#"[a-z "\\\x00-\x1f\x7fé✓\x{2028}]{0,40}"#,
            any::<String>(),
            // One ASCII character, escaped or not, in plain text: the check alone decides.
            ("[a-zA-Z0-9 ]{0,30}", 0u8..0x80, "[a-zA-Z0-9 ]{0,30}")
                .prop_map(|(a, c, b)| format!("{a}{}{b}", char::from(c))),
        ]
    }

    fn finding() -> impl Strategy<Value = Finding> {
        (
            (
                text(),
                text(),
                text(),
                0..CATALOG.len(),
                0..Severity::ALL.len(),
            ),
            (
                proptest::option::of(text()),
                proptest::option::of(text()),
                proptest::option::of(0usize..100_000),
                text(),
            ),
            (
                proptest::option::of((text(), any::<bool>())),
                proptest::option::of((text(), text(), text(), proptest::option::of(text()))),
            ),
        )
            .prop_map(
                |(
                    (pointer, message, label, rule_at, severity_at),
                    (container, file, line, kind),
                    (evidence, access),
                )| {
                    let mut f = Finding::new(CATALOG[rule_at].id, pointer, message)
                        .severity(Severity::ALL[severity_at])
                        .container(container.as_deref());
                    if let Some((value, sealed)) = evidence {
                        // A kind is one of the detector's fixed words: leaked here for the test.
                        let kind: &'static str = Box::leak(kind.into_boxed_str());
                        let mut e = Evidence::of(kind, &value);
                        if sealed {
                            let key = EvidenceKey::new(vec![3u8; 32]).expect("key");
                            e.seal(Some(&key));
                        }
                        f = f.evidence(e);
                    }
                    f.file = file.map(Into::into);
                    f.line = line;
                    f.task_definition = label.into();
                    f.access = access.map(|(action, decision, resource, statement)| {
                        Box::new(Access {
                            action,
                            decision,
                            resource,
                            statement,
                        })
                    });
                    f
                },
            )
    }

    proptest! {
        /// Any report — any findings, with any text in any field — streams as serde_json
        /// pretty-prints its `Value`.
        #[test]
        fn any_report_streams_as_its_value_prints(
            findings in proptest::collection::vec(finding(), 0..6),
            errors in proptest::collection::vec((text(), text()), 0..2),
            actions in proptest::collection::vec(text(), 0..2),
            checked in 0usize..1000,
            live in any::<bool>(),
        ) {
            let report = Report {
                checked,
                findings,
                errors: errors
                    .into_iter()
                    .map(|(file, message)| InputProblem { column: 1, file, line: 2, message })
                    .collect(),
                live,
                actions,
                ..Report::default()
            };
            let mut streamed = Vec::new();
            report.write_json(&mut streamed).expect("written");
            prop_assert_eq!(
                String::from_utf8(streamed).expect("utf-8"),
                serde_json::to_string_pretty(&report.to_json()).expect("json")
            );
        }
    }

    /// Every byte serde_json escapes is found wherever it sits in a block; nothing else is.
    #[test]
    fn the_escape_check_is_serde_jsons() {
        for c in 0u8..=127 {
            let escaped = serde_json::to_string(&char::from(c).to_string()).unwrap_or_default();
            let serde_escapes = escaped.len() != 3;
            for at in [0, 7, 15, 16, 31, 40] {
                let mut text = vec![b'a'; 41];
                text[at] = c;
                assert_eq!(needs_escaping(&text), serde_escapes, "{c:#x} at {at}");
            }
        }
        assert!(!needs_escaping("é — ✓ \u{2028}".as_bytes()));
        assert!(!needs_escaping(b""));
    }

    /// Strings of each kind are written as serde_json writes them.
    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for s in [
            "",
            "plain",
            "a \"quoted\" word",
            "back\\slash",
            "tab\tnew\nline\r",
            "\u{1}\u{1f}",
            "café — \u{2028} ✓",
            &"x".repeat(100),
        ] {
            let mut b = Vec::new();
            string(&mut b, s);
            assert_eq!(b, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }
}
