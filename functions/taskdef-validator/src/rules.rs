//! The offline rules: everything that can be decided from the task definition alone.
//!
//! The rules read the shared task-definition model
//! ([`ecs_secrets_shared::task_definition`]) and its references, the same model and the same
//! walk the redeployer matches with, so "valid" means the same thing in both functions.

use std::borrow::Cow;

use ecs_secrets_shared::arn::Arn;
use ecs_secrets_shared::reference::{
    SecretReference, SecretTarget, TaskContext, Tracks, VersionSelector,
};
use ecs_secrets_shared::task_definition::{
    ContainerDefinition, Flag, FoundReference, PointerBuf, TaskDefinition, Text,
};
use ecs_secrets_shared::ShapeError;
use serde_json::Value;

use crate::detect;
use crate::finding::{rule, Finding, Severity};
use crate::input::{escape_pointer, Subject};

/// What the caller knows beyond the task definition.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Fargate platform version the task runs on (`1.3.0`, `1.4.0`, `LATEST`), when known.
    pub platform_version: Option<String>,
    /// Region and account the task runs in, when not given by `taskDefinitionArn`.
    pub task: Option<TaskContext>,
    /// The key of evidence fingerprints; without one, evidence has no fingerprint.
    pub evidence_key: Option<crate::finding::EvidenceKey>,
}

/// The result of the offline pass: findings, and the parsed pieces live checks build on.
#[derive(Debug)]
pub struct Checked {
    pub model: TaskDefinition,
    pub references: Vec<FoundReference>,
    pub task: Option<TaskContext>,
    pub findings: Vec<Finding>,
}

/// Runs every offline rule on one task definition read from a file or an event. Fails only
/// when the definition's shape is wrong (a field of the wrong type), with the field named.
pub fn check(subject: &Subject, context: &Context) -> Result<Checked, ShapeError> {
    check_read(subject, subject.model.clone(), context)
}

/// [`check`], with the subject's [`Subject::model`] taken out of it already (the scan takes it
/// rather than copy it): `model` is that, or `None` to read `definition`.
pub fn check_read(
    subject: &Subject,
    model: Option<TaskDefinition>,
    context: &Context,
) -> Result<Checked, ShapeError> {
    let model = match model {
        Some(model) => model,
        None => TaskDefinition::from_json(&subject.definition)?,
    };
    Ok(check_model(
        model,
        &subject.label,
        subject.platform_version.clone(),
        context,
    ))
}

