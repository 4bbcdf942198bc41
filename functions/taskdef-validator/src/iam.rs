//! An offline IAM policy evaluator for the three calls ECS makes with the execution role:
//! `secretsmanager:GetSecretValue`, `ssm:GetParameters` and `kms:Decrypt`.
//!
//! It answers *allowed*, *denied* or *unknown* and names the deciding statement, following the
//! documented evaluation logic: an explicit deny wins; otherwise an allow in an identity policy
//! or a same-account resource policy grants; across accounts both must allow; a resource or key
//! policy that names the account root delegates to the account's IAM policies. `Action` /
//! `NotAction`, `Resource` / `NotResource` and `Principal` match with `*` and `?` wildcards.
//! A condition is decided only when its key is known for this request (the role's ARN, the
//! version stage or id the reference names, `kms:ViaService`, the encryption context); any
//! other condition — or a policy variable — makes the statement "unknown", with the condition
//! named, rather than a guess.
//!
//! The answer is sound rather than complete, because a false "allowed" is the one error that
//! costs users an outage: each policy set says, per effect, whether a statement applies, may
//! apply or does not ([`SetAnswer`]), and the sets combine in three-valued logic, so a Deny
//! that *may* apply anywhere caps the answer at "unknown". The role's permissions boundary is
//! applied by [`within_boundary`]; SCPs, session policies and VPC endpoint policies are not
//! visible here and are not evaluated (the README says so).

use std::collections::HashMap;

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Any(Vec<String>),
    Not(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    operator: String,
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    label: String,
    effect: Effect,
    action: Matcher,
    resource: Option<Matcher>,
    principal: Option<Matcher>,
    conditions: Vec<Condition>,
}

/// A parsed policy document with the name it is reported by.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub name: String,
    statements: Vec<Statement>,
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        // IAM takes numbers and booleans as their text (`[123456789012]`, `[true]`).
        Value::Array(a) => a
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect(),
        Value::Bool(b) => vec![b.to_string()],
        Value::Number(n) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn principals(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Object(m) => m
            .iter()
            .filter(|(k, _)| k.as_str() == "AWS")
            .flat_map(|(_, v)| strings(v))
            .collect(),
        _ => Vec::new(),
    }
}

impl Policy {
    /// Parses a policy document (a JSON string or value, URL-decoded already).
    pub fn parse(name: &str, document: &Value) -> Result<Self, String> {
        let document = match document {
            Value::String(s) => {
                serde_json::from_str(s).map_err(|e| format!("policy {name}: not JSON: {e}"))?
            }
            v => v.clone(),
        };
        let raw = match document.get("Statement") {
            Some(Value::Array(a)) => a.clone(),
            Some(v @ Value::Object(_)) => vec![v.clone()],
            _ => return Err(format!("policy {name}: no Statement")),
        };
        let mut statements = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            let label = match s.get("Sid").and_then(Value::as_str) {
                Some(sid) if !sid.is_empty() => format!("{name}#{sid}"),
                _ => format!("{name}#{i}"),
            };
            let effect = match s.get("Effect").and_then(Value::as_str) {
                Some("Allow") => Effect::Allow,
                Some("Deny") => Effect::Deny,
                _ => return Err(format!("{label}: Effect must be Allow or Deny")),
            };
            let action = match (s.get("Action"), s.get("NotAction")) {
                (Some(a), None) => Matcher::Any(strings(a)),
                (None, Some(a)) => Matcher::Not(strings(a)),
                _ => {
                    return Err(format!(
                        "{label}: needs exactly one of Action and NotAction"
                    ))
                }
            };
            let resource = match (s.get("Resource"), s.get("NotResource")) {
                (Some(r), _) => Some(Matcher::Any(strings(r))),
                (None, Some(r)) => Some(Matcher::Not(strings(r))),
                (None, None) => None,
            };
            let principal = match (s.get("Principal"), s.get("NotPrincipal")) {
                (Some(p), _) => Some(Matcher::Any(principals(p))),
                (None, Some(p)) => Some(Matcher::Not(principals(p))),
                (None, None) => None,
            };
            // A condition that cannot be read must not be dropped: an allow would widen.
            let mut conditions = Vec::new();
            match s.get("Condition") {
                None => {}
                Some(Value::Object(ops)) => {
                    for (operator, keys) in ops {
                        let Value::Object(keys) = keys else {
                            return Err(format!(
                                "{label}: Condition.{operator} must map condition keys to values"
                            ));
                        };
                        for (key, values) in keys {
                            conditions.push(Condition {
                                operator: operator.clone(),
                                key: key.clone(),
                                values: strings(values),
                            });
                        }
                    }
                }
                Some(_) => return Err(format!("{label}: Condition must be an object")),
            }
            statements.push(Statement {
                label,
                effect,
                action,
                resource,
                principal,
                conditions,
            });
        }
        Ok(Policy {
            name: name.to_owned(),
            statements,
        })
    }
}

