//! Reading task definitions from the shapes people have them in.
//!
//! - `register-task-definition` input (`--cli-input-json`), camelCase;
//! - `describe-task-definition` output, with or without its `taskDefinition` wrapper;
//! - CloudFormation / SAM templates, JSON or YAML, holding `AWS::ECS::TaskDefinition`
//!   resources with PascalCase properties. Short-form intrinsics (`!Ref`, `!Sub`, …) become
//!   their long form (`{"Ref": …}`, `{"Fn::Sub": …}`) and stay unresolved.
//!
//! Every task definition found is normalised to camelCase, so the rules see one shape and
//! report one kind of JSON pointer; a [`LineMap`] takes such a pointer back to its line in the
//! file for text and SARIF output. Input is untrusted (CI runs it on pull requests): its size,
//! its nesting (counted after YAML aliases are expanded), its YAML nodes and the bytes YAML
//! aliases add are bounded — an alias is charged before it is copied — and every failure is an
//! [`InputError`] with a position, never a panic.

use std::collections::HashMap;

use serde_json::{Map, Value};
// What is and is not a CloudFormation intrinsic, and the kind of a value, mean the same here
// as in the task-definition model.
pub use ecs_secrets_shared::task_definition::{is_intrinsic, kind};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Largest file read (ECS itself caps a task definition at 64 KiB; templates are larger).
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// Deepest nesting accepted (serde_json's own limit is 128).
const MAX_DEPTH: usize = 128;
/// Most values built: YAML nodes (aliases expanded), or JSON values. A CloudFormation template
/// is at most 1 MB and a task definition 64 KiB, far below this; memory stays in tens of MiB.
const MAX_NODES: usize = 500_000;
/// Most bytes YAML aliases may add, all expansions together (their scalars and keys). Charged
/// before an alias is copied, so a huge anchored scalar aliased many times is refused at the
/// first alias that would pass the limit, not after the copies exhausted memory.
const MAX_ALIAS_BYTES: usize = 8 * 1024 * 1024;
/// Bytes charged per node besides its text: about what a built value costs in memory.
const NODE_BYTES: usize = 64;

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
    fn whole(message: impl Into<String>) -> Self {
        InputError {
            line: 0,
            column: 0,
            message: message.into(),
        }
    }
}

/// One task definition found in a document.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The family, or the CloudFormation logical id.
    pub label: String,
    /// The task definition, camelCase.
    pub definition: Value,
    /// Pointer of the task definition inside the document (`""`, `/taskDefinition`,
    /// `/Resources/Task/Properties`).
    pub base: String,
    /// Platform version of a CloudFormation service in the same template that runs it.
    pub platform_version: Option<String>,
    /// A list of containers only (Terraform's `container_definitions`): the task-level fields
    /// are outside the file, and pointers start at the container index (`/0/environment/3`).
    pub containers_only: bool,
    /// A list of environment variables only (`[{"name": …, "value": …}]`, what Terraform reads
    /// with `jsondecode(file(…))`): pointers start at the variable index (`/3/value`), and
    /// only the variables are checked.
    pub variables_only: bool,
}

impl Subject {
    /// The pointer a finding shows: for a list of containers, without `/containerDefinitions`;
    /// for a list of variables, without `/containerDefinitions/0/environment`.
    pub fn shown_pointer(&self, pointer: &str) -> String {
        if self.variables_only {
            if let Some(rest) = pointer.strip_prefix("/containerDefinitions/0/environment") {
                return rest.to_owned();
            }
        }
        match pointer.strip_prefix("/containerDefinitions") {
            Some(rest) if self.containers_only => rest.to_owned(),
            _ => pointer.to_owned(),
        }
    }
}

/// A parsed document: its task definitions and where their values are.
#[derive(Debug, Default)]
pub struct Document {
    pub subjects: Vec<Subject>,
    /// True for a CloudFormation template (which may legitimately hold no task definition).
    pub is_template: bool,
    lines: LineMap,
}

impl Document {
    /// The 1-based line of the value at `pointer` inside `subject`.
    pub fn line(&self, subject: &Subject, pointer: &str) -> Option<usize> {
        self.lines.line(&format!(
            "{}{}",
            subject.base,
            subject.shown_pointer(pointer)
        ))
    }
}

