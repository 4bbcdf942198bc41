//! The YAML reader, for CloudFormation and SAM templates: yaml-rust2's events built into a
//! JSON value with each value's line, short-form tags (`!Ref`, `!Sub`, …) turned into their
//! long form, and aliases expanded within the node, byte and depth budgets — an alias is
//! charged before it is copied. yaml-rust2 is stricter than YAML 1.2 readers about flow
//! collections closed at their key's indentation, hence the one bounded retry with such lines
//! indented. Apart from the JSON reader: the two share only the error, the limits and the
//! line map.

use std::collections::HashMap;

use serde_json::{Map, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::error::{InputError, MAX_DEPTH, MAX_NODES};
use super::lines::{child_hash, LineMap, ROOT_HASH};

/// Most bytes YAML aliases may add, all expansions together (their scalars and keys). Charged
/// before an alias is copied, so a huge anchored scalar aliased many times is refused at the
/// first alias that would pass the limit, not after the copies exhausted memory.
const MAX_ALIAS_BYTES: usize = 8 * 1024 * 1024;
/// Bytes charged per node besides its text: about what a built value costs in memory.
const NODE_BYTES: usize = 64;

/// The deepest block nesting a line may open (indentation columns plus `- `, `? `, `: `
/// indicators). yaml-rust2 recurses once per level before our own depth check sees the node,
/// so a line like `- - - - …` a hundred thousand times would exhaust the stack.
const MAX_YAML_LINE_NESTING: usize = 1000;

fn yaml_nesting_bounded(text: &str) -> Result<(), InputError> {
    for (index, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let mut rest = &line[indent..];
        let mut indicators = 0usize;
        loop {
            let trimmed = rest.trim_start_matches([' ', '\t']);
            let mut chars = trimmed.chars();
            match (chars.next(), chars.next()) {
                (Some('-' | '?' | ':'), Some(' ' | '\t')) => {
                    indicators += 1;
                    rest = &trimmed[2..];
                }
                _ => break,
            }
            if indent + indicators > MAX_YAML_LINE_NESTING {
                break;
            }
        }
        if indent + indicators > MAX_YAML_LINE_NESTING {
            return Err(InputError {
                line: index + 1,
                column: 1,
                message: format!(
                    "nested deeper than {MAX_YAML_LINE_NESTING} levels of indentation and indicators"
                ),
            });
        }
    }
    Ok(())
}

pub(super) fn load_yaml(text: &str) -> Result<(Value, LineMap), InputError> {
    match load_yaml_strict(text) {
        // yaml-rust2 wants every line of a flow collection indented past its key, closing
        // bracket included; YAML 1.2 readers (libyaml, PyYAML, Go's yaml.v3) accept a closing
        // `]` at the key's indentation, and people write it. Retry once with such lines
        // indented (lines stay where they are).
        Err(e) if e.message.contains("invalid indentation") => match relax_flow_indentation(text) {
            Some(relaxed) => load_yaml_strict(&relaxed).map_err(|_| e),
            None => Err(e),
        },
        other => other,
    }
}

/// Most bytes [`relax_flow_indentation`] may add.
const RELAX_ALLOWANCE: usize = 64 * 1024;

/// Indents the lines inside a flow collection (`[ … ]`, `{ … }` spread over lines) that sit at
/// or left of the line that opened it, so that yaml-rust2 reads what YAML 1.2 readers do.
/// `None` when no line needed it. Quotes, comments and block scalars are skipped; a `[` or
/// `{` opens a flow collection only where a node starts (after `: `, `- `, or first on a line).
fn relax_flow_indentation(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut depth = 0usize;
    // Indentation of the line that opened the outermost open flow collection.
    let mut opener_indent = 0usize;
    // Inside a block scalar: lines indented more than this are its content.
    let mut block_scalar: Option<usize> = None;
    let mut changed = false;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = line.trim();
        if let Some(parent) = block_scalar {
            if content.is_empty() || indent > parent {
                out.push_str(line);
                continue;
            }
            block_scalar = None;
        }
        if depth > 0 && !content.is_empty() && indent <= opener_indent {
            out.push_str(&" ".repeat(opener_indent + 1 - indent));
            changed = true;
            // Padding many lines deep inside an indented block could multiply the file:
            // beyond a small allowance, give up (the original error stands).
            if out.len() > text.len() + RELAX_ALLOWANCE {
                return None;
            }
        }
        let line_starts_flat = depth == 0;
        let (mut quote, mut previous) = (None::<char>, ' ');
        let mut node_start = true;
        for c in line.chars() {
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                previous = c;
                continue;
            }
            match c {
                '#' if previous == ' ' || previous == '\t' => break,
                '"' | '\'' if depth > 0 || node_start => quote = Some(c),
                '[' | '{' if depth > 0 || node_start => {
                    if depth == 0 {
                        opener_indent = indent;
                    }
                    depth += 1;
                }
                ']' | '}' if depth > 0 => depth -= 1,
                _ => {}
            }
            if depth == 0 && c != ' ' {
                // A node may start after `: `, `- `, `? ` (the space comes next).
                node_start = false;
            }
            if depth == 0 && c == ' ' && matches!(previous, ':' | '-' | '?') {
                node_start = true;
            }
            previous = c;
        }
        if line_starts_flat && depth == 0 {
            let end = content.split(" #").next().unwrap_or("").trim_end();
            let indicator = end.rsplit(' ').next().unwrap_or("");
            if (end.ends_with(':') || end.contains(": ") || end.starts_with("- "))
                && indicator.starts_with(['|', '>'])
                && indicator[1..]
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-' || c == '+')
            {
                block_scalar = Some(indent);
            }
        }
        out.push_str(line);
    }
    changed.then_some(out)
}

