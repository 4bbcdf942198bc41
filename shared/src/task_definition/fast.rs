//! The model read straight from a `serde_json::Value`, without serde's machinery — the path
//! every well-formed task definition takes.
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

use std::collections::BTreeMap;

use serde_json::Value;

use super::{
    is_intrinsic, is_intrinsic_key, lenient_text, reference_field, ContainerDefinition,
    EnvironmentFile, Flag, HealthCheck, KeyValue, LogConfiguration, Many, RepositoryCredentials,
    RuntimePlatform, SecretEntry, TaskDefinition, Text,
};

/// A model type this reader can build from a value (`None`: leave it to serde).
trait Read: Sized {
    fn read(v: &Value) -> Option<Self>;
}

/// The task definition in `v` (an object), or `None` for serde to read.
pub(super) fn read(v: &Value) -> Option<TaskDefinition> {
    TaskDefinition::read(v)
}

/// An optional field: `null` is absent, as serde's `Option` reads it.
fn optional<T: Read>(v: &Value) -> Option<Option<T>> {
    match v {
        Value::Null => Some(None),
        v => T::read(v).map(Some),
    }
}

/// The fields of a struct as serde's derive reads them from an object: each field by its
/// camelCase name or its PascalCase alias, unknown keys ignored, both spellings of one field
/// refused. `names` gives the camelCase names; `set` is called with the field's index.
fn fields(
    v: &Value,
    names: &[&str],
    mut set: impl FnMut(usize, &Value) -> Option<()>,
) -> Option<()> {
    let Value::Object(map) = v else {
        return None;
    };
    let mut seen = 0u64;
    for (key, value) in map {
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
    fn read(v: &Value) -> Option<Self> {
        match v {
            Value::String(s) => Some(Text::Literal(s.clone())),
            Value::Number(n) => Some(Text::Literal(n.to_string())),
            Value::Bool(b) => Some(Text::Literal(b.to_string())),
            v if is_intrinsic(v) => Some(Text::Unresolved(v.clone())),
            _ => None,
        }
    }
}

impl Read for Flag {
    fn read(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(Flag::Literal(*b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(Flag::Literal(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(Flag::Literal(false)),
            v if is_intrinsic(v) => Some(Flag::Unresolved),
            _ => None,
        }
    }
}

impl<T: Read> Read for Many<T> {
    fn read(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(Many::default()),
            Value::Array(list) => {
                let mut items = Vec::with_capacity(list.len());
                for (index, item) in list.iter().enumerate() {
                    if !is_intrinsic(item) {
                        items.push((index, T::read(item)?));
                    }
                }
                Some(Many {
                    items,
                    unresolved: false,
                })
            }
            Value::Object(map) => Some(Many {
                items: Vec::new(),
                unresolved: map.len() == 1 && map.keys().all(|k| is_intrinsic_key(k)),
            }),
            _ => None,
        }
    }
}

/// `dockerLabels`, `logConfiguration.options`: a map of optional texts.
fn text_map(v: &Value) -> Option<Option<BTreeMap<String, Option<Text>>>> {
    match v {
        Value::Null => Some(None),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| Some((k.clone(), optional::<Text>(v)?)))
            .collect::<Option<BTreeMap<_, _>>>()
            .map(Some),
        _ => None,
    }
}

// The lenient entries take any value, as their serde impls do (`null` too: an empty entry in
// a list; as the `repositoryCredentials` field, `optional` reads it as absent first).
impl Read for SecretEntry {
    fn read(v: &Value) -> Option<Self> {
        Some(SecretEntry {
            name: lenient_text(v, "name"),
            value_from: reference_field(v, "valueFrom"),
        })
    }
}

impl Read for EnvironmentFile {
    fn read(v: &Value) -> Option<Self> {
        Some(EnvironmentFile {
            value: lenient_text(v, "value"),
            kind: lenient_text(v, "type"),
        })
    }
}

impl Read for RepositoryCredentials {
    fn read(v: &Value) -> Option<Self> {
        Some(RepositoryCredentials {
            credentials_parameter: reference_field(v, "credentialsParameter"),
        })
    }
}

impl Read for KeyValue {
    fn read(v: &Value) -> Option<Self> {
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
    fn read(v: &Value) -> Option<Self> {
        let mut h = HealthCheck::default();
        fields(v, &["command"], |_, v| {
            h.command = Many::read(v)?;
            Some(())
        })?;
        Some(h)
    }
}

impl Read for LogConfiguration {
    fn read(v: &Value) -> Option<Self> {
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
    fn read(v: &Value) -> Option<Self> {
        let mut p = RuntimePlatform::default();
        fields(v, &["operatingSystemFamily"], |_, v| {
            p.operating_system_family = optional(v)?;
            Some(())
        })?;
        Some(p)
    }
}

impl Read for ContainerDefinition {
    fn read(v: &Value) -> Option<Self> {
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
    fn read(v: &Value) -> Option<Self> {
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
                    td.revision = match v {
                        Value::Null => None,
                        v => Some(v.as_u64()?),
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