/// Reads a document from raw bytes.
pub fn parse(bytes: &[u8]) -> Result<Document, InputError> {
    if bytes.len() > MAX_INPUT_BYTES {
        // Callers may stop reading at the limit, so the size is not known: say what it exceeds.
        return Err(InputError::whole(format!(
            "larger than the limit of {MAX_INPUT_BYTES} bytes"
        )));
    }
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        let (line, column) = line_col(bytes, at);
        return Err(InputError {
            line,
            column,
            message: "NUL byte: not a text file".to_owned(),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col(bytes, e.valid_up_to());
        InputError {
            line,
            column,
            message: "not UTF-8 text (a binary file?)".to_owned(),
        }
    })?;
    let trimmed = text.trim_start_matches('\u{feff}');
    let start = trimmed.trim_start();
    let (value, lines) =
        if start.starts_with(['{', '[']) || start.starts_with("%{") || start.starts_with("${") {
            json_within_node_limit(trimmed)?;
            let invalid = |e: serde_json::Error| InputError {
                line: e.line(),
                column: e.column(),
                message: format!("invalid JSON: {}", strip_position(&e.to_string())),
            };
            // A template whose directives all sit inside strings is valid JSON: read it as a
            // template all the same, or its `%{ else }` side would go unread.
            let parsed = if trimmed.contains("%{") {
                serde_json::from_str::<Value>("!")
            } else {
                serde_json::from_str::<Value>(trimmed)
            };
            match parsed {
                Ok(value) => (value, LineMap::from_json(trimmed)),
                // A Terraform template (`templatefile()`): JSON once its interpolations and
                // directives are neutralised, on the same lines.
                Err(_) if crate::terraform::is_template(trimmed) => {
                    // With `%{ else }`, each side is read: the `if` sides as the document, the
                    // `else` sides as a second reading of it (findings they share are reported once).
                    let sides = match crate::terraform::branch(trimmed, false) {
                        Some(then_side) => vec![
                            then_side,
                            crate::terraform::branch(trimmed, true).unwrap_or_default(),
                        ],
                        None => vec![trimmed.to_owned()],
                    };
                    let mut read = Vec::new();
                    for side in &sides {
                        let json = crate::terraform::neutralise(side)?;
                        let value: Value = serde_json::from_str(&json).map_err(|e| {
                            let mut e = invalid(e);
                            e.message =
                                format!("{} (in a template, after interpolation)", e.message);
                            e
                        })?;
                        read.push((value, json));
                    }
                    let mut read = read.into_iter();
                    let Some((value, json)) = read.next() else {
                        return Err(InputError::whole("empty template"));
                    };
                    let mut document = from_value(value, LineMap::from_json(&json))?;
                    for (value, json) in read {
                        for mut subject in from_value(value, LineMap::default())?.subjects {
                            subject.base = format!("{ELSE_BASE}{}", subject.base);
                            subject.label = format!("{} (the %{{ else }} sides)", subject.label);
                            document.subjects.push(subject);
                        }
                        document.lines.add_json(&json, ELSE_BASE, 0);
                    }
                    return Ok(document);
                }
                Err(e) => return Err(invalid(e)),
            }
        } else {
            load_yaml(trimmed)?
        };
    from_value(value, lines)
}

/// Where the `%{ else }` reading of a template sits in the document's line map.
pub(crate) const ELSE_BASE: &str = "/~else";