/// Runs every offline rule on one task definition, however it was read (a file, an event, or
/// `DescribeTaskDefinition`). `label` names it in findings.
pub fn check_model(
    model: TaskDefinition,
    label: &str,
    platform_version: Option<String>,
    context: &Context,
) -> Checked {
    let task = task_context(&model).or_else(|| context.task.clone());
    let platform = platform_version.or_else(|| context.platform_version.clone());
    // Room for what most task definitions have: two hygiene findings a container, and a few —
    // bounded, so that a file of many clean containers does not reserve room it never uses.
    let mut findings =
        Vec::with_capacity((4 + 2 * model.container_definitions.items.len()).min(1024));
    // `ContainerDefinitions: !If […]`, `container_definitions = templatefile(…)`: nothing here
    // to check — say so rather than count the task definition as clean.
    if model.container_definitions.unresolved {
        findings.push(Finding::new(
            rule::CONTAINER_DEFINITIONS_NOT_READ,
            "/containerDefinitions".to_owned(),
            "the container definitions are computed (by CloudFormation or Terraform) from something outside this file: none of them was checked",
        ));
    }
    let has_execution_role = model
        .execution_role_arn
        .as_ref()
        .is_some_and(|t| t.literal().is_none_or(|s| !s.trim().is_empty()));
    for (ci, container) in model.container_definitions.iter() {
        let base: String = PointerBuf::new("")
            .key("containerDefinitions")
            .index(*ci)
            .into();
        let name = container.name();
        // The container's findings go straight onto the list (a list per container was an
        // allocation per container, grown push by push), and get its name below.
        let start = findings.len();
        let out = &mut findings;
        environment(container, &base, out);
        commands(container, &base, out);
        free_form(container, &base, out);
        hygiene(container, &base, out);
        if !has_execution_role {
            if let Some(pointer) = first_secret_use(container, &base) {
                out.push(Finding::new(
                    rule::MISSING_EXECUTION_ROLE,
                    pointer,
                    "the container reads secrets or environment files, but the task definition has no executionRoleArn: the task will fail to start",
                ));
            }
        }
        if !container.environment_files.is_empty() && windows(&model) {
            out.push(Finding::new(
                rule::PLATFORM_VERSION_INCOMPATIBLE,
                PointerBuf::new(&base).key("environmentFiles"),
                "environmentFiles are supported on Linux only; this task runs on Windows",
            ));
        }
        if !container.environment_files.is_empty() && fargate(&model) && before(&platform, "1.4.0")
        {
            out.push(incompatible(
                PointerBuf::new(&base).key("environmentFiles").into(),
                "environmentFiles",
                &platform,
            ));
        }
        // One copy of the container's name for all its findings.
        let added = findings.get_mut(start..).unwrap_or_default();
        let name = name
            .filter(|_| !added.is_empty())
            .map(crate::finding::Shared::from);
        for f in added {
            f.container.clone_from(&name);
        }
    }
    // A credential written where a reference belongs is a leak, not a reference: it gets one
    // finding, and is neither checked as a reference nor looked up (that would send it to AWS).
    let (leaked, references): (Vec<FoundReference>, Vec<FoundReference>) =
        model.references().into_iter().partition(|f| {
            f.raw
                .as_deref()
                .is_some_and(|r| detect::scan_reference(r).is_some())
        });
    for found in &leaked {
        let Some(d) = found.raw.as_deref().and_then(detect::scan_reference) else {
            continue;
        };
        let field = found.pointer.rsplit('/').next().unwrap_or("valueFrom");
        let entry = found
            .entry_name
            .as_deref()
            .unwrap_or("repositoryCredentials");
        findings.push(
            Finding::new(
                rule::PLAINTEXT_SECRET,
                found.pointer.clone(),
                format!(
                    "{entry}: {} written in {field}, where a secret ARN or parameter name belongs",
                    d.kind
                ),
            )
            .severity(d.severity)
            .evidence(d.evidence)
            .container(found.container.as_deref()),
        );
    }
    for found in &references {
        reference_rules(found, &model, &task, &platform, &mut findings);
    }
    task_rules(&model, &mut findings);
    let label = crate::finding::Shared::from(label);
    for f in &mut findings {
        f.task_definition = label.clone();
    }
    Checked {
        model,
        references,
        task,
        findings,
    }
}

/// The task's region and account, from `taskDefinitionArn`.
fn task_context(model: &TaskDefinition) -> Option<TaskContext> {
    let arn = Arn::parse(model.task_definition_arn.as_ref()?.literal()?).ok()?;
    Some(TaskContext {
        partition: arn.partition,
        region: arn.region,
        account: arn.account,
    })
}

fn fargate(model: &TaskDefinition) -> bool {
    model
        .requires_compatibilities
        .iter()
        .any(|(_, t)| t.literal() == Some("FARGATE"))
}

fn windows(model: &TaskDefinition) -> bool {
    model
        .runtime_platform
        .as_ref()
        .and_then(|p| p.operating_system_family.as_ref())
        .and_then(Text::literal)
        .is_some_and(|f| f.starts_with("WINDOWS"))
}

/// Is the known platform version older than `min`? `LATEST` and unknown are not.
fn before(platform: &Option<String>, min: &str) -> bool {
    let parse = |v: &str| -> Option<Vec<u32>> {
        v.split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<Vec<u32>>>()
    };
    match platform.as_deref().and_then(parse) {
        Some(v) => parse(min).is_some_and(|m| v < m),
        None => false,
    }
}