/// `*` and `?` wildcards; `case` false for action names.
pub fn glob(pattern: &str, text: &str, case_sensitive: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if case_sensitive {
        (pattern.chars().collect(), text.chars().collect())
    } else {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    };
    // Iterative matcher with backtracking to the last star: linear in practice.
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// IAM's ARN matching: the six `:`-separated parts (the resource keeps its own colons) are
/// matched one by one, with `*` and `?` inside a part. A pattern or value of fewer parts is
/// not decided (`None`): how IAM treats it is not documented.
fn arn_glob(pattern: &str, arn: &str) -> Option<bool> {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    (p.len() == 6 && a.len() == 6).then(|| p.iter().zip(&a).all(|(p, a)| glob(p, a, true)))
}

/// Who is asking, for resource and key policies.
#[derive(Debug, Clone)]
pub struct Principal {
    pub arn: String,
    pub account: String,
}

/// One request to evaluate.
#[derive(Debug, Clone)]
pub struct Request {
    pub action: String,
    pub resource: String,
    pub principal: Principal,
    /// Condition keys whose values are known (lower-case keys).
    pub context: HashMap<String, Vec<String>>,
}

/// What the statements of one policy set say about one effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No statement of this effect applies.
    No,
    /// A statement may apply; what keeps it from being decided.
    Maybe {
        statement: String,
        reason: String,
    },
    Yes {
        statement: String,
    },
}

impl Found {
    fn rank(&self) -> u8 {
        match self {
            Found::No => 0,
            Found::Maybe { .. } => 1,
            Found::Yes { .. } => 2,
        }
    }

    /// Keeps the stronger of two answers (the first of equal ones).
    fn or(self, other: Found) -> Found {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    fn tri(&self) -> Tri {
        match self {
            Found::No => Tri::No,
            Found::Maybe { .. } => Tri::Maybe,
            Found::Yes { .. } => Tri::Yes,
        }
    }

    fn statement(&self) -> Option<&String> {
        match self {
            Found::No => None,
            Found::Maybe { statement, .. } | Found::Yes { statement } => Some(statement),
        }
    }
}

/// Three-valued logic for combining policy sets: `Maybe` is "cannot be decided here".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tri {
    No,
    Maybe,
    Yes,
}

impl Tri {
    fn and(self, other: Tri) -> Tri {
        self.min(other)
    }
    fn or(self, other: Tri) -> Tri {
        self.max(other)
    }
}

/// The answer of one policy set (the identity policies, or one resource or key policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetAnswer {
    pub deny: Found,
    /// An allow that names the principal (or `*`), or any allow of an identity policy.
    pub allow: Found,
    /// An allow that names the principal's account root: it hands the decision to the
    /// account's IAM policies.
    pub delegated: Found,
}

impl SetAnswer {
    fn nothing() -> Self {
        SetAnswer {
            deny: Found::No,
            allow: Found::No,
            delegated: Found::No,
        }
    }

