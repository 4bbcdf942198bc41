//! The model read straight from a JSON value, without serde's machinery — the path every
//! well-formed task definition takes.
//!
//! Why: serde reads the model field by field through `serde_path_to_error` (so that a wrong
//! field is named), and the tolerant types (`Text`, `Flag`, list items) can only tell a string
//! from an intrinsic function by first copying the value out whole. A container was copied
//! twice before its fields were read, and at estate scale (`ecs-secrets validate` on
//! thousands of files) that was a seventh of the scan. Here each field is matched once and
//! only the strings the model keeps are copied.
//!
//! This reader only ever succeeds where serde succeeds, with the same model: anything it is not
//! sure of — a field of the wrong type, both spellings of one field (serde's "duplicate
//! field"), a struct written as a list (which serde would read field by field) — makes it give
//! up (`None`), and [`super::TaskDefinition::from_json`] then runs serde, which names the
//! field. The property test in `tests.rs` holds the two to that on generated, partly broken
//! task definitions.
//!
//! The reader is written against [`JsonView`], not `serde_json::Value` alone: the validator's
//! JSON reader builds a lighter document ([`super::JsonTape`]: strings borrowed from the file,
//! every value on one list) and reads the model from that, so a plain task-definition file
//! never becomes a `Value` at all. One reader for both keeps "what the model says" in one place.

use std::collections::BTreeMap;

use serde_json::Value;

use serde_json::Number;

use super::{
    is_intrinsic_key, kind, ContainerDefinition, EnvironmentFile, Flag, HealthCheck, KeyValue,
    ListItem, LogConfiguration, Many, ReferenceText, RepositoryCredentials, RuntimePlatform,
    SecretEntry, TaskDefinition, Text,
};

/// A JSON value as the fast reader sees it: a handle, copied freely, to a value that lives for
/// `'v`. serde_json's `&Value` is one; a reader may give its own document, as long as it holds
/// what serde_json would hold for the same text — in particular no object with a repeated key
/// (serde_json keeps the last value; a document that cannot say the same must not be read
/// through this trait).
pub trait JsonView<'v>: Copy {
    fn is_null(self) -> bool;
    fn as_bool(self) -> Option<bool>;
    fn as_number(self) -> Option<&'v Number>;
    fn as_str(self) -> Option<&'v str>;
    /// A list's items, in order (`None`: not a list).
    fn items(self) -> Option<impl Iterator<Item = Self>>;
    /// The number of a list's items (`None`: not a list).
    fn items_len(self) -> Option<usize>;
    /// An object's members, in any order (the reader does not depend on it).
    fn members(self) -> Option<impl Iterator<Item = (&'v str, Self)>>;
    /// The number of members of an object (`None`: not an object).
    fn object_len(self) -> Option<usize>;
    /// The member `key` of an object.
    fn get(self, key: &str) -> Option<Self>;
    /// The value as serde_json's (an unresolved intrinsic is kept whole in the model).
    fn to_value(self) -> Value;

    /// The kind of the value, for messages that must not show it (as [`kind`]).
    fn kind(self) -> &'static str {
        if self.is_null() {
            "null"
        } else if self.as_bool().is_some() {
            "a boolean"
        } else if self.as_number().is_some() {
            "a number"
        } else if self.as_str().is_some() {
            "a string"
        } else if self.items_len().is_some() {
            "a list"
        } else {
            "an object"
        }
    }
}

impl<'v> JsonView<'v> for &'v Value {
    fn is_null(self) -> bool {
        Value::is_null(self)
    }

    fn as_bool(self) -> Option<bool> {
        Value::as_bool(self)
    }

    fn as_number(self) -> Option<&'v Number> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    fn as_str(self) -> Option<&'v str> {
        Value::as_str(self)
    }

    fn items(self) -> Option<impl Iterator<Item = Self>> {
        Value::as_array(self).map(|a| a.iter())
    }

    fn items_len(self) -> Option<usize> {
        Value::as_array(self).map(Vec::len)
    }

    fn members(self) -> Option<impl Iterator<Item = (&'v str, Self)>> {
        Value::as_object(self).map(|m| m.iter().map(|(k, v)| (k.as_str(), v)))
    }

    fn object_len(self) -> Option<usize> {
        Value::as_object(self).map(serde_json::Map::len)
    }

    fn get(self, key: &str) -> Option<Self> {
        Value::as_object(self).and_then(|m| m.get(key))
    }

    fn to_value(self) -> Value {
        self.clone()
    }

    fn kind(self) -> &'static str {
        kind(self)
    }
}

/// [`super::is_intrinsic`] on any view.
fn is_intrinsic<'v, J: JsonView<'v>>(v: J) -> bool {
    v.object_len() == Some(1)
        && v.members()
            .and_then(|mut m| m.next())
            .is_some_and(|(k, _)| is_intrinsic_key(k))
}