/// Reads a file, choosing the reader by its name where the content cannot say: `.tf` is
/// Terraform (HCL); anything else as [`parse`].
pub fn parse_named(name: &str, bytes: &[u8]) -> Result<Document, InputError> {
    if !name.ends_with(".tf") {
        return parse(bytes);
    }
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(InputError::whole(format!(
            "larger than the limit of {MAX_INPUT_BYTES} bytes"
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col(bytes, e.valid_up_to());
        InputError {
            line,
            column,
            message: "not UTF-8 text (a binary file?)".to_owned(),
        }
    })?;
    json_within_node_limit(text)?;
    let mut document = Document {
        is_template: true,
        ..Document::default()
    };
    for resource in crate::terraform::resources(text)? {
        let base = format!("/{}", escape_pointer(&resource.label));
        document.lines.add(&base, resource.line);
        for (pointer, line) in &resource.lines {
            document.lines.add(&format!("{base}{pointer}"), *line);
        }
        if let Some((json, offset)) = &resource.heredoc {
            document.lines.add_json(json, &base, *offset);
        }
        let mut definition = resource.definition;
        if let Value::Object(map) = &mut definition {
            // The role is often set elsewhere (a module input): absent is not "missing" here.
            map.entry("executionRoleArn")
                .or_insert_with(crate::terraform::unresolved);
        }
        document.subjects.push(Subject {
            label: resource.label,
            definition,
            base,
            platform_version: None,
            containers_only: true,
            variables_only: false,
        });
    }
    Ok(document)
}

/// Counts JSON values before any is built (a value per `,`, `:`, `[` or `{` outside strings,
/// an upper bound), so a file of millions of tiny values is refused before it costs memory.
fn json_within_node_limit(text: &str) -> Result<(), InputError> {
    let bytes = text.as_bytes();
    let (mut nodes, mut in_string, mut escaped) = (0usize, false, false);
    for (at, &b) in bytes.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
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
    }
    Ok(())
}

/// Reads a task definition handed over as JSON already (Lambda events).
pub fn from_json_value(value: Value) -> Result<Document, InputError> {
    from_value(value, LineMap::default())
}

fn from_value(value: Value, lines: LineMap) -> Result<Document, InputError> {
    if let Value::Array(items) = &value {
        return containers(items, lines);
    }
    let Value::Object(object) = &value else {
        return Err(InputError::whole(format!(
            "expected a JSON object (a task definition or a CloudFormation template), found {}",
            kind(&value)
        )));
    };
    let mut document = Document {
        lines,
        ..Document::default()
    };
    if let Some(resources) = object.get("Resources") {
        document.is_template = true;
        let Value::Object(resources) = resources else {
            return Err(InputError::whole(format!(
                "Resources: expected an object, found {}",
                kind(resources)
            )));
        };
        let platform_versions = service_platform_versions(resources);
        for (id, resource) in resources {
            if resource.get("Type").and_then(Value::as_str) != Some("AWS::ECS::TaskDefinition") {
                continue;
            }
            let properties = resource.get("Properties").cloned().unwrap_or(Value::Null);
            if !properties.is_object() {
                return Err(InputError::whole(format!(
                    "Resources.{id}.Properties: expected an object, found {}",
                    kind(&properties)
                )));
            }
            document.subjects.push(Subject {
                label: id.clone(),
                definition: normalise(properties),
                base: format!("/Resources/{}/Properties", escape_pointer(id)),
                platform_version: platform_versions.get(id.as_str()).cloned(),
                containers_only: false,
                variables_only: false,
            });
        }
        return Ok(document);
    }
    let (definition, base) = match object.get("taskDefinition") {
        Some(Value::Object(_)) => {
            let Value::Object(mut object) = value else {
                return Err(InputError::whole("expected a JSON object"));
            };
            (
                object.remove("taskDefinition").unwrap_or(Value::Null),
                "/taskDefinition",
            )
        }
        Some(other) => {
            return Err(InputError::whole(format!(
                "taskDefinition: expected an object, found {}",
                kind(other)
            )))
        }
        None => (value, ""),
    };
    let definition = normalise(definition);
    if definition.get("containerDefinitions").is_none() {
        return Err(InputError::whole(
            "not a task definition: no containerDefinitions (expected register-task-definition input, describe-task-definition output or a CloudFormation template)",
        ));
    }
    let label = definition
        .get("family")
        .and_then(Value::as_str)
        .unwrap_or("(no family)")
        .to_owned();
    document.subjects.push(Subject {
        label,
        definition,
        base: base.to_owned(),
        platform_version: None,
        containers_only: false,
        variables_only: false,
    });
    Ok(document)
}

