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
//!
//! This file is the dispatch — which reader reads which file — and what every reader yields:
//! [`Document`], [`Subject`], and the task definitions found in a value (`register`/`describe`
//! shapes, template resources, lists of containers or of variables). The readers are
//! `json.rs` (values counted before parsing, each value's line) and `yaml.rs` (events built
//! into values, aliases bounded, the flow-collection retry); Terraform's `.tf` is
//! [`crate::terraform`]. The error and limits (`error.rs`) and the line map (`lines.rs`) sit
//! below all readers, so no reader imports the dispatch that imports it.

use std::collections::HashMap;

use serde_json::{Map, Value};
// What is and is not a CloudFormation intrinsic, and the kind of a value, mean the same here
// as in the task-definition model.
pub use ecs_secrets_shared::task_definition::{is_intrinsic, kind};

pub(crate) mod error;
mod json;
pub(crate) mod lines;
mod yaml;

pub use error::{InputError, MAX_INPUT_BYTES, NOT_A_TASK_DEFINITION};
pub use lines::escape_pointer;

use ecs_secrets_shared::task_definition::{JsonView, TaskDefinition};
use error::{line_col, strip_position};
use json::{json_within_node_limit, parse_with_lines, OneRead};
use lines::LineMap;
use yaml::load_yaml;

/// One task definition found in a document.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The family, or the CloudFormation logical id.
    pub label: String,
    /// The task definition, camelCase — `null` when [`Subject::model`] holds it read already.
    pub definition: Value,
    /// Pointer of the task definition inside the document (`""`, `/taskDefinition`,
    /// `/Resources/Task/Properties`).
    pub base: String,
    /// Platform version of a CloudFormation service in the same template that runs it.
    pub platform_version: Option<String>,
    /// A list of containers only (Terraform's `container_definitions`): the task-level fields
    /// are outside the file, and pointers start at the container index (`/0/environment/3`).
    pub containers_only: bool,
    /// The task definition read into the model already, when the file is a plain one (a
    /// camelCase `register-task-definition` object, [`from_one_read`]); `definition` is then
    /// `null`, and [`crate::rules::check`] reads this instead ([`crate::check_document`] takes
    /// it out: after that, only the subject's label, base and lines are left to read).
    pub model: Option<TaskDefinition>,
    /// A list of environment variables only (`[{"name": …, "value": …}]`, what Terraform reads
    /// with `jsondecode(file(…))`): pointers start at the variable index (`/3/value`), and
    /// only the variables are checked.
    pub variables_only: bool,
}

impl Subject {
    /// The pointer a finding shows: for a list of containers, without `/containerDefinitions`;
    /// for a list of variables, without `/containerDefinitions/0/environment`. Always the end of
    /// `pointer` (so a caller can tell by its length whether anything was cut).
    pub fn shown_pointer<'p>(&self, pointer: &'p str) -> &'p str {
        if self.variables_only {
            if let Some(rest) = pointer.strip_prefix("/containerDefinitions/0/environment") {
                return rest;
            }
        }
        match pointer.strip_prefix("/containerDefinitions") {
            Some(rest) if self.containers_only => rest,
            _ => pointer,
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
        self.lines
            .line_below(&subject.base, subject.shown_pointer(pointer))
    }

    /// The line of the value at `pointer`, or of its nearest ancestor present in the file (a
    /// missing `readonlyRootFilesystem` is reported at its container).
    pub fn nearest_line(&self, subject: &Subject, pointer: &str) -> Option<usize> {
        if !subject.variables_only && !subject.containers_only {
            // Shown as it is: each prefix of the pointer is shown as that prefix.
            return self.lines.nearest_below(&subject.base, pointer);
        }
        lines::prefixes(pointer).find_map(|p| self.line(subject, p))
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
    if let Some(at) = memchr::memchr(0, bytes) {
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
                // Plain valid JSON in one pass; anything else through serde_json, which names
                // the error.
                if let Some(read) = parse_with_lines(trimmed) {
                    return from_one_read(read);
                }
                serde_json::from_str::<Value>(trimmed)
            };
            match parsed {
                Ok(value) => {
                    let (lines, upper_key) = LineMap::from_json_and_keys(trimmed);
                    return from_value_normalised(value, lines, upper_key);
                }
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
            model: None,
            base,
            platform_version: None,
            containers_only: true,
            variables_only: false,
        });
    }
    Ok(document)
}

