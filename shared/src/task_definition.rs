//! One typed model of an ECS task definition, for every function that reads one.
//!
//! The validator's rules and the redeployer's matching read task definitions from two places:
//! JSON (files in a repository, CloudFormation templates, the `requestParameters` of an
//! EventBridge event) and the SDK's `DescribeTaskDefinition` output. Walking each shape on its
//! own meant three walks that had to be kept in step by hand — a field a new rule read was
//! silently absent on one path. Here there are exactly two ways in, [`TaskDefinition::from_json`]
//! and (with the `ecs` feature) `From<&aws_sdk_ecs::types::TaskDefinition>`, and one way out
//! for references, [`TaskDefinition::references`], which the validator and the redeployer both
//! use. So the two cannot disagree about what a task definition references.
//!
//! JSON is read tolerantly, because it is often read *before* anything resolves it:
//! - both camelCase (ECS's API) and PascalCase (CloudFormation's properties) field names;
//! - unknown fields are ignored (ECS adds fields every year);
//! - a CloudFormation intrinsic function (`{"Ref": …}`, `{"Fn::…": …}`) may stand wherever a
//!   string, a flag, a list item or a whole list is expected: it is kept as
//!   [`Text::Unresolved`], a skipped list item, or an unresolved [`Many`];
//! - list items keep their index, so pointers name the right element.
//!
//! A field of the wrong type is a [`ShapeError`] naming the field; the message never repeats
//! the value (it may be a credential).

use std::collections::BTreeMap;
use std::fmt;

use compact_str::CompactString;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ShapeError;
use crate::reference::{Location, SecretReference};
use crate::ReferenceError;

/// Is this object a CloudFormation intrinsic function (`Ref`, `Fn::…`, `Condition`)?
pub fn is_intrinsic(v: &Value) -> bool {
    match v {
        Value::Object(m) if m.len() == 1 => m.keys().next().is_some_and(|k| is_intrinsic_key(k)),
        _ => false,
    }
}

fn is_intrinsic_key(k: &str) -> bool {
    k == "Ref" || k == "Condition" || k.starts_with("Fn::")
}

/// The kind of a JSON value, for messages that must not show the value itself.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A string field: a literal, or an expression left for CloudFormation to resolve.
///
/// A literal is a [`CompactString`]: most strings of a task definition are short (variable
/// names, flags, numbers, `true`) and are held inline rather than each allocated and freed —
/// about 3% of `ecs-secrets validate` on the typical generated corpus. It reads as a `&str`.
#[derive(Debug, Clone, PartialEq)]
pub enum Text {
    Literal(CompactString),
    Unresolved(Value),
}

impl Text {
    pub fn literal(&self) -> Option<&str> {
        match self {
            Text::Literal(s) => Some(s),
            Text::Unresolved(_) => None,
        }
    }

    /// Every string inside, literal or within an intrinsic function (`Fn::Sub` templates,
    /// `Fn::Join` parts).
    pub fn strings(&self) -> Vec<&str> {
        fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::String(s) => out.push(s),
                Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
                Value::Object(m) => m.values().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        match self {
            Text::Literal(s) => vec![s.as_str()],
            Text::Unresolved(v) => {
                let mut out = Vec::new();
                walk(v, &mut out);
                out
            }
        }
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(Text::Literal(s.into())),
            // Templates write `Value: 8080`; ECS would have the string.
            Value::Number(n) => Ok(Text::Literal(compact_str::format_compact!("{n}"))),
            Value::Bool(b) => Ok(Text::Literal(if b { "true" } else { "false" }.into())),
            v if is_intrinsic(&v) => Ok(Text::Unresolved(v)),
            v => Err(de::Error::custom(format!(
                "expected a string, found {}",
                kind(&v)
            ))),
        }
    }
}