fn load_yaml_strict(text: &str) -> Result<(Value, LineMap), InputError> {
    yaml_nesting_bounded(text)?;
    // First pass: which anchors are aliased at all. Only those are kept (a copy each, charged
    // to the alias budget): nested anchors that nothing uses cost nothing.
    let mut aliased = AliasedAnchors::default();
    let _ = Parser::new_from_str(text).load(&mut aliased, false);
    let mut builder = YamlBuilder {
        aliased: aliased.0,
        ..YamlBuilder::default()
    };
    let mut parser = Parser::new_from_str(text);
    let result = parser.load(&mut builder, false);
    if let Some(e) = builder.error.take() {
        return Err(e);
    }
    result.map_err(|e| InputError {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: format!("invalid YAML: {}", e.info()),
    })?;
    match builder.root.take() {
        Some(v) => Ok((v, builder.lines)),
        None => Err(InputError::whole("empty document")),
    }
}

/// What a built value costs: its bytes (text plus [`NODE_BYTES`] a node), its nodes, and its
/// height (0 for a scalar). Kept per frame as children arrive, so an alias is charged from
/// its anchor's record without walking the value.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    bytes: usize,
    nodes: usize,
    height: usize,
}

impl Cost {
    fn add(&mut self, child: Cost) {
        self.bytes = self.bytes.saturating_add(child.bytes);
        self.nodes = self.nodes.saturating_add(child.nodes);
        self.height = self.height.max(child.height + 1);
    }
}

enum Frame {
    Seq {
        items: Vec<Value>,
        tag: Option<Tag>,
        anchor: usize,
        cost: Cost,
    },
    Map {
        map: Map<String, Value>,
        key: Option<String>,
        tag: Option<Tag>,
        anchor: usize,
        cost: Cost,
    },
}

impl Frame {
    fn cost_mut(&mut self) -> &mut Cost {
        match self {
            Frame::Seq { cost, .. } | Frame::Map { cost, .. } => cost,
        }
    }
}

/// The anchor ids some alias refers to.
#[derive(Default)]
struct AliasedAnchors(std::collections::HashSet<usize>);

impl MarkedEventReceiver for AliasedAnchors {
    fn on_event(&mut self, event: Event, _mark: Marker) {
        if let Event::Alias(id) = event {
            self.0.insert(id);
        }
    }
}