/// Whether a file's text names a task definition anywhere — `containerDefinitions`,
/// `TaskDefinition`, `container_definitions`, `AWS::ECS::TaskDefinition`, in any case — so that
/// a file that fails to read as one was meant to be one. `validate --skip-unrelated` passes over
/// only files that fail and name none of these: a task definition with a typo, a wrapper it does
/// not know or a syntax error is still an error, never skipped.
pub fn mentions_task_definition(bytes: &[u8]) -> bool {
    const MARKERS: [&[u8]; 4] = [
        b"containerdefinition",
        b"container_definition",
        b"taskdefinition",
        b"task_definition",
    ];
    MARKERS
        .iter()
        .any(|m| bytes.windows(m.len()).any(|w| w.eq_ignore_ascii_case(m)))
}

/// What the one pass read: a plain task definition — a camelCase object with
/// `containerDefinitions` and no `taskDefinition` wrapper, no key repeated — goes into the
/// model straight from the tape ([`TaskDefinition::read_view`]), the commonest file at estate
/// scale never built as a `Value`; anything else (or anything the model reader is unsure of)
/// becomes the `Value` serde_json would have read, and reads as before. Both ways give the
/// same document (the tests compare them).
fn from_one_read(read: OneRead<'_>) -> Result<Document, InputError> {
    let OneRead {
        tape,
        lines,
        upper_key,
        unsure,
    } = read;
    let Some(root) = tape.root() else {
        return from_value_normalised(Value::Null, lines, upper_key);
    };
    let plain = !upper_key
        && !unsure
        && root.get("containerDefinitions").is_some()
        && root.get("taskDefinition").is_none();
    if let Some(model) = plain.then(|| TaskDefinition::read_view(root)).flatten() {
        let label = root
            .get("family")
            .and_then(JsonView::as_str)
            .unwrap_or("(no family)")
            .to_owned();
        return Ok(Document {
            subjects: vec![Subject {
                label,
                definition: Value::Null,
                model: Some(model),
                base: String::new(),
                platform_version: None,
                containers_only: false,
                variables_only: false,
            }],
            is_template: false,
            lines,
        });
    }
    from_value_normalised(root.to_value(), lines, upper_key)
}

/// Reads a task definition handed over as JSON already (Lambda events).
pub fn from_json_value(value: Value) -> Result<Document, InputError> {
    from_value(value, LineMap::default())
}

fn from_value(value: Value, lines: LineMap) -> Result<Document, InputError> {
    from_value_normalised(value, lines, true)
}

/// [`from_value`], normalising keys only when `upper_key` says a key may need it: a document
/// without one is camelCase already, and walking it for nothing cost a fortieth of a scan.
fn from_value_normalised(
    value: Value,
    lines: LineMap,
    upper_key: bool,
) -> Result<Document, InputError> {
    let normalise = |v: Value| if upper_key { normalise(v) } else { v };
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
                model: None,
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
        return Err(InputError::whole(format!(
            "{NOT_A_TASK_DEFINITION}: no containerDefinitions (expected register-task-definition input, describe-task-definition output or a CloudFormation template)",
        )));
    }
    let label = definition
        .get("family")
        .and_then(Value::as_str)
        .unwrap_or("(no family)")
        .to_owned();
    document.subjects.push(Subject {
        label,
        definition,
        model: None,
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
                model: None,
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
            model: None,
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
        // Most files are camelCase already: their maps are kept, only their values walked
        // (rebuilding every map cost an allocation per key and per node).
        Value::Object(mut m) if !m.keys().any(|k| needs_camel(k)) => {
            for (key, v) in m.iter_mut() {
                if !FREE_FORM.contains(&key.as_str()) {
                    *v = normalise(std::mem::take(v));
                }
            }
            Value::Object(m)
        }
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
        Value::Array(mut a) => {
            for v in a.iter_mut() {
                *v = normalise(std::mem::take(v));
            }
            Value::Array(a)
        }
        other => other,
    }
}