/// A field that holds a secret reference (`valueFrom`, `credentialsParameter`). Unlike
/// [`Text`], anything that is not a string is kept rather than failing the whole task
/// definition, so the validator can point at the one broken reference.
#[derive(Debug, Clone, PartialEq)]
pub enum ReferenceText {
    /// Held as [`Text::Literal`] is.
    Literal(CompactString),
    /// A CloudFormation intrinsic function: fine, resolved at deployment.
    Unresolved(Value),
    /// Neither: the kind of value found (`a number`, `a list`, …).
    NotAString(&'static str),
}

impl<'de> Deserialize<'de> for ReferenceText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => ReferenceText::Literal(s.into()),
            v if is_intrinsic(&v) => ReferenceText::Unresolved(v),
            v => ReferenceText::NotAString(kind(&v)),
        })
    }
}

/// A boolean field: `true`/`false` (or their strings), or unresolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Literal(bool),
    Unresolved,
}

impl Flag {
    pub fn is_true(self) -> bool {
        self == Flag::Literal(true)
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(b) => Ok(Flag::Literal(b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Flag::Literal(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Flag::Literal(false)),
            v if is_intrinsic(&v) => Ok(Flag::Unresolved),
            v => Err(de::Error::custom(format!(
                "expected true or false, found {}",
                kind(&v)
            ))),
        }
    }
}

/// A list whose items keep their index. An intrinsic item (`!If`, `!Sub`, `!Ref
/// AWS::NoValue`) is kept as the expression in a list of strings, as a string field keeps one
/// ([`ListItem::KEEPS_INTRINSIC`]): a command argument written as `!Sub "mysql -pS3cret -h
/// ${Db}"` holds the text it will be, and a reader that only wants literals sees no literal
/// there, as before. In a list of anything else it is skipped. An intrinsic in place of the
/// whole list leaves it empty and `unresolved`.
#[derive(Debug, Clone, PartialEq)]
pub struct Many<T> {
    pub items: Vec<(usize, T)>,
    /// The whole list is an intrinsic function (`ContainerDefinitions: !If […]`): its items
    /// are computed at deployment and none of them is here.
    pub unresolved: bool,
}

impl<T> Default for Many<T> {
    fn default() -> Self {
        Many {
            items: Vec::new(),
            unresolved: false,
        }
    }
}

impl<T> Many<T> {
    pub fn iter(&self) -> impl Iterator<Item = &(usize, T)> {
        self.items.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    #[cfg(feature = "ecs")]
    fn indexed(items: impl IntoIterator<Item = T>) -> Self {
        Many {
            items: items.into_iter().enumerate().collect(),
            unresolved: false,
        }
    }
}

/// What a [`Many`] does with an item that is an intrinsic function.
pub trait ListItem {
    /// Kept as the item type's own reading of the expression (a [`Text::Unresolved`]), rather
    /// than skipped.
    const KEEPS_INTRINSIC: bool = false;
}

impl ListItem for Text {
    const KEEPS_INTRINSIC: bool = true;
}
impl ListItem for ContainerDefinition {}
impl ListItem for KeyValue {}
impl ListItem for EnvironmentFile {}
impl ListItem for SecretEntry {}

enum Item<T> {
    Known(T),
    Unresolved,
}

impl<'de, T: Deserialize<'de> + ListItem> Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        if is_intrinsic(&v) && !T::KEEPS_INTRINSIC {
            return Ok(Item::Unresolved);
        }
        // A fresh path tracker: the outer one stops at the list index.
        serde_path_to_error::deserialize(v)
            .map(Item::Known)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner().to_string();
                de::Error::custom(if path == "." {
                    inner
                } else {
                    format!("{path}: {inner}")
                })
            })
    }
}