    /// A policy that exists but cannot be seen: it may deny, and it may allow.
    fn unreadable(name: &str, reason: &str) -> Self {
        let maybe = || Found::Maybe {
            statement: name.to_owned(),
            reason: reason.to_owned(),
        };
        SetAnswer {
            deny: maybe(),
            allow: maybe(),
            delegated: maybe(),
        }
    }
}

enum Applies {
    Yes,
    No,
    Unknown(String),
}

enum PrincipalMatch {
    Direct,
    AccountRoot,
    /// A principal that may or may not be the caller (a role session whose name is not known).
    Unknown(String),
    No,
}

/// `arn:aws:sts::<account>:assumed-role/<role-name>/`: the prefix of the role's sessions.
fn session_prefix(role_arn: &str) -> Option<String> {
    let (head, resource) = role_arn.split_once(":role/")?;
    let account = head.rsplit(':').next()?;
    let partition = head.split(':').nth(1)?;
    let name = resource.rsplit('/').next()?;
    Some(format!(
        "arn:{partition}:sts::{account}:assumed-role/{name}/"
    ))
}

/// Does a resource-policy statement's `Principal` / `NotPrincipal` cover the caller? ECS calls
/// with a session of the execution role (`assumed-role/<name>/<session>`), whose name is not
/// known here. `Principal` naming the role covers its sessions. `NotPrincipal` exempts only
/// the principals it lists *as evaluated*: a Deny with `NotPrincipal` naming the role (or its
/// account) still applies to the session; only a listed session of the role may exempt it.
fn principal_matches(m: &Option<Matcher>, who: &Principal, effect: Effect) -> PrincipalMatch {
    let Some(m) = m else {
        return PrincipalMatch::Direct;
    };
    let session = session_prefix(&who.arn);
    let partition = who.arn.split(':').nth(1).unwrap_or("aws");
    let is_session = |p: &str| session.as_deref().is_some_and(|s| p.starts_with(s));
    let matches_one = |p: &str| -> Option<PrincipalMatch> {
        if p == "*" {
            Some(PrincipalMatch::Direct)
        } else if p == who.account || p == format!("arn:{partition}:iam::{}:root", who.account) {
            Some(PrincipalMatch::AccountRoot)
        } else if glob(p, &who.arn, true) {
            Some(PrincipalMatch::Direct)
        } else if is_session(p) {
            Some(PrincipalMatch::Unknown(format!(
                "the statement names the role session {p}; whether ECS's session has that name is not known"
            )))
        } else {
            None
        }
    };
    match m {
        Matcher::Any(list) => {
            let found: Vec<PrincipalMatch> = list.iter().filter_map(|p| matches_one(p)).collect();
            let mut unknown = None;
            let mut root = false;
            for f in found {
                match f {
                    PrincipalMatch::Direct => return PrincipalMatch::Direct,
                    PrincipalMatch::AccountRoot => root = true,
                    PrincipalMatch::Unknown(r) => unknown = unknown.or(Some(r)),
                    PrincipalMatch::No => {}
                }
            }
            match (root, unknown) {
                (true, _) => PrincipalMatch::AccountRoot,
                (false, Some(r)) => PrincipalMatch::Unknown(r),
                (false, None) => PrincipalMatch::No,
            }
        }
        Matcher::Not(list) => match effect {
            Effect::Deny => {
                if list.iter().any(|p| p == "*") {
                    PrincipalMatch::No
                } else if let Some(p) = list.iter().find(|p| is_session(p)) {
                    PrincipalMatch::Unknown(format!(
                        "NotPrincipal exempts the role session {p}; whether ECS's session has that name is not known"
                    ))
                } else {
                    PrincipalMatch::Direct
                }
            }
            // An allow to "everyone but…": never counted for a principal it lists in any form.
            Effect::Allow => {
                if list.iter().any(|p| matches_one(p).is_some()) {
                    PrincipalMatch::No
                } else {
                    PrincipalMatch::Direct
                }
            }
        },
    }
}