fn incompatible(pointer: String, feature: &str, platform: &Option<String>) -> Finding {
    Finding::new(
        rule::PLATFORM_VERSION_INCOMPATIBLE,
        pointer,
        format!(
            "{feature} need Fargate platform version 1.4.0 or later; the task runs on {}",
            platform.as_deref().unwrap_or("an older version")
        ),
    )
}

fn environment(container: &ContainerDefinition, base: &str, out: &mut Vec<Finding>) {
    // An access key id anywhere in the container makes a 40-character secret key next to it
    // certain, whatever its variable is called. Looked for once, and only when a value could
    // be such a key (most containers have none).
    let mut has_access_key = None;
    let mut access_key_in_container = || {
        *has_access_key.get_or_insert_with(|| {
            container.environment.iter().any(|(_, kv)| {
                kv.value
                    .as_ref()
                    .and_then(Text::literal)
                    .is_some_and(detect::has_aws_access_key_id)
            })
        })
    };
    for (ei, kv) in container.environment.iter() {
        let name = kv.name.as_ref().and_then(Text::literal).unwrap_or("");
        // Built only for a finding: most variables have none.
        let pointer = || -> String {
            PointerBuf::new(base)
                .key("environment")
                .index(*ei)
                .key("value")
                .into()
        };
        let Some(value) = &kv.value else { continue };
        let dynamic = match value {
            Text::Literal(s) => dynamic_secret_reference(s),
            Text::Unresolved(_) => value.strings().iter().any(|s| dynamic_secret_reference(s)),
        };
        if dynamic {
            out.push(Finding::new(
                rule::PLAINTEXT_DYNAMIC_REFERENCE,
                pointer(),
                format!("{name}: a CloudFormation dynamic reference to a secret is resolved into this plaintext variable at deploy time"),
            ));
            continue;
        }
        let Some(value) = value.literal() else {
            // Left for CloudFormation or Terraform to evaluate — but a credential written
            // inside the expression (`!Sub "postgres://app:pw@${Db}"`, a literal branch of
            // `!If`, a conditional in a `.tf` file) is in the file all the same.
            if let Some(d) = unresolved_credential(name, value) {
                out.push(
                    Finding::new(
                        rule::PLAINTEXT_SECRET,
                        pointer(),
                        format!("{name}: {} in plaintext, inside an expression", d.kind),
                    )
                    .severity(d.severity)
                    .evidence(d.evidence),
                );
            }
            continue;
        };
        let paired = (detect::may_be_aws_secret_key(value) && access_key_in_container())
            .then(|| detect::aws_secret_key(value))
            .flatten()
            .map(|d| (d, " (next to an access key id)"));
        if let Some((d, note)) = paired.or_else(|| detect::scan_pair(name, value).map(|d| (d, "")))
        {
            out.push(
                Finding::new(
                    rule::PLAINTEXT_SECRET,
                    pointer(),
                    format!("{name}: {}{note} in plaintext", d.kind),
                )
                .severity(d.severity)
                .evidence(d.evidence),
            );
        }
    }
}

/// A credential inside an unresolved value: a provider format anywhere in its strings, or a
/// literal branch of `Fn::If` under the variable's name. Names (`Ref`, `Fn::GetAtt`) are not
/// values and are not read as such.
fn unresolved_credential(name: &str, value: &Text) -> Option<detect::Detection> {
    let Text::Unresolved(v) = value else {
        return None;
    };
    if let Some(branches) = v.get("Fn::If").and_then(Value::as_array) {
        for branch in branches.iter().skip(1) {
            let found = match branch {
                Value::String(s) => detect::scan_pair(name, s),
                other => unresolved_credential(name, &Text::Unresolved(other.clone())),
            };
            if found.is_some() {
                return found;
            }
        }
        return None;
    }
    if v.get("Ref").is_some() || v.get("Fn::GetAtt").is_some() || v.get("Fn::ImportValue").is_some()
    {
        return None;
    }
    // A `!Sub` is read as the text it will be, under the variable's name
    // (`JAVA_OPTS: !Sub "-Dspring.datasource.password=S3cret -Ddb=${Db}"`); then, as any
    // expression, every string in it for a provider's format (a token in a variable's `!If`).
    sub_template(value)
        .and_then(|template| detect::scan_pair(name, &template))
        .or_else(|| {
            value
                .strings()
                .into_iter()
                .find_map(detect::provider_format)
        })
}