impl<'de, T: Deserialize<'de> + ListItem> Deserialize<'de> for Many<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + ListItem> Visitor<'de> for V<T> {
            type Value = Many<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Many<T>, A::Error> {
                let mut items = Vec::new();
                let mut index = 0;
                while let Some(item) = seq.next_element::<Item<T>>()? {
                    if let Item::Known(t) = item {
                        items.push((index, t));
                    }
                    index += 1;
                }
                Ok(Many {
                    items,
                    unresolved: false,
                })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Many<T>, A::Error> {
                // A map in place of the list: nothing to check statically. It is unresolved
                // when it is an intrinsic function (one key, `Ref`/`Fn::…`/`Condition`).
                let mut keys = 0;
                let mut intrinsic = false;
                while let Some((k, _)) = map.next_entry::<String, de::IgnoredAny>()? {
                    keys += 1;
                    intrinsic = is_intrinsic_key(&k);
                }
                Ok(Many {
                    items: Vec::new(),
                    unresolved: keys == 1 && intrinsic,
                })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Many<T>, E> {
                Ok(Many::default())
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A task definition: what `register-task-definition` takes and `describe-task-definition`
/// returns, limited to the fields some rule or the redeployer reads.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TaskDefinition {
    #[serde(alias = "TaskDefinitionArn")]
    pub task_definition_arn: Option<Text>,
    #[serde(alias = "Family")]
    pub family: Option<Text>,
    #[serde(alias = "Revision")]
    pub revision: Option<u64>,
    #[serde(alias = "ExecutionRoleArn")]
    pub execution_role_arn: Option<Text>,
    #[serde(alias = "TaskRoleArn")]
    pub task_role_arn: Option<Text>,
    #[serde(alias = "NetworkMode")]
    pub network_mode: Option<Text>,
    #[serde(alias = "RequiresCompatibilities")]
    pub requires_compatibilities: Many<Text>,
    #[serde(alias = "RuntimePlatform")]
    pub runtime_platform: Option<RuntimePlatform>,
    #[serde(alias = "ContainerDefinitions")]
    pub container_definitions: Many<ContainerDefinition>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RuntimePlatform {
    #[serde(alias = "OperatingSystemFamily")]
    pub operating_system_family: Option<Text>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContainerDefinition {
    #[serde(alias = "Name")]
    pub name: Option<Text>,
    #[serde(alias = "Image")]
    pub image: Option<Text>,
    #[serde(alias = "Environment")]
    pub environment: Many<KeyValue>,
    #[serde(alias = "EnvironmentFiles")]
    pub environment_files: Many<EnvironmentFile>,
    #[serde(alias = "Secrets")]
    pub secrets: Many<SecretEntry>,
    #[serde(alias = "Command")]
    pub command: Many<Text>,
    #[serde(alias = "EntryPoint")]
    pub entry_point: Many<Text>,
    #[serde(alias = "HealthCheck")]
    pub health_check: Option<HealthCheck>,
    #[serde(alias = "DockerLabels")]
    pub docker_labels: Option<BTreeMap<String, Option<Text>>>,
    #[serde(alias = "LogConfiguration")]
    pub log_configuration: Option<LogConfiguration>,
    #[serde(alias = "RepositoryCredentials")]
    pub repository_credentials: Option<RepositoryCredentials>,
    #[serde(alias = "Privileged")]
    pub privileged: Option<Flag>,
    #[serde(alias = "User")]
    pub user: Option<Text>,
    #[serde(alias = "ReadonlyRootFilesystem")]
    pub readonly_root_filesystem: Option<Flag>,
}

impl ContainerDefinition {
    pub fn name(&self) -> Option<&str> {
        self.name.as_ref().and_then(Text::literal)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KeyValue {
    #[serde(alias = "Name")]
    pub name: Option<Text>,
    #[serde(alias = "Value")]
    pub value: Option<Text>,
}

/// `secrets[]` and `logConfiguration.secretOptions[]`: a name and where its value comes from.
///
/// Read leniently, as the places that hold references are: an entry that is not an object, or
/// whose name is not a string, is kept (without that part) rather than failing the whole task
/// definition — one odd entry must not hide every other finding — and a `valueFrom` that is
/// present but not a string (`null` included) is kept as [`ReferenceText::NotAString`], so the
/// validator can point at it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecretEntry {
    pub name: Option<Text>,
    pub value_from: Option<ReferenceText>,
}

/// `environmentFiles[]` (read leniently, as [`SecretEntry`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvironmentFile {
    pub value: Option<Text>,
    pub kind: Option<Text>,
}

/// `repositoryCredentials` (read leniently, as [`SecretEntry`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepositoryCredentials {
    pub credentials_parameter: Option<ReferenceText>,
}

// The lenient entries' fields are read as the fast reader reads them (one implementation for
// both readers, over any `JsonView`).
use fast::{lenient_text, reference_field};

impl<'de> Deserialize<'de> for SecretEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(SecretEntry {
            name: lenient_text(&v, "name"),
            value_from: reference_field(&v, "valueFrom"),
        })
    }
}

impl<'de> Deserialize<'de> for EnvironmentFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(EnvironmentFile {
            value: lenient_text(&v, "value"),
            kind: lenient_text(&v, "type"),
        })
    }
}