/// A list of container definitions (Terraform's `container_definitions`): one task definition
/// whose task-level fields are elsewhere.
fn containers(items: &[Value], lines: LineMap) -> Result<Document, InputError> {
    // ECS requires `image`; a list of `{name, value}` is an environment file
    // (`environment = jsondecode(file("env.json"))`), read as such.
    let has = |v: &Value, keys: &[&str]| {
        v.as_object()
            .is_some_and(|m| keys.iter().any(|k| m.contains_key(*k)))
    };
    let looks_like_container = |v: &Value| has(v, &["image", "Image"]);
    let looks_like_variable = |v: &Value| {
        has(v, &["name", "Name"])
            && has(v, &["value", "Value", "valueFrom", "ValueFrom"])
            && !has(v, &["image", "Image"])
    };
    if !items.is_empty()
        && items
            .iter()
            .all(|v| looks_like_variable(v) || is_intrinsic(v))
    {
        let definition = normalise(serde_json::json!({
            "containerDefinitions": [{"name": "(variables)", "image": "(none)", "environment": items}],
            "executionRoleArn": crate::terraform::unresolved(),
        }));
        return Ok(Document {
            subjects: vec![Subject {
                label: "(environment variables)".to_owned(),
                definition,
                base: String::new(),
                platform_version: None,
                containers_only: false,
                variables_only: true,
            }],
            is_template: false,
            lines,
        });
    }
    if let Some((i, item)) = items
        .iter()
        .enumerate()
        .find(|(_, v)| !looks_like_container(v) && !is_intrinsic(v))
    {
        return Err(InputError::whole(format!(
            "a list must hold container definitions (objects with `image`, as Terraform's container_definitions) or environment variables (`name` and `value`); item {i} is {}",
            if item.is_object() { "an object without image".to_owned() } else { kind(item).to_owned() }
        )));
    }
    let names: Vec<&str> = items
        .iter()
        .filter_map(|c| c.get("name").or(c.get("Name")).and_then(Value::as_str))
        .collect();
    let label = if names.is_empty() {
        "(container definitions)".to_owned()
    } else {
        format!("container definitions ({})", names.join(", "))
    };
    let definition = normalise(serde_json::json!({
        "containerDefinitions": items,
        "executionRoleArn": crate::terraform::unresolved(),
    }));
    Ok(Document {
        subjects: vec![Subject {
            label,
            definition,
            base: String::new(),
            platform_version: None,
            containers_only: true,
            variables_only: false,
        }],
        is_template: false,
        lines,
    })
}

/// `PlatformVersion` of `AWS::ECS::Service` resources, by the logical id of the task
/// definition they `Ref`.
fn service_platform_versions(resources: &Map<String, Value>) -> HashMap<&str, String> {
    let mut out = HashMap::new();
    for resource in resources.values() {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::ECS::Service") {
            continue;
        }
        let Some(props) = resource.get("Properties") else {
            continue;
        };
        let (Some(task), Some(version)) = (
            props
                .get("TaskDefinition")
                .and_then(|t| t.get("Ref"))
                .and_then(Value::as_str),
            props.get("PlatformVersion").and_then(Value::as_str),
        ) else {
            continue;
        };
        out.insert(task, version.to_owned());
    }
    out
}

/// Keys whose children are user data (labels, driver options), kept verbatim.
const FREE_FORM: &[&str] = &["dockerLabels", "options", "driverOpts", "labels"];

/// PascalCase keys to camelCase, except inside free-form maps and intrinsic functions.
fn normalise(v: Value) -> Value {
    match v {
        Value::Object(_) if is_intrinsic(&v) => v,
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = camel(&k);
                    let v = if FREE_FORM.contains(&key.as_str()) {
                        v
                    } else {
                        normalise(v)
                    };
                    (key, v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(normalise).collect()),
        other => other,
    }
}

fn camel(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) if first.is_ascii_uppercase() => {
            let mut s = String::with_capacity(key.len());
            s.push(first.to_ascii_lowercase());
            s.extend(chars);
            s
        }
        _ => key.to_owned(),
    }
}

/// RFC 6901 escaping of one pointer segment.
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
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