fn dynamic_secret_reference(s: &str) -> bool {
    s.contains("{{resolve:")
        && (s.contains("{{resolve:secretsmanager:") || s.contains("{{resolve:ssm-secure:"))
}

fn commands(container: &ContainerDefinition, base: &str, out: &mut Vec<Finding>) {
    // The container runs its entry point with its command after it: one command line, read
    // as one (`entryPoint: ["mysql"]`, `command: ["-uroot", "-pS3cret"]`). Each finding
    // names the field and index its argument came from.
    // An entry point that is a script of its own (`docker-entrypoint.sh`) runs the command
    // after it as a line of its own: the command is read alone too, and a finding of either
    // reading is kept once. (Not behind `pg_isready -h`, `gosu` or `nc -z`: there the
    // command's words are arguments.)
    // An entry point with a computed argument (`!Ref Script`, an `!If` that may be
    // `AWS::NoValue`) may be a script, or nothing: the command is read alone too.
    // A shell default of a variable the container defines is never used (`Defined`).
    let entry_owned = arguments(&container.entry_point);
    let command_owned = arguments(&container.command);
    let health_owned = container
        .health_check
        .as_ref()
        .map(|h| arguments(&h.command))
        .unwrap_or_default();
    // The names are gathered only for a command that holds a default (`:-`, `:=`): most do not.
    let has_default = [&entry_owned, &command_owned, &health_owned]
        .into_iter()
        .flatten()
        .flatten()
        .any(|a| a.contains(":-") || a.contains(":="));
    let names: Vec<&str> = if has_default {
        // A variable set empty still falls back to a `:-` default: not defined here.
        container
            .environment
            .iter()
            .filter(|(_, kv)| kv.value.as_ref().is_some_and(|v| v.literal() != Some("")))
            .filter_map(|(_, kv)| kv.name.as_ref()?.literal())
            .chain(
                container
                    .secrets
                    .iter()
                    .filter_map(|(_, s)| s.name.as_ref()?.literal()),
            )
            .collect()
    } else {
        Vec::new()
    };
    let defined = detect::Defined {
        names: &names,
        any: !container.environment_files.is_empty(),
    };
    let entry = borrowed(&entry_owned);
    let command = borrowed(&command_owned);
    let entry_len = entry.len();
    let alone = detect::entry_point_script(&entry) || entry.iter().any(Option::is_none);
    let mut line = entry;
    line.extend(command.iter().copied());
    let mut found = detect::scan_command_within(&line, defined);
    if alone {
        for (i, d) in detect::scan_command_within(&command, defined) {
            if !found.iter().any(|(j, _)| *j == entry_len + i) {
                found.push((entry_len + i, d));
            }
        }
    }
    for (i, d) in found {
        let (field, i) = match i.checked_sub(entry_len) {
            Some(i) => ("command", i),
            None => ("entryPoint", i),
        };
        out.push(command_finding(base, field, i, d));
    }
    if container.health_check.is_some() {
        for (i, d) in detect::scan_command_within(&borrowed(&health_owned), defined) {
            out.push(command_finding(base, "healthCheck/command", i, d));
        }
    }
}

/// The arguments of a command field by index: a hole (`None`) where an argument is computed
/// whole (`!Ref`, `!If`, `!Join`) or missing. A `!Sub` argument is its template: the text it
/// will be ([`sub_template`]).
fn arguments(list: &ecs_secrets_shared::task_definition::Many<Text>) -> Vec<Option<Cow<'_, str>>> {
    let len = list.iter().map(|(i, _)| i + 1).max().unwrap_or(0);
    let mut args: Vec<Option<Cow<'_, str>>> = vec![None; len];
    for (i, t) in list.iter() {
        if let Some(slot) = args.get_mut(*i) {
            *slot = t.literal().map(Cow::Borrowed).or_else(|| sub_template(t));
        }
    }
    args
}