fn matcher_applies(m: &Matcher, value: &str, case_sensitive: bool) -> Applies {
    let (list, negate) = match m {
        Matcher::Any(l) => (l, false),
        Matcher::Not(l) => (l, true),
    };
    // A literal pattern that matches decides; a policy variable could match anything.
    let hit = list
        .iter()
        .filter(|p| !p.contains("${"))
        .any(|p| glob(p, value, case_sensitive));
    if hit {
        return if negate { Applies::No } else { Applies::Yes };
    }
    if list.iter().any(|p| p.contains("${")) {
        return Applies::Unknown("a policy variable (${…}) in the statement".to_owned());
    }
    if negate {
        Applies::Yes
    } else {
        Applies::No
    }
}

fn condition_applies(c: &Condition, context: &HashMap<String, Vec<String>>) -> Applies {
    let named = format!("{} {} {:?}", c.operator, c.key, c.values);
    let mut op = c.operator.as_str();
    let mut any_value = false;
    if let Some(rest) = op.strip_prefix("ForAnyValue:") {
        op = rest;
        any_value = true;
    } else if let Some(rest) = op.strip_prefix("ForAllValues:") {
        op = rest;
    }
    let if_exists = op.ends_with("IfExists");
    let op = op.trim_end_matches("IfExists");
    let Some(actual) = context.get(&c.key.to_ascii_lowercase()) else {
        if op == "Null" {
            return Applies::Unknown(format!("condition {named} (its key is not known here)"));
        }
        return Applies::Unknown(format!("condition {named} (its key is not known here)"));
    };
    if actual.is_empty() {
        return if if_exists { Applies::Yes } else { Applies::No };
    }
    if c.values.iter().any(|v| v.contains("${")) {
        return Applies::Unknown(format!(
            "condition {named} (a policy variable in its values)"
        ));
    }
    let test = |a: &str, v: &str| -> Option<bool> {
        Some(match op {
            "StringEquals" => a == v,
            "StringNotEquals" => a != v,
            "StringEqualsIgnoreCase" => a.eq_ignore_ascii_case(v),
            "StringNotEqualsIgnoreCase" => !a.eq_ignore_ascii_case(v),
            // IAM matches ArnEquals with the same wildcards as ArnLike.
            "StringLike" => glob(v, a, true),
            "StringNotLike" => !glob(v, a, true),
            "ArnLike" | "ArnEquals" => arn_glob(v, a)?,
            "ArnNotLike" | "ArnNotEquals" => !arn_glob(v, a)?,
            "Bool" => a.eq_ignore_ascii_case(v),
            _ => return None,
        })
    };
    let negative = op.contains("Not");
    let mut results = Vec::new();
    for a in actual {
        let per_value: Option<Vec<bool>> = c.values.iter().map(|v| test(a, v)).collect();
        let Some(per_value) = per_value else {
            return Applies::Unknown(format!("condition {named} (operator not evaluated here)"));
        };
        // Positive operators match when any value matches; negated ones when none is excluded.
        results.push(if negative {
            per_value.iter().all(|b| *b)
        } else {
            per_value.iter().any(|b| *b)
        });
    }
    let ok = if any_value {
        results.iter().any(|b| *b)
    } else {
        results.iter().all(|b| *b)
    };
    if ok {
        Applies::Yes
    } else {
        Applies::No
    }
}