/// Whether [`camel`] changes `key`.
fn needs_camel(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_uppercase())
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Reads `text` both ways — the plain path from the one pass's tape, and its `Value`
    /// through [`from_value_normalised`] — asserts they give the same document, and says
    /// whether the plain path read it.
    fn read_alike(text: &str) -> bool {
        let read = parse_with_lines(text).expect("plain valid JSON");
        let by_value = from_value_normalised(
            read.tape.to_value(),
            LineMap::from_json(text),
            read.upper_key,
        );
        let direct = from_one_read(read);
        let (direct, by_value) = match (direct, by_value) {
            (Ok(d), Ok(v)) => (d, v),
            (Err(d), Err(v)) => {
                assert_eq!(format!("{d:?}"), format!("{v:?}"), "{text}");
                return false;
            }
            (d, v) => panic!("one way fails: {d:?} / {v:?} for {text}"),
        };
        assert_eq!(direct.is_template, by_value.is_template, "{text}");
        assert!(direct.lines == by_value.lines, "lines differ for {text}");
        assert_eq!(direct.subjects.len(), by_value.subjects.len(), "{text}");
        let mut plain = false;
        for (d, v) in direct.subjects.iter().zip(&by_value.subjects) {
            assert_eq!(
                (
                    &d.label,
                    &d.base,
                    &d.platform_version,
                    d.containers_only,
                    d.variables_only
                ),
                (
                    &v.label,
                    &v.base,
                    &v.platform_version,
                    v.containers_only,
                    v.variables_only
                ),
                "{text}"
            );
            assert!(v.model.is_none());
            let model = |s: &Subject| match &s.model {
                Some(m) => Ok(m.clone()),
                None => TaskDefinition::from_json(&s.definition).map_err(|e| e.to_string()),
            };
            assert_eq!(model(d), model(v), "{text}");
            if d.model.is_some() {
                assert!(d.definition.is_null());
                plain = true;
            } else {
                assert_eq!(d.definition, v.definition, "{text}");
            }
        }
        plain
    }

    /// `n` Docker labels, `"l0": "v", …`.
    fn labels(n: usize) -> String {
        (0..n)
            .map(|i| format!("\"l{i}\": \"v\""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    #[test]
    fn plain_task_definitions_are_read_without_a_value_and_as_one_would_be() {
        // The plain path: camelCase register-task-definition input.
        for text in [
            r#"{"family": "web", "containerDefinitions": []}"#,
            r#"{"containerDefinitions": [{"name": "a", "environment": [{"name": "A", "value": 8080}, {"name": "B", "value": "caf\u00e9 \"q\""}]}], "revision": 3}"#,
            r#"{"family": 7, "containerDefinitions": [{"name": "a", "privileged": "TRUE", "dockerLabels": {"team": null, "x": "y"}}, {"fn": 1}]}"#,
            // Keys written with escapes, non-ASCII keys, `containerDefinitions: null`.
            r#"{"\u0066amily": "web", "\u0063ontainerDefinitions": [{"n\u0061me": "a", "é": 1}]}"#,
            r#"{"family": "web", "containerDefinitions": null}"#,
            // 32 labels: still sure.
            &format!(r#"{{"containerDefinitions": [{{"name": "a", "dockerLabels": {{{}}}}}]}}"#, labels(32)),
            // serde reads a struct's list from an object as an empty list: so does the tape.
            r#"{"family": "web", "containerDefinitions": {"name": "a"}}"#,
            "{\n  \"family\": \"web\",\n  \"containerDefinitions\": [\n    {\"name\": \"a\", \"secrets\": [{\"name\": \"S\", \"valueFrom\": 5}, null]}\n  ]\n}",
        ] {
            assert!(read_alike(text), "not read on the plain path: {text}");
        }
        // Not plain — PascalCase, the describe wrapper, a template, a list, a repeated key, a
        // wrong type (the model reader is unsure; serde names the field) — read as a `Value`.
        for text in [
            r#"{"Family": "web", "ContainerDefinitions": []}"#,
            r#"{"family": "web", "containerDefinitions": [{"Name": "a"}]}"#,
            r#"{"taskDefinition": {"family": "web", "containerDefinitions": []}}"#,
            r#"{"Resources": {"T": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": []}}}}"#,
            r#"[{"name": "a", "image": "b"}]"#,
            r#"{"family": "a", "family": "b", "containerDefinitions": []}"#,
            // Repeated once unescaped; the wrapper and a template written with escapes.
            r#"{"family": "web", "containerDefinitions": [{"name": "a", "n\u0061me": "b"}]}"#,
            r#"{"taskDefinitio\u006e": {"family": "web", "containerDefinitions": []}}"#,
            r#"{"\u0052esources": {}, "containerDefinitions": []}"#,
            // 33 labels: unsure, read as a `Value` (which holds them all).
            &format!(
                r#"{{"containerDefinitions": [{{"name": "a", "dockerLabels": {{{}}}}}]}}"#,
                labels(33)
            ),
            r#"{"family": "web", "containerDefinitions": [{"name": "a", "environment": [{"name": "A", "value": {"Ref": "X", "Ref": "Y"}}]}]}"#,
            r#"{"family": "web", "containerDefinitions": [{"name": "a", "privileged": "yes"}]}"#,
            r#"{"family": "web"}"#,
            r#""a string""#,
        ] {
            assert!(!read_alike(text), "read on the plain path: {text}");
        }
    }

    /// JSON text of an object of `members`, each member left out, written once, twice (a
    /// repeated key) or PascalCase, with an unknown member now and then; with `odd` false,
    /// every member once or not at all.
    fn object(
        odd: bool,
        members: Vec<(&'static str, BoxedStrategy<String>)>,
    ) -> BoxedStrategy<String> {
        let each: Vec<_> = members
            .into_iter()
            .map(|(key, value)| {
                (0..16u8, value.clone(), value).prop_map(move |(how, a, b)| {
                    let pascal = format!("{}{}", key[..1].to_ascii_uppercase(), &key[1..]);
                    match how {
                        0 => String::new(),
                        1 if odd => format!("\"{key}\": {a}, \"{key}\": {b}"),
                        2 if odd => format!("\"{pascal}\": {a}"),
                        _ => format!("\"{key}\": {a}"),
                    }
                })
            })
            .collect();
        (each, any::<bool>())
            .prop_map(|(members, unknown)| {
                let mut members: Vec<String> =
                    members.into_iter().filter(|m| !m.is_empty()).collect();
                if unknown {
                    members.push("\"cpu\": 256".to_owned());
                }
                format!("{{{}}}", members.join(",\n"))
            })
            .boxed()
    }

    /// A string (hostile ones too); with `odd`, also numbers, booleans, `null`, intrinsics (one
    /// with a repeated key), lists and objects.
    fn text(odd: bool) -> BoxedStrategy<String> {
        let strings = prop_oneof![
            12 => "[a-zA-Z0-9_/:=+ -]{0,24}".prop_map(|s| format!("\"{s}\"")),
            1 => Just(r#""caf\u00e9 \"q\" \\ \n \ud83d\ude00""#.to_owned()),
            1 => Just("\"\u{1f600} é\"".to_owned()),
        ];
        if !odd {
            return strings.boxed();
        }
        prop_oneof![
            4 => strings,
            1 => prop_oneof![
                Just("8080"), Just("-2.5e3"), Just("18446744073709551615"), Just("1E+2"),
                Just("true"), Just("false"), Just("\"TRUE\""), Just("null"),
                Just(r#"{"Ref": "X"}"#), Just(r#"{"Fn::Sub": "${A}"}"#),
                Just(r#"{"Ref": "X", "Ref": "Y"}"#), Just(r#"[1, "a"]"#), Just("{}"),
            ].prop_map(str::to_owned),
        ]
        .boxed()
    }

    fn flag(odd: bool) -> BoxedStrategy<String> {
        prop_oneof![
            8 => prop_oneof![Just("true"), Just("false"), Just("\"TRUE\""), Just("\"false\"")]
                .prop_map(str::to_owned),
            1 => text(odd),
        ]
        .boxed()
    }

    fn many(odd: bool, item: BoxedStrategy<String>) -> BoxedStrategy<String> {
        let list =
            prop::collection::vec(item, 0..4).prop_map(|items| format!("[{}]", items.join(", ")));
        if !odd {
            return list.boxed();
        }
        prop_oneof![8 => list, 1 => text(odd)].boxed()
    }

    /// A task definition, `odd` or not (see the parts above).
    fn definition(odd: bool) -> BoxedStrategy<String> {
        let text = || text(odd);
        let pair = |a: &'static str, b: &'static str| object(odd, vec![(a, text()), (b, text())]);
        let container = object(
            odd,
            vec![
                ("name", text()),
                ("image", text()),
                ("environment", many(odd, pair("name", "value"))),
                ("secrets", many(odd, pair("name", "valueFrom"))),
                ("command", many(odd, text())),
                (
                    "dockerLabels",
                    prop_oneof![object(odd, vec![("team", text()), ("x", text())]), text()].boxed(),
                ),
                (
                    "logConfiguration",
                    object(
                        odd,
                        vec![
                            ("logDriver", text()),
                            ("options", object(odd, vec![("a", text())])),
                            ("secretOptions", many(odd, pair("name", "valueFrom"))),
                        ],
                    ),
                ),
                (
                    "repositoryCredentials",
                    object(odd, vec![("credentialsParameter", text())]),
                ),
                ("privileged", flag(odd)),
                ("user", text()),
                ("readonlyRootFilesystem", flag(odd)),
            ],
        );
        object(
            odd,
            vec![
                ("family", text()),
                ("taskDefinitionArn", text()),
                (
                    "revision",
                    prop_oneof![8 => (0u64..99).prop_map(|n| n.to_string()), 1 => text()].boxed(),
                ),
                ("executionRoleArn", text()),
                ("requiresCompatibilities", many(odd, text())),
                (
                    "runtimePlatform",
                    object(odd, vec![("operatingSystemFamily", text())]),
                ),
                ("containerDefinitions", many(odd, container)),
            ],
        )
    }

    /// A task-definition file: odd or not, and now and then in the describe wrapper or a list.
    fn task_definition() -> BoxedStrategy<String> {
        (any::<bool>(), definition(true), definition(false), 0..6u8)
            .prop_map(|(odd, a, b, how)| {
                let td = if odd { a.clone() } else { b.clone() };
                match how {
                    0 => format!("{{\"taskDefinition\": {td}}}"),
                    1 => format!("[{a}, {b}]"),
                    _ => td,
                }
            })
            .boxed()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// Generated task-definition files — every field left out, repeated, PascalCase or of
        /// the wrong type, hostile strings and numbers, intrinsics (one with a repeated key),
        /// the describe wrapper, lists — read alike both ways, whichever way is taken.
        #[test]
        fn generated_files_read_alike_both_ways(text in task_definition()) {
            read_alike(&text);
        }
    }

    /// The generator reaches the plain path, and not only it.
    #[test]
    fn the_generator_takes_both_paths() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (mut plain, mut other) = (0, 0);
        for _ in 0..400 {
            let text = task_definition().new_tree(&mut runner).unwrap().current();
            if read_alike(&text) {
                plain += 1;
            } else {
                other += 1;
            }
        }
        assert!(plain >= 20 && other >= 20, "plain {plain}, other {other}");
    }
}