/// [`arguments`] as the command reader takes them.
fn borrowed<'a>(args: &'a [Option<Cow<'_, str>>]) -> Vec<Option<&'a str>> {
    args.iter().map(|a| a.as_deref()).collect()
}

/// The text a `Fn::Sub` (`!Sub "text"`, or `!Sub ["text", {variables}]`) will be: its
/// variables given as literal strings put in (`!Sub ["mysql -p${Pw}", {Pw: S3cret}]` writes
/// the password here all the same), and every other `${…}` left in — to the readers a value
/// computed there, as a shell's `${…}` is (CloudFormation substitutes `${Name}`, and turns
/// `${!Name}` into the shell's own `${Name}`).
fn sub_template(text: &Text) -> Option<Cow<'_, str>> {
    let Text::Unresolved(v) = text else {
        return None;
    };
    let (template, variables) = match v.get("Fn::Sub")? {
        Value::String(template) => (template.as_str(), None),
        Value::Array(parts) => (
            parts.first()?.as_str()?,
            parts.get(1).and_then(Value::as_object),
        ),
        _ => return None,
    };
    let Some(variables) = variables.filter(|v| v.values().any(Value::is_string)) else {
        return Some(Cow::Borrowed(template));
    };
    // One pass over the template, as CloudFormation substitutes (a value is not searched for
    // variables again), and bounded: past [`MAX_SUBSTITUTED`] more, the rest is as written.
    let mut text = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("${") {
        let (before, from) = rest.split_at(open);
        text.push_str(before);
        let Some(close) = from.find('}') else {
            text.push_str(from);
            rest = "";
            break;
        };
        let (reference, after) = from.split_at(close + 1);
        let name = reference.get(2..reference.len() - 1).unwrap_or_default();
        match variables.get(name).and_then(Value::as_str) {
            Some(value) => text.push_str(value),
            None => text.push_str(reference),
        }
        rest = after;
        if text.len() > template.len() + MAX_SUBSTITUTED {
            // The rest as written: what was put in so far is read, and the text stays bounded.
            break;
        }
    }
    text.push_str(rest);
    Some(Cow::Owned(text))
}

/// Most text a `!Sub`'s literal variables may add to its template ([`sub_template`]); beyond,
/// the rest of the template is read as written.
const MAX_SUBSTITUTED: usize = 64 * 1024;

fn command_finding(base: &str, field: &str, i: usize, d: detect::Detection) -> Finding {
    Finding::new(
        rule::SECRET_IN_COMMAND,
        PointerBuf::new(base).key(field).index(i),
        format!("{} in {} argument {i}", d.kind, field.replace('/', ".")),
    )
    .evidence(d.evidence)
}

fn free_form(container: &ContainerDefinition, base: &str, out: &mut Vec<Finding>) {
    let labels = container
        .docker_labels
        .as_ref()
        .map(|m| ("dockerLabels".to_owned(), m));
    let options = container
        .log_configuration
        .as_ref()
        .and_then(|l| l.options.as_ref())
        .map(|m| ("logConfiguration/options".to_owned(), m));
    for (field, map) in labels.into_iter().chain(options) {
        for (key, value) in map {
            let Some(value) = value.as_ref().and_then(Text::literal) else {
                continue;
            };
            if let Some(d) = detect::scan_pair(key, value) {
                out.push(
                    Finding::new(
                        rule::SECRET_IN_COMMAND,
                        format!("{base}/{field}/{}", escape_pointer(key)),
                        format!("{key}: {} in {}", d.kind, field.replace('/', ".")),
                    )
                    .evidence(d.evidence),
                );
            }
        }
    }
}