/// A model type this reader can build from a value (`None`: leave it to serde).
trait Read: Sized {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self>;
}

/// The task definition in `v` (an object), or `None` for serde to read.
pub(super) fn read<'v, J: JsonView<'v>>(v: J) -> Option<TaskDefinition> {
    TaskDefinition::read(v)
}

/// An optional field: `null` is absent, as serde's `Option` reads it.
fn optional<'v, T: Read, J: JsonView<'v>>(v: J) -> Option<Option<T>> {
    if v.is_null() {
        return Some(None);
    }
    T::read(v).map(Some)
}

/// The fields of a struct as serde's derive reads them from an object: each field by its
/// camelCase name or its PascalCase alias, unknown keys ignored, both spellings of one field
/// refused. `names` gives the camelCase names; `set` is called with the field's index.
fn fields<'v, J: JsonView<'v>>(
    v: J,
    names: &[&str],
    mut set: impl FnMut(usize, J) -> Option<()>,
) -> Option<()> {
    let mut seen = 0u64;
    for (key, value) in v.members()? {
        let Some(i) = field_index(names, key) else {
            continue;
        };
        if seen & (1 << i) != 0 {
            return None;
        }
        seen |= 1 << i;
        set(i, value)?;
    }
    Some(())
}

/// The index of the field `key` names, exactly or by its PascalCase alias.
fn field_index(names: &[&str], key: &str) -> Option<usize> {
    // Every field name is ASCII: a key that does not start with an ASCII letter names none.
    let first = key.as_bytes().first().filter(|b| b.is_ascii_alphabetic())?;
    let rest = &key[1..];
    names.iter().position(|name| {
        name.len() == key.len()
            && &name[1..] == rest
            && (name.as_bytes()[0] == *first || name.as_bytes()[0].to_ascii_uppercase() == *first)
    })
}

impl Read for Text {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        if let Some(s) = v.as_str() {
            Some(Text::Literal(s.into()))
        } else if let Some(n) = v.as_number() {
            Some(Text::Literal(compact_str::format_compact!("{n}")))
        } else if let Some(b) = v.as_bool() {
            Some(Text::Literal(if b { "true" } else { "false" }.into()))
        } else if is_intrinsic(v) {
            Some(Text::Unresolved(v.to_value()))
        } else {
            None
        }
    }
}

impl Read for Flag {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        if let Some(b) = v.as_bool() {
            return Some(Flag::Literal(b));
        }
        match v.as_str() {
            Some(s) if s.eq_ignore_ascii_case("true") => Some(Flag::Literal(true)),
            Some(s) if s.eq_ignore_ascii_case("false") => Some(Flag::Literal(false)),
            Some(_) => None,
            None => is_intrinsic(v).then_some(Flag::Unresolved),
        }
    }
}

impl<T: Read + ListItem> Read for Many<T> {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        if v.is_null() {
            return Some(Many::default());
        }
        if let Some(list) = v.items() {
            let mut items = Vec::with_capacity(v.items_len().unwrap_or(0));
            for (index, item) in list.enumerate() {
                if T::KEEPS_INTRINSIC || !is_intrinsic(item) {
                    items.push((index, T::read(item)?));
                }
            }
            return Some(Many {
                items,
                unresolved: false,
            });
        }
        let mut members = v.members()?;
        Some(Many {
            items: Vec::new(),
            unresolved: v.object_len() == Some(1) && members.all(|(k, _)| is_intrinsic_key(k)),
        })
    }
}

/// `dockerLabels`, `logConfiguration.options`: a map of optional texts.
fn text_map<'v, J: JsonView<'v>>(v: J) -> Option<Option<BTreeMap<String, Option<Text>>>> {
    if v.is_null() {
        return Some(None);
    }
    v.members()?
        .map(|(k, v)| Some((k.to_owned(), optional::<Text, J>(v)?)))
        .collect::<Option<BTreeMap<_, _>>>()
        .map(Some)
}

/// A field of a lenient entry by its camelCase name, or else its PascalCase one.
fn lenient_field<'v, J: JsonView<'v>>(v: J, camel: &str) -> Option<J> {
    v.object_len()?;
    v.get(camel).or_else(|| {
        let (first, rest) = camel.split_at_checked(1)?;
        v.get(&format!("{}{rest}", first.to_ascii_uppercase()))
    })
}

/// A string (or intrinsic) field read leniently: anything else is as if absent.
pub(super) fn lenient_text<'v, J: JsonView<'v>>(v: J, camel: &str) -> Option<Text> {
    let field = lenient_field(v, camel)?;
    match field.as_str() {
        Some(s) => Some(Text::Literal(s.into())),
        None => is_intrinsic(field).then(|| Text::Unresolved(field.to_value())),
    }
}