impl<'de> Deserialize<'de> for RepositoryCredentials {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(RepositoryCredentials {
            credentials_parameter: reference_field(&v, "credentialsParameter"),
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HealthCheck {
    #[serde(alias = "Command")]
    pub command: Many<Text>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LogConfiguration {
    #[serde(alias = "LogDriver")]
    pub log_driver: Option<Text>,
    #[serde(alias = "Options")]
    pub options: Option<BTreeMap<String, Option<Text>>>,
    #[serde(alias = "SecretOptions")]
    pub secret_options: Many<SecretEntry>,
}

/// A reference found in a task definition, with where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundReference {
    /// Index of the container in `containerDefinitions`.
    pub container_index: usize,
    /// The container's `name`, if it has one.
    pub container: Option<CompactString>,
    pub location: Location,
    /// For `secrets` and `secretOptions`: the `name` of the entry (the variable or option).
    pub entry_name: Option<CompactString>,
    /// JSON pointer to the reference string (camelCase whatever the input's case), e.g.
    /// `/containerDefinitions/0/secrets/2/valueFrom`.
    pub pointer: String,
    /// The string, or `None` when the field is not a string.
    pub raw: Option<String>,
    /// The field is a CloudFormation intrinsic function, resolved only at deployment.
    pub unresolved: bool,
    /// The parsed reference, when `raw` is a string.
    pub parsed: Option<Result<SecretReference, ReferenceError>>,
}

impl TaskDefinition {
    /// Reads a task definition from JSON in the `register-task-definition` /
    /// `describe-task-definition` shape (camelCase) or as CloudFormation properties
    /// (PascalCase). The error names the field
    /// (`containerDefinitions[0].environment[2].value: expected a string…`).
    pub fn from_json(v: &Value) -> Result<Self, ShapeError> {
        // serde would read a struct from a list, field by field in order.
        if !v.is_object() {
            return Err(ShapeError::new(
                ".",
                format!("expected a task definition (an object), found {}", kind(v)),
            ));
        }
        // Well-formed task definitions are read without serde (`fast.rs`); serde reads the
        // rest, and names the field that is wrong.
        if let Some(model) = fast::read(v) {
            return Ok(model);
        }
        Self::from_json_by_serde(v)
    }

    /// The task definition in a JSON value of any [`JsonView`] (the validator reads files into
    /// a [`JsonTape`]), when it reads without doubt; `None` when anything is unsure, and the
    /// caller then reads it as a `serde_json::Value` through [`TaskDefinition::from_json`],
    /// which names what is wrong. Where this answers, it answers as `from_json` would.
    pub fn read_view<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        fast::read(v)
    }

    /// [`TaskDefinition::from_json`] through serde only (what the fast reader is held to).
    fn from_json_by_serde(v: &Value) -> Result<Self, ShapeError> {
        serde_path_to_error::deserialize(v).map_err(|e| {
            let path = e.path().to_string();
            ShapeError::new(path, without_values(&e.into_inner().to_string()))
        })
    }

    /// The task definition's own literal ARN, if it has one.
    pub fn arn(&self) -> Option<&str> {
        self.task_definition_arn
            .as_ref()
            .and_then(Text::literal)
            .filter(|a| !a.is_empty())
    }

    /// Every secret or parameter reference — `secrets[].valueFrom`,
    /// `logConfiguration.secretOptions[].valueFrom`,
    /// `repositoryCredentials.credentialsParameter` — in container order, each with its pointer.
    pub fn references(&self) -> Vec<FoundReference> {
        let mut found = Vec::new();
        for (ci, container) in self.container_definitions.iter() {
            let base: String = PointerBuf::new("")
                .key("containerDefinitions")
                .index(*ci)
                .into();
            let mut push =
                |location, entry_name: Option<CompactString>, pointer, text: &ReferenceText| {
                    let raw = match text {
                        ReferenceText::Literal(s) => Some(s.to_string()),
                        _ => None,
                    };
                    let parsed = raw.as_deref().map(|r| SecretReference::parse(r, location));
                    found.push(FoundReference {
                        container_index: *ci,
                        container: container.name().map(CompactString::from),
                        location,
                        entry_name,
                        pointer,
                        raw,
                        unresolved: matches!(text, ReferenceText::Unresolved(_)),
                        parsed,
                    });
                };
            let entry_name = |e: &SecretEntry| {
                e.name
                    .as_ref()
                    .and_then(Text::literal)
                    .map(CompactString::from)
            };
            for (si, secret) in container.secrets.iter() {
                if let Some(v) = &secret.value_from {
                    push(
                        Location::ContainerSecret,
                        entry_name(secret),
                        PointerBuf::new(&base)
                            .key("secrets")
                            .index(*si)
                            .key("valueFrom")
                            .into(),
                        v,
                    );
                }
            }
            if let Some(log) = &container.log_configuration {
                for (oi, option) in log.secret_options.iter() {
                    if let Some(v) = &option.value_from {
                        push(
                            Location::LogSecretOption,
                            entry_name(option),
                            PointerBuf::new(&base)
                                .key("logConfiguration")
                                .key("secretOptions")
                                .index(*oi)
                                .key("valueFrom")
                                .into(),
                            v,
                        );
                    }
                }
            }
            if let Some(v) = container
                .repository_credentials
                .as_ref()
                .and_then(|r| r.credentials_parameter.as_ref())
            {
                push(
                    Location::RepositoryCredentials,
                    None,
                    PointerBuf::new(&base)
                        .key("repositoryCredentials")
                        .key("credentialsParameter")
                        .into(),
                    v,
                );
            }
        }
        found
    }
}

/// A JSON pointer built one segment at a time into one allocation, without the formatting
/// machinery: a scan builds one for each reference and each finding of every task definition,
/// and `format!` cost a thirtieth of it. Segments are written as given: escape a key that may
/// hold `~` or `/` first.
#[derive(Debug)]
pub struct PointerBuf(String);

impl PointerBuf {
    /// Room for a task definition's deepest pointers without growing.
    const ROOM: usize = 48;

    pub fn new(base: &str) -> Self {
        let mut s = String::with_capacity(base.len() + Self::ROOM);
        s.push_str(base);
        PointerBuf(s)
    }

    /// `/segment`.
    pub fn key(mut self, segment: &str) -> Self {
        self.0.push('/');
        self.0.push_str(segment);
        self
    }

    /// `/i`, in decimal.
    pub fn index(mut self, i: usize) -> Self {
        let mut digits = [0u8; 20];
        self.0.push('/');
        self.0.push_str(decimal(i, &mut digits));
        self
    }
}

impl From<PointerBuf> for String {
    fn from(p: PointerBuf) -> String {
        p.0
    }
}

/// `n` in decimal, written into `buf`.
pub fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &str {
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

/// serde quotes the offending string (`invalid type: string "DB_PASSWORD=…"`, escaped as Rust's
/// `Debug` does); the message must not, as the string may be a credential. Each quoted string —
/// to its real closing quote, past any escaped `\"` inside it — becomes `a string`.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("string \"") {
        out.push_str(&rest[..at]);
        out.push_str("a string");
        let after = &rest[at + "string \"".len()..];
        let mut end = None;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        // An unterminated quote: drop everything after it.
        rest = end.map_or("", |e| &after[e + 1..]);
    }
    out.push_str(rest);
    // serde names other scalars with their value too: integer `1`, floating point `1.5`,
    // boolean `true`. A number may be a PIN.
    for (kind, plain) in [
        ("integer `", "an integer"),
        ("floating point `", "a number"),
        ("boolean `", "a boolean"),
    ] {
        while let Some(at) = out.find(kind) {
            let after = at + kind.len();
            let end = out[after..].find('`').map_or(out.len(), |e| after + e + 1);
            out.replace_range(at..end, plain);
        }
    }
    out
}

/// `DescribeTaskDefinition`'s answer in the same model: every field literal, every list item
/// at its own index.
#[cfg(feature = "ecs")]
mod sdk {
    use aws_sdk_ecs::types as ecs;