fn statement_applies(s: &Statement, req: &Request, resource_policy: bool) -> (Applies, bool) {
    let mut delegated = false;
    let mut unknown = None;
    if resource_policy {
        match principal_matches(&s.principal, &req.principal, s.effect) {
            PrincipalMatch::No => return (Applies::No, false),
            PrincipalMatch::AccountRoot => delegated = true,
            PrincipalMatch::Unknown(r) => unknown = Some(r),
            PrincipalMatch::Direct => {}
        }
    }
    for check in [
        matcher_applies(&s.action, &req.action, false),
        s.resource
            .as_ref()
            .map_or(Applies::Yes, |r| matcher_applies(r, &req.resource, true)),
    ] {
        match check {
            Applies::No => return (Applies::No, delegated),
            Applies::Unknown(r) => unknown = unknown.or(Some(r)),
            Applies::Yes => {}
        }
    }
    for c in &s.conditions {
        match condition_applies(c, &req.context) {
            Applies::No => return (Applies::No, delegated),
            Applies::Unknown(r) => unknown = unknown.or(Some(r)),
            Applies::Yes => {}
        }
    }
    match unknown {
        Some(r) => (Applies::Unknown(r), delegated),
        None => (Applies::Yes, delegated),
    }
}

/// Evaluates a set of policies of one kind (identity policies, or one resource/key policy):
/// for each effect, whether a statement applies, may apply, or does not.
pub fn evaluate(policies: &[Policy], req: &Request, resource_policy: bool) -> SetAnswer {
    let mut answer = SetAnswer::nothing();
    for s in policies.iter().flat_map(|p| &p.statements) {
        let (applies, delegated) = statement_applies(s, req, resource_policy);
        let found = match applies {
            Applies::No => continue,
            Applies::Yes => Found::Yes {
                statement: s.label.clone(),
            },
            Applies::Unknown(reason) => Found::Maybe {
                statement: s.label.clone(),
                reason,
            },
        };
        match (s.effect, delegated) {
            (Effect::Deny, _) => answer.deny = answer.deny.or(found),
            (Effect::Allow, false) => answer.allow = answer.allow.or(found),
            (Effect::Allow, true) => answer.delegated = answer.delegated.or(found),
        }
    }
    answer
}

/// A resource's own policy, as far as it could be seen.
#[derive(Debug, Clone, Copy)]
pub enum ResourcePolicy<'a> {
    /// The resource has no policy.
    Absent,
    Present(&'a Policy),
    /// The policy could not be read or parsed (the reason): it may deny, and it may allow.
    Unreadable(&'a str),
}

/// The combined answer for one action on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub statement: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    Denied,
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::Unknown => "unknown",
        }
    }
}