/// A reference field: present (whatever it holds) or absent.
pub(super) fn reference_field<'v, J: JsonView<'v>>(v: J, camel: &str) -> Option<ReferenceText> {
    lenient_field(v, camel).map(|r| match r.as_str() {
        Some(s) => ReferenceText::Literal(s.into()),
        None if is_intrinsic(r) => ReferenceText::Unresolved(r.to_value()),
        None => ReferenceText::NotAString(r.kind()),
    })
}

// The lenient entries take any value, as their serde impls do (`null` too: an empty entry in
// a list; as the `repositoryCredentials` field, `optional` reads it as absent first).
impl Read for SecretEntry {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        Some(SecretEntry {
            name: lenient_text(v, "name"),
            value_from: reference_field(v, "valueFrom"),
        })
    }
}

impl Read for EnvironmentFile {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        Some(EnvironmentFile {
            value: lenient_text(v, "value"),
            kind: lenient_text(v, "type"),
        })
    }
}

impl Read for RepositoryCredentials {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        Some(RepositoryCredentials {
            credentials_parameter: reference_field(v, "credentialsParameter"),
        })
    }
}

impl Read for KeyValue {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        let mut kv = KeyValue::default();
        fields(v, &["name", "value"], |i, v| {
            match i {
                0 => kv.name = optional(v)?,
                _ => kv.value = optional(v)?,
            }
            Some(())
        })?;
        Some(kv)
    }
}

impl Read for HealthCheck {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        let mut h = HealthCheck::default();
        fields(v, &["command"], |_, v| {
            h.command = Many::read(v)?;
            Some(())
        })?;
        Some(h)
    }
}

impl Read for LogConfiguration {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        let mut l = LogConfiguration::default();
        fields(v, &["logDriver", "options", "secretOptions"], |i, v| {
            match i {
                0 => l.log_driver = optional(v)?,
                1 => l.options = text_map(v)?,
                _ => l.secret_options = Many::read(v)?,
            }
            Some(())
        })?;
        Some(l)
    }
}

impl Read for RuntimePlatform {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        let mut p = RuntimePlatform::default();
        fields(v, &["operatingSystemFamily"], |_, v| {
            p.operating_system_family = optional(v)?;
            Some(())
        })?;
        Some(p)
    }
}

impl Read for ContainerDefinition {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        const NAMES: &[&str] = &[
            "name",
            "image",
            "environment",
            "environmentFiles",
            "secrets",
            "command",
            "entryPoint",
            "healthCheck",
            "dockerLabels",
            "logConfiguration",
            "repositoryCredentials",
            "privileged",
            "user",
            "readonlyRootFilesystem",
        ];
        let mut c = ContainerDefinition::default();
        fields(v, NAMES, |i, v| {
            match i {
                0 => c.name = optional(v)?,
                1 => c.image = optional(v)?,
                2 => c.environment = Many::read(v)?,
                3 => c.environment_files = Many::read(v)?,
                4 => c.secrets = Many::read(v)?,
                5 => c.command = Many::read(v)?,
                6 => c.entry_point = Many::read(v)?,
                7 => c.health_check = optional(v)?,
                8 => c.docker_labels = text_map(v)?,
                9 => c.log_configuration = optional(v)?,
                10 => c.repository_credentials = optional(v)?,
                11 => c.privileged = optional(v)?,
                12 => c.user = optional(v)?,
                _ => c.readonly_root_filesystem = optional(v)?,
            }
            Some(())
        })?;
        Some(c)
    }
}

impl Read for TaskDefinition {
    fn read<'v, J: JsonView<'v>>(v: J) -> Option<Self> {
        const NAMES: &[&str] = &[
            "taskDefinitionArn",
            "family",
            "revision",
            "executionRoleArn",
            "taskRoleArn",
            "networkMode",
            "requiresCompatibilities",
            "runtimePlatform",
            "containerDefinitions",
        ];
        let mut td = TaskDefinition::default();
        fields(v, NAMES, |i, v| {
            match i {
                0 => td.task_definition_arn = optional(v)?,
                1 => td.family = optional(v)?,
                2 => {
                    td.revision = if v.is_null() {
                        None
                    } else {
                        Some(v.as_number()?.as_u64()?)
                    }
                }
                3 => td.execution_role_arn = optional(v)?,
                4 => td.task_role_arn = optional(v)?,
                5 => td.network_mode = optional(v)?,
                6 => td.requires_compatibilities = Many::read(v)?,
                7 => td.runtime_platform = optional(v)?,
                _ => td.container_definitions = Many::read(v)?,
            }
            Some(())
        })?;
        Some(td)
    }
}