    use super::*;

    fn text(s: Option<&str>) -> Option<Text> {
        s.map(|s| Text::Literal(s.into()))
    }

    fn texts(list: &[String]) -> Many<Text> {
        Many::indexed(list.iter().map(|s| Text::Literal(s.as_str().into())))
    }

    fn entry(s: &ecs::Secret) -> SecretEntry {
        SecretEntry {
            name: Some(Text::Literal(s.name().into())),
            value_from: Some(ReferenceText::Literal(s.value_from().into())),
        }
    }

    fn map(m: &std::collections::HashMap<String, String>) -> BTreeMap<String, Option<Text>> {
        m.iter()
            .map(|(k, v)| (k.clone(), Some(Text::Literal(v.as_str().into()))))
            .collect()
    }

    impl From<&ecs::ContainerDefinition> for ContainerDefinition {
        fn from(c: &ecs::ContainerDefinition) -> Self {
            ContainerDefinition {
                name: text(c.name()),
                image: text(c.image()),
                environment: Many::indexed(c.environment().iter().map(|kv| KeyValue {
                    name: text(kv.name()),
                    value: text(kv.value()),
                })),
                environment_files: Many::indexed(c.environment_files().iter().map(|f| {
                    EnvironmentFile {
                        value: Some(Text::Literal(f.value().into())),
                        kind: Some(Text::Literal(f.r#type().as_str().into())),
                    }
                })),
                secrets: Many::indexed(c.secrets().iter().map(entry)),
                command: texts(c.command()),
                entry_point: texts(c.entry_point()),
                health_check: c.health_check().map(|h| HealthCheck {
                    command: texts(h.command()),
                }),
                docker_labels: c.docker_labels().map(map),
                log_configuration: c.log_configuration().map(|l| LogConfiguration {
                    log_driver: Some(Text::Literal(l.log_driver().as_str().into())),
                    options: l.options().map(map),
                    secret_options: Many::indexed(l.secret_options().iter().map(entry)),
                }),
                repository_credentials: c.repository_credentials().map(|r| RepositoryCredentials {
                    credentials_parameter: Some(ReferenceText::Literal(
                        r.credentials_parameter().into(),
                    )),
                }),
                privileged: c.privileged().map(Flag::Literal),
                user: text(c.user()),
                readonly_root_filesystem: c.readonly_root_filesystem().map(Flag::Literal),
            }
        }
    }

    impl From<&ecs::TaskDefinition> for TaskDefinition {
        fn from(td: &ecs::TaskDefinition) -> Self {
            TaskDefinition {
                task_definition_arn: text(td.task_definition_arn()),
                family: text(td.family()),
                revision: u64::try_from(td.revision()).ok().filter(|r| *r > 0),
                execution_role_arn: text(td.execution_role_arn()),
                task_role_arn: text(td.task_role_arn()),
                network_mode: text(td.network_mode().map(|m| m.as_str())),
                requires_compatibilities: Many::indexed(
                    td.requires_compatibilities()
                        .iter()
                        .map(|c| Text::Literal(c.as_str().into())),
                ),
                runtime_platform: td.runtime_platform().map(|p| RuntimePlatform {
                    operating_system_family: text(p.operating_system_family().map(|f| f.as_str())),
                }),
                container_definitions: Many::indexed(
                    td.container_definitions()
                        .iter()
                        .map(ContainerDefinition::from),
                ),
            }
        }
    }
}

mod fast;
mod tree;
pub use fast::JsonView;
pub use tree::{JsonRef, JsonTape, TapeNode};

#[cfg(test)]
mod tests;