/// Combines the role's identity policies with the resource's policy (a secret's resource
/// policy or a KMS key policy). `resource_policy_required`: a KMS key policy must itself allow
/// (directly or by delegating to the account); a secret's resource policy is optional within
/// one account.
///
/// Sound rather than complete: the answer is `allowed` only when an allow certainly applies and
/// no Deny anywhere may apply. A Deny that may apply (a condition or principal that cannot be
/// decided, a policy that cannot be read) caps the answer at `unknown`; a Deny that applies, or
/// no possible allow, is `denied`.
pub fn decide(
    identity: &[Policy],
    resource_policy: ResourcePolicy<'_>,
    resource_account: &str,
    resource_policy_required: bool,
    req: &Request,
) -> Verdict {
    let id = evaluate(identity, req, false);
    let res = match resource_policy {
        ResourcePolicy::Absent => SetAnswer::nothing(),
        ResourcePolicy::Present(p) => evaluate(std::slice::from_ref(p), req, true),
        ResourcePolicy::Unreadable(why) => SetAnswer::unreadable(
            if resource_policy_required {
                "key policy"
            } else {
                "secret resource policy"
            },
            why,
        ),
    };
    let verdict = |outcome, statement: Option<&String>, reason: String| Verdict {
        outcome,
        statement: statement.cloned(),
        reason,
    };
    // An explicit deny anywhere decides.
    for d in [&id.deny, &res.deny] {
        if let Found::Yes { statement } = d {
            return verdict(
                Outcome::Denied,
                Some(statement),
                format!("explicitly denied by {statement}"),
            );
        }
    }
    if resource_policy_required && matches!(resource_policy, ResourcePolicy::Absent) {
        return verdict(
            Outcome::Unknown,
            id.allow.statement(),
            "the key policy could not be read".to_owned(),
        );
    }
    let cross_account = resource_account != req.principal.account;
    let (ia, ra, rd) = (id.allow.tri(), res.allow.tri(), res.delegated.tri());
    let granted = match (resource_policy_required, cross_account) {
        // KMS, same account: the key policy allows the role, or delegates and IAM allows.
        (true, false) => ra.or(rd.and(ia)),
        // KMS across accounts, or a secret of another account: both sides must allow.
        (true, true) | (false, true) => ra.or(rd).and(ia),
        // Same account: either side suffices (a delegating resource allow needs IAM anyway).
        (false, false) => ia.or(ra),
    };
    let maybe_deny = [&id.deny, &res.deny].into_iter().find_map(|d| match d {
        Found::Maybe { statement, reason } => Some((statement, reason)),
        _ => None,
    });
    let allow_statement = [&id.allow, &res.allow, &res.delegated]
        .into_iter()
        .find(|f| matches!(f, Found::Yes { .. }))
        .and_then(Found::statement);
    match (granted, maybe_deny) {
        (Tri::Yes, None) => verdict(
            Outcome::Allowed,
            allow_statement,
            format!(
                "allowed by {}",
                allow_statement.map_or("policy", String::as_str)
            ),
        ),
        (Tri::Yes | Tri::Maybe, Some((statement, reason))) => verdict(
            Outcome::Unknown,
            Some(statement),
            format!("a Deny may apply ({statement}): {reason}"),
        ),
        (Tri::Maybe, None) => {
            let maybe = [&id.allow, &res.allow, &res.delegated]
                .into_iter()
                .find_map(|f| match f {
                    Found::Maybe { statement, reason } => Some((statement, reason)),
                    _ => None,
                });
            match maybe {
                Some((statement, reason)) => verdict(
                    Outcome::Unknown,
                    Some(statement),
                    format!("{statement}: {reason}"),
                ),
                None => verdict(
                    Outcome::Unknown,
                    None,
                    "whether a statement allows it cannot be decided".to_owned(),
                ),
            }
        }
        (Tri::No, _) => {
            let id_allowed = ia == Tri::Yes;
            let reason = if resource_policy_required && ra.or(rd) == Tri::No {
                "the key policy does not allow the role (nor delegate to its account)".to_owned()
            } else if cross_account && id_allowed {
                "the resource is in another account and its resource policy does not allow the role"
                    .to_owned()
            } else {
                "no statement of the role's policies allows it (implicit deny)".to_owned()
            };
            let statement = if id_allowed {
                id.allow.statement()
            } else {
                None
            };
            verdict(Outcome::Denied, statement, reason)
        }
    }
}

/// Applies the role's permissions boundary to a verdict: it grants nothing, but what the role
/// is granted must also be within it (an allow in the boundary), and a Deny in it denies. A
/// boundary that may deny, or may not allow, caps `allowed` at `unknown`.
pub fn within_boundary(verdict: Verdict, boundary: &[Policy], req: &Request) -> Verdict {
    if verdict.outcome == Outcome::Denied {
        return verdict;
    }
    let b = evaluate(boundary, req, false);
    if let Found::Yes { statement } = &b.deny {
        return Verdict {
            outcome: Outcome::Denied,
            reason: format!("explicitly denied by {statement}"),
            statement: Some(statement.clone()),
        };
    }
    match (&b.allow, &b.deny) {
        (Found::No, _) => Verdict {
            outcome: Outcome::Denied,
            statement: verdict.statement,
            reason: "the role's permissions boundary does not allow it".to_owned(),
        },
        (Found::Maybe { statement, reason }, _) | (_, Found::Maybe { statement, reason })
            if verdict.outcome == Outcome::Allowed =>
        {
            Verdict {
                outcome: Outcome::Unknown,
                statement: Some(statement.clone()),
                reason: format!("{statement}: {reason}"),
            }
        }
        _ => verdict,
    }
}

#[cfg(test)]
mod tests;