fn hygiene(container: &ContainerDefinition, base: &str, out: &mut Vec<Finding>) {
    if container.privileged.is_some_and(Flag::is_true) {
        out.push(Finding::new(
            rule::PRIVILEGED_CONTAINER,
            PointerBuf::new(base).key("privileged"),
            "the container runs privileged: it has every capability of the host",
        ));
    }
    match container.user.as_ref().map(|u| u.literal()) {
        Some(Some(user)) if is_root(user) => out.push(Finding::new(
            rule::ROOT_USER,
            PointerBuf::new(base).key("user"),
            format!(
                "the container runs as {} (root)",
                user.split(':').next().unwrap_or("root")
            ),
        )),
        None => out.push(
            Finding::new(
                rule::ROOT_USER,
                base.to_owned(),
                "no user is set: the container runs as the image's user, which is root unless the image says otherwise",
            )
            .severity(Severity::Low),
        ),
        _ => {}
    }
    if !container
        .readonly_root_filesystem
        .is_some_and(|f| f.is_true() || f == Flag::Unresolved)
    {
        out.push(Finding::new(
            rule::WRITABLE_ROOT_FILESYSTEM,
            PointerBuf::new(base).key("readonlyRootFilesystem"),
            "the root filesystem is writable",
        ));
    }
    if container.log_configuration.is_none() {
        out.push(Finding::new(
            rule::MISSING_LOG_CONFIGURATION,
            base.to_owned(),
            "no logConfiguration: the container's output is not kept",
        ));
    }
}

fn is_root(user: &str) -> bool {
    let who = user.split(':').next().unwrap_or("");
    who == "root" || who == "0"
}

fn first_secret_use(container: &ContainerDefinition, base: &str) -> Option<String> {
    if let Some((i, _)) = container.secrets.iter().next() {
        return Some(PointerBuf::new(base).key("secrets").index(*i).into());
    }
    if let Some((i, _)) = container
        .log_configuration
        .as_ref()
        .and_then(|l| l.secret_options.iter().next())
    {
        return Some(
            PointerBuf::new(base)
                .key("logConfiguration")
                .key("secretOptions")
                .index(*i)
                .into(),
        );
    }
    if container.repository_credentials.is_some() {
        return Some(PointerBuf::new(base).key("repositoryCredentials").into());
    }
    container.environment_files.iter().next().map(|(i, _)| {
        PointerBuf::new(base)
            .key("environmentFiles")
            .index(*i)
            .into()
    })
}