/// Builds a JSON value from YAML events: the core schema for plain scalars, CloudFormation
/// short forms for tags, anchors and aliases expanded within [`MAX_NODES`].
#[derive(Default)]
struct YamlBuilder {
    aliased: std::collections::HashSet<usize>,
    stack: Vec<Frame>,
    root: Option<Value>,
    anchors: HashMap<usize, (Value, Cost)>,
    /// Bytes added by alias expansion so far.
    alias_bytes: usize,
    lines: LineMap,
    /// Pointer hashes of the open collections below the root.
    path: Vec<u64>,
    nodes: usize,
    error: Option<InputError>,
}

impl YamlBuilder {
    fn fail(&mut self, mark: Marker, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(InputError {
                line: mark.line(),
                column: mark.col() + 1,
                message: message.into(),
            });
        }
    }

    /// The path segment the next value gets (for the line map).
    fn next_segment(&self) -> Option<String> {
        match self.stack.last() {
            Some(Frame::Seq { items, .. }) => Some(items.len().to_string()),
            Some(Frame::Map { key: Some(k), .. }) => Some(k.clone()),
            _ => None,
        }
    }

    /// True when the next scalar is a mapping key.
    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Map { key: None, .. }))
    }

    fn note_line(&mut self, mark: Marker) {
        if let Some(segment) = self.next_segment() {
            let parent = self.path.last().copied().unwrap_or(ROOT_HASH);
            self.lines.insert(child_hash(parent, &segment), mark.line());
        } else if self.stack.is_empty() {
            self.lines.insert(ROOT_HASH, mark.line());
        }
    }

    fn push_value(&mut self, value: Value, cost: Cost, mark: Marker) {
        let mut bad_key = false;
        if let Some(frame) = self.stack.last_mut() {
            frame.cost_mut().add(cost);
        }
        match self.stack.last_mut() {
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map { map, key, .. }) => match key.take() {
                Some(k) => {
                    map.insert(k, value);
                }
                None => {
                    let k = match value {
                        Value::String(s) => s,
                        Value::Null => "null".to_owned(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        _ => {
                            bad_key = true;
                            String::new()
                        }
                    };
                    *key = Some(k);
                }
            },
            None => {
                if self.root.is_none() {
                    self.root = Some(value);
                }
            }
        }
        if bad_key {
            self.fail(
                mark,
                "a mapping key that is a list or a mapping is not supported",
            );
        }
    }

    /// Keeps a copy of an aliased anchor's value, charged to the alias budget.
    fn keep_anchor(&mut self, anchor: usize, value: &Value, cost: Cost, mark: Marker) -> bool {
        if !self.aliased.contains(&anchor) {
            return true;
        }
        if !self.charge_alias(cost.bytes, mark) {
            return false;
        }
        self.anchors.insert(anchor, (value.clone(), cost));
        true
    }

    fn charge_alias(&mut self, bytes: usize, mark: Marker) -> bool {
        self.alias_bytes = self.alias_bytes.saturating_add(bytes);
        if self.alias_bytes > MAX_ALIAS_BYTES {
            self.fail(
                mark,
                format!("aliases expand to more than {MAX_ALIAS_BYTES} bytes"),
            );
            return false;
        }
        true
    }

    fn count(&mut self, n: usize, mark: Marker) -> bool {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            self.fail(
                mark,
                format!("more than {MAX_NODES} YAML nodes (aliases expanded)"),
            );
            return false;
        }
        true
    }
}

/// `!Ref x` → `{"Ref": x}`, `!GetAtt a.b` → `{"Fn::GetAtt": ["a", "b"]}`, `!Sub …` →
/// `{"Fn::Sub": …}`; other local tags likewise.
fn apply_tag(tag: Option<&Tag>, value: Value) -> Value {
    let Some(tag) = tag else { return value };
    if tag.handle != "!" || tag.suffix.is_empty() {
        return value;
    }
    let name = tag.suffix.as_str();
    let mut m = Map::new();
    match name {
        "Ref" | "Condition" => {
            m.insert(name.to_owned(), value);
        }
        "GetAtt" => {
            let v = match value {
                Value::String(s) => match s.split_once('.') {
                    Some((a, b)) => Value::Array(vec![a.into(), b.into()]),
                    None => Value::String(s),
                },
                other => other,
            };
            m.insert("Fn::GetAtt".to_owned(), v);
        }
        _ => {
            m.insert(format!("Fn::{name}"), value);
        }
    }
    Value::Object(m)
}