/// Where each value of a document is: pointer (keys with their first letter lower-cased, so
/// PascalCase files answer camelCase pointers) → 1-based line. Pointers are kept as 64-bit
/// hashes, not strings: a file of many deeply nested values would otherwise cost a pointer
/// string per value, far more than the file itself.
#[derive(Debug, Default)]
struct LineMap {
    lines: HashMap<u64, usize>,
}

/// The hash of the document's root pointer (`""`).
const ROOT_HASH: u64 = 0x6563_732d_7365_6372;

/// The hash of a child's pointer from its parent's and its (unescaped) segment, with the
/// segment's first letter folded. Built one level at a time, so a value costs one segment's
/// hashing however deep it is.
fn child_hash(parent: u64, segment: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = std::hash::DefaultHasher::new();
    h.write_u64(parent);
    h.write_usize(segment.len());
    let mut chars = segment.chars();
    if let Some(first) = chars.next() {
        h.write_u32(first.to_ascii_lowercase() as u32);
    }
    h.write(chars.as_str().as_bytes());
    h.finish()
}

/// RFC 6901 unescaping of one pointer segment.
fn unescape_pointer(segment: &str) -> std::borrow::Cow<'_, str> {
    if segment.contains('~') {
        segment.replace("~1", "/").replace("~0", "~").into()
    } else {
        segment.into()
    }
}

fn pointer_hash(pointer: &str) -> u64 {
    pointer.split('/').skip(1).fold(ROOT_HASH, |h, segment| {
        child_hash(h, &unescape_pointer(segment))
    })
}

impl LineMap {
    fn line(&self, pointer: &str) -> Option<usize> {
        self.lines.get(&pointer_hash(pointer)).copied()
    }

    /// Records the line of the value at `pointer` (escaped, as findings name it).
    fn add(&mut self, pointer: &str, line: usize) {
        self.insert(pointer_hash(pointer), line);
    }

    /// Records the lines of JSON text that sits at `base` in the document, `offset` lines
    /// below the document's first.
    fn add_json(&mut self, text: &str, base: &str, offset: usize) {
        let mut walker = JsonWalker {
            bytes: text.as_bytes(),
            at: 0,
            line: 1 + offset,
            path: vec![pointer_hash(base)],
        };
        walker.value(self, 0);
    }

    fn insert(&mut self, hash: u64, line: usize) {
        self.lines.entry(hash).or_insert(line);
    }

    /// Walks JSON text (already validated by serde_json) and records each value's line.
    fn from_json(text: &str) -> Self {
        let mut map = LineMap::default();
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

struct JsonWalker<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
    /// Pointer hashes of the enclosing values (the root's is [`ROOT_HASH`]).
    path: Vec<u64>,
}

impl JsonWalker<'_> {
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

    fn string(&mut self) -> String {
        // At the opening quote.
        self.at += 1;
        let start = self.at;
        while let Some(&b) = self.bytes.get(self.at) {
            match b {
                b'\\' => self.at += 2,
                b'"' => break,
                _ => self.at += 1,
            }
        }
        let raw = &self.bytes[start..self.at.min(self.bytes.len())];
        self.at += 1;
        let quoted = format!("\"{}\"", String::from_utf8_lossy(raw));
        serde_json::from_str(&quoted).unwrap_or_default()
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
                            let key = self.string();
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
                            self.path.push(child_hash(parent, &index.to_string()));
                            self.value(map, depth + 1);
                            self.path.pop();
                            index += 1;
                        }
                    }
                }
            }
            Some(b'"') => {
                self.string();
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

/// Builds a JSON value from YAML events: the core schema for plain scalars, CloudFormation
/// short forms for tags, anchors and aliases expanded within [`MAX_NODES`].
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

fn load_yaml(text: &str) -> Result<(Value, LineMap), InputError> {
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

/// Indents the lines inside a flow collection (`[ … ]`, `{ … }` spread over lines) that sit at
/// or left of the line that opened it, so that yaml-rust2 reads what YAML 1.2 readers do.
/// `None` when no line needed it. Quotes, comments and block scalars are skipped; a `[` or
/// `{` opens a flow collection only where a node starts (after `: `, `- `, or first on a line).
/// Most bytes [`relax_flow_indentation`] may add.
const RELAX_ALLOWANCE: usize = 64 * 1024;

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
