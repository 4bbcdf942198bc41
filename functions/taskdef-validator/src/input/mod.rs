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

use error::{line_col, strip_position};
use json::{json_within_node_limit, parse_with_lines};
use lines::LineMap;
use yaml::load_yaml;

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
        self.lines
            .line_below(&subject.base, &subject.shown_pointer(pointer))
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
                if let Some((value, lines, upper_key)) = parse_with_lines(trimmed) {
                    return from_value_normalised(value, lines, upper_key);
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