fn scalar(text: String, style: TScalarStyle) -> Value {
    if style != TScalarStyle::Plain {
        return Value::String(text);
    }
    match text.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        return Value::from(i);
    }
    if text.contains('.')
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
    {
        if let Ok(f) = text.parse::<f64>() {
            if let Some(n) = serde_json::Number::from_f64(f) {
                return Value::Number(n);
            }
        }
    }
    Value::String(text)
}

impl MarkedEventReceiver for YamlBuilder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                if !self.count(1, mark) {
                    return;
                }
                let is_key = self.expecting_key();
                if !is_key {
                    self.note_line(mark);
                }
                let cost = Cost {
                    bytes: text.len().saturating_add(NODE_BYTES),
                    nodes: 1,
                    height: 0,
                };
                let value = apply_tag(tag.as_ref(), scalar(text, style));
                if anchor > 0 && !self.keep_anchor(anchor, &value, cost, mark) {
                    return;
                }
                self.push_value(value, cost, mark);
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let is_seq = matches!(event, Event::SequenceStart(..));
                let (Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag)) = event
                else {
                    return;
                };
                if self.stack.len() >= MAX_DEPTH {
                    self.fail(mark, format!("nested deeper than {MAX_DEPTH} levels"));
                    return;
                }
                if !self.count(1, mark) {
                    return;
                }
                if self.expecting_key() {
                    self.fail(
                        mark,
                        "a mapping key that is a list or a mapping is not supported",
                    );
                    return;
                }
                self.note_line(mark);
                if let Some(segment) = self.next_segment() {
                    let parent = self.path.last().copied().unwrap_or(ROOT_HASH);
                    self.path.push(child_hash(parent, &segment));
                }
                let cost = Cost {
                    bytes: NODE_BYTES,
                    nodes: 1,
                    height: 0,
                };
                self.stack.push(if is_seq {
                    Frame::Seq {
                        items: Vec::new(),
                        tag,
                        anchor,
                        cost,
                    }
                } else {
                    Frame::Map {
                        map: Map::new(),
                        key: None,
                        tag,
                        anchor,
                        cost,
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return;
                };
                if !self.stack.is_empty() {
                    self.path.pop();
                }
                let (value, tag, anchor, cost) = match frame {
                    Frame::Seq {
                        items,
                        tag,
                        anchor,
                        cost,
                    } => (Value::Array(items), tag, anchor, cost),
                    Frame::Map {
                        map,
                        tag,
                        anchor,
                        cost,
                        ..
                    } => (Value::Object(map), tag, anchor, cost),
                };
                let value = apply_tag(tag.as_ref(), value);
                if anchor > 0 && !self.keep_anchor(anchor, &value, cost, mark) {
                    return;
                }
                self.push_value(value, cost, mark);
            }
            Event::Alias(id) => {
                let Some(cost) = self.anchors.get(&id).map(|(_, c)| *c) else {
                    self.fail(mark, "alias to an unknown anchor");
                    return;
                };
                // Charged before the copy is made: bytes, nodes, and the depth it lands at.
                if !self.charge_alias(cost.bytes, mark) {
                    return;
                }
                if self.stack.len() + cost.height > MAX_DEPTH {
                    self.fail(
                        mark,
                        format!("nested deeper than {MAX_DEPTH} levels (aliases expanded)"),
                    );
                    return;
                }
                if !self.count(cost.nodes, mark) {
                    return;
                }
                let Some(value) = self.anchors.get(&id).map(|(v, _)| v.clone()) else {
                    return;
                };
                if !self.expecting_key() {
                    self.note_line(mark);
                }
                self.push_value(value, cost, mark);
            }
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}
