//! The JSON report written straight from the findings: byte for byte what
//! `serde_json::to_string_pretty(&report.to_json())` gives, without building it.
//!
//! A scan of many files reports hundreds of thousands of findings, and serializing them
//! through serde_json's pretty printer cost a twelfth of a scan: every key and string went
//! through its escaping byte by byte, and a finding is mostly text that needs none (the
//! rule's remediation alone is a few hundred bytes). Here a finding's fields are written as
//! the pretty printer lays them out — two spaces an indent, `"key": value`, `,` and a newline
//! between members — and a string is copied as it stands once a check made a block at a time
//! finds nothing in it to escape. A string that does need escaping, and every part of the
//! report other than the findings (errors, the summary, suppressed findings), go through
//! serde_json itself — the latter streamed through an indenting writer, as a baseline may
//! suppress every finding — so the escaping and the layout cannot drift from serde_json's.
//! The tests compare both on any report and on strings that need each kind of escape.

use std::io::Write;

use serde::Serialize;

use super::Report;
use crate::finding::{Evidence, Finding};

/// Bytes gathered before they are handed to the writer.
const FLUSH_AT: usize = 1 << 16;

pub(super) fn write(report: &Report, out: impl Write) -> serde_json::Result<()> {
    let mut w = Writer {
        buf: Vec::with_capacity(2 * FLUSH_AT),
        out,
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
            w.spill()?;
        }
        w.buf.extend_from_slice(b"\n  ]");
    }
    w.entry("live", &report.live)?;
    w.entry("summary", &report.counts())?;
    if !report.suppressed.is_empty() {
        w.entry("suppressed", &EachAsValue(&report.suppressed))?;
    }
    w.buf.extend_from_slice(b"\n}");
    w.out.write_all(&w.buf).map_err(serde_json::Error::io)
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

struct Writer<W> {
    /// What is written and not yet handed to `out`.
    buf: Vec<u8>,
    out: W,
    /// No member of the report's object written yet.
    first: bool,
}

impl<W: Write> Writer<W> {
    /// Hands what is gathered to the writer once there is [`FLUSH_AT`] of it.
    fn spill(&mut self) -> serde_json::Result<()> {
        spill(&mut self.buf, &mut self.out).map_err(serde_json::Error::io)
    }

    /// A member of the report's object: its key, then its value as the pretty printer lays
    /// it out one level in — streamed, so that a long list (`suppressed`, of a baseline that
    /// accepts every finding) is never held whole.
    fn entry(&mut self, key: &str, value: &impl Serialize) -> serde_json::Result<()> {
        self.key(key);
        let mut indented = Indented {
            buf: &mut self.buf,
            out: &mut self.out,
            newline: b"\n  ",
        };
        serde_json::to_writer_pretty(&mut indented, value)
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
        // Every field named: one added to `Finding` does not compile until it is written here.
        let Finding {
            access,
            container,
            evidence,
            file,
            line,
            message,
            pointer,
            remediation,
            rule,
            severity,
            task_definition,
        } = f;
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
        if let Some(access) = access {
            key(b, b"\"access\": ");
            // Rare (the live IAM rule's), and small: laid out by serde_json.
            indent_into(b, &serde_json::to_vec_pretty(access)?, MEMBER);
        }
        key(b, b"\"container\": ");
        match container {
            Some(c) => string(b, c),
            None => b.extend_from_slice(b"null"),
        }
        if let Some(evidence) = evidence {
            key(b, b"\"evidence\": ");
            self::evidence(b, evidence);
        }
        if let Some(file) = file {
            key(b, b"\"file\": ");
            string(b, file);
        }
        if let Some(line) = *line {
            key(b, b"\"line\": ");
            b.extend_from_slice(itoa::Buffer::new().format(line).as_bytes());
        }
        key(b, b"\"message\": ");
        string(b, message);
        key(b, b"\"pointer\": ");
        string(b, pointer);
        key(b, b"\"remediation\": ");
        string(b, remediation);
        key(b, b"\"rule\": ");
        string(b, rule);
        key(b, b"\"severity\": ");
        string(b, severity.as_str());
        key(b, b"\"task_definition\": ");
        string(b, task_definition);
        b.extend_from_slice(b"\n    }");
        Ok(())
    }
}