fn reference_rules(
    found: &FoundReference,
    model: &TaskDefinition,
    task: &Option<TaskContext>,
    platform: &Option<String>,
    findings: &mut Vec<Finding>,
) {
    let container = found.container.as_deref();
    let entry = found.entry_name.as_deref().unwrap_or(match found.location {
        ecs_secrets_shared::reference::Location::RepositoryCredentials => "repositoryCredentials",
        _ => "(unnamed)",
    });
    let push = |findings: &mut Vec<Finding>, f: Finding| findings.push(f.container(container));
    let parsed = match &found.parsed {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            push(
                findings,
                Finding::new(
                    rule::INVALID_SECRET_REFERENCE,
                    found.pointer.clone(),
                    format!("{entry}: {e}"),
                ),
            );
            return;
        }
        None => {
            // An unresolved intrinsic (`!Ref DbSecret`) is fine; anything else is not a reference.
            if !found.unresolved {
                push(
                    findings,
                    Finding::new(
                        rule::INVALID_SECRET_REFERENCE,
                        found.pointer.clone(),
                        format!("{entry}: the reference is not a string"),
                    ),
                );
            }
            return;
        }
    };
    let mut needs_14 = None;
    if let Some(managed) = managed_secret(parsed).filter(|m| m.master_credential) {
        push(
            findings,
            Finding::new(
                rule::MANAGED_MASTER_SECRET,
                found.pointer.clone(),
                format!(
                    "{entry}: the master password that {} manages and rotates itself ({}!…): running tasks keep the old password until they are replaced",
                    managed.service, managed.prefix
                ),
            ),
        );
    }
    if let SecretReference::SecretsManager(r) = parsed {
        if let SecretTarget::Arn(arn) = &r.secret {
            if !arn.is_full() {
                push(
                    findings,
                    Finding::new(
                        rule::PARTIAL_SECRET_ARN,
                        found.pointer.clone(),
                        format!("{entry}: {arn} has no 6-character suffix; IAM policies that name the full ARN will not match it"),
                    ),
                );
            }
        }
        if r.json_key.is_some() {
            needs_14 = Some("JSON keys in secret references");
        }
        if r.version != VersionSelector::Default {
            needs_14 = Some("version stages and ids in secret references");
        }
    }
    match parsed.tracks() {
        Tracks::Pinned(id) => push(
            findings,
            Finding::new(
                rule::PINNED_SECRET_VERSION,
                found.pointer.clone(),
                format!("{entry}: pinned to version {id}; rotation will not reach this container"),
            ),
        ),
        Tracks::Label(l) if l == "AWSPENDING" => push(
            findings,
            Finding::new(
                rule::PINNED_SECRET_VERSION,
                found.pointer.clone(),
                format!("{entry}: reads AWSPENDING, which exists only during a rotation"),
            ),
        ),
        _ => {}
    }
    if fargate(model) {
        if let Some(feature) = needs_14.filter(|_| before(platform, "1.4.0")) {
            push(
                findings,
                incompatible(found.pointer.clone(), feature, platform),
            );
        } else if before(platform, "1.3.0") {
            push(
                findings,
                incompatible(found.pointer.clone(), "secrets", platform),
            );
        }
    }
    if let Some(task) = task {
        let place = match parsed {
            SecretReference::SecretsManager(r) => match &r.secret {
                SecretTarget::Arn(a) => Some((a.region.as_str(), a.account.as_str())),
                SecretTarget::Name(_) => None,
            },
            SecretReference::Parameter(p) => p
                .arn
                .as_ref()
                .map(|a| (a.region.as_str(), a.account.as_str())),
        };
        if let Some((region, account)) = place {
            if region != task.region || account != task.account {
                push(
                    findings,
                    Finding::new(
                        rule::CROSS_REGION_SECRET_REFERENCE,
                        found.pointer.clone(),
                        format!(
                            "{entry}: the reference is in {region} / account {account}, the task in {} / account {}",
                            task.region, task.account
                        ),
                    ),
                );
            }
        }
    }
}

/// The service that manages the secret a reference reads (`rds!…`), by ARN or by name.
fn managed_secret(
    reference: &SecretReference,
) -> Option<&'static ecs_secrets_shared::arn::ManagedBy> {
    match reference {
        SecretReference::SecretsManager(r) => match &r.secret {
            SecretTarget::Arn(a) => a.managed_by(),
            SecretTarget::Name(n) => ecs_secrets_shared::arn::managed_by(n),
        },
        SecretReference::Parameter(p) => p
            .name
            .strip_prefix("/aws/reference/secretsmanager/")
            .and_then(ecs_secrets_shared::arn::managed_by),
    }
}

fn task_rules(model: &TaskDefinition, findings: &mut Vec<Finding>) {
    if model.network_mode.as_ref().and_then(Text::literal) == Some("host") {
        findings.push(Finding::new(
            rule::HOST_NETWORK_MODE,
            "/networkMode",
            "the task uses the host's network stack",
        ));
    }
    // Equal literals, or the same unresolved expression (`!GetAtt Role.Arn` twice).
    if let (Some(t), Some(e)) = (&model.task_role_arn, &model.execution_role_arn) {
        if t == e && t.literal() != Some("") {
            findings.push(Finding::new(
                rule::SAME_TASK_AND_EXECUTION_ROLE,
                "/taskRoleArn",
                "the task role is the execution role: the application can read every secret ECS reads for it, and pull any image the role can",
            ));
        }
    }
}