/// A finding's evidence, three levels in. (Its value's digest is never serialized, and is
/// private to it: the fields cannot all be named here, as [`Writer::finding`] names a
/// finding's; the tests compare the two on every field.)
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

/// `data`, a part of what serde_json's pretty printer writes, into `buf` with each newline
/// followed by `newline`'s spaces (a JSON text holds a newline only between tokens: a
/// string's are escaped).
fn indent_into(buf: &mut Vec<u8>, data: &[u8], newline: &[u8]) {
    let mut lines = data.split(|&c| c == b'\n');
    if let Some(first) = lines.next() {
        buf.extend_from_slice(first);
    }
    for line in lines {
        buf.extend_from_slice(newline);
        buf.extend_from_slice(line);
    }
}

/// Hands `buf` to `out` once there is [`FLUSH_AT`] of it.
fn spill(buf: &mut Vec<u8>, out: &mut impl Write) -> std::io::Result<()> {
    if buf.len() >= FLUSH_AT {
        out.write_all(buf)?;
        buf.clear();
    }
    Ok(())
}

/// What serde_json's pretty printer writes, indented ([`indent_into`]), gathered in `buf` and
/// spilled to `out`.
struct Indented<'a, W> {
    buf: &'a mut Vec<u8>,
    out: W,
    newline: &'a [u8],
}

impl<W: Write> Write for Indented<'_, W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        indent_into(self.buf, data, self.newline);
        spill(self.buf, &mut self.out)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
    use crate::report::{InputProblem, Suppressed, SuppressionKind, SuppressionNote};

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
            suppressed in proptest::collection::vec(
                (finding(), any::<bool>(), text(), proptest::option::of(text())),
                0..3,
            ),
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
                suppressed: suppressed
                    .into_iter()
                    .map(|(finding, config, reason, expires)| Suppressed {
                        finding,
                        suppression: SuppressionNote {
                            kind: if config {
                                SuppressionKind::Config
                            } else {
                                SuppressionKind::Baseline
                            },
                            reason,
                            source: ".ecs-secrets.toml:3".to_owned(),
                            expires,
                        },
                    })
                    .collect(),
                ..Report::default()
            };
            let (streamed, printed) = report.streamed_and_printed();
            prop_assert_eq!(streamed, printed);
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

    /// A writer that keeps what it is given, and the largest piece it was given at once.
    #[derive(Default)]
    struct Pieces {
        bytes: Vec<u8>,
        largest: usize,
    }

    impl Write for Pieces {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.largest = self.largest.max(data.len());
            self.bytes.extend_from_slice(data);
            Ok(data.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Findings and suppressed findings by the thousand (a baseline that accepts every
    /// finding) reach the writer a piece at a time, never held whole: each piece is about
    /// [`FLUSH_AT`].
    #[test]
    fn long_lists_are_streamed() {
        let finding = |i: usize| {
            Finding::new(CATALOG[0].id, format!("/containerDefinitions/{i}"), "m")
                .container(Some("app"))
        };
        let note = SuppressionNote {
            kind: SuppressionKind::Baseline,
            reason: "in baseline b.json".to_owned(),
            source: "b.json".to_owned(),
            expires: None,
        };
        let report = Report {
            findings: (0..2_000).map(finding).collect(),
            suppressed: (0..2_000)
                .map(|i| Suppressed {
                    finding: finding(i),
                    suppression: note.clone(),
                })
                .collect(),
            ..Report::default()
        };
        let mut pieces = Pieces::default();
        report.write_json(&mut pieces).expect("written");
        let whole = serde_json::to_string_pretty(&report.to_json()).expect("json");
        assert!(whole.len() > 8 * FLUSH_AT, "{}", whole.len());
        assert_eq!(String::from_utf8(pieces.bytes).expect("utf-8"), whole);
        assert!(pieces.largest < FLUSH_AT + 4096, "{}", pieces.largest);
    }
}
