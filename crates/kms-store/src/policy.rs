//! Access policies: which operations a token may perform on which keys,
//! and which encryption-context keys a request must carry. Deny by
//! default: a request is allowed when one rule of one of the token's
//! policies allows it. `describe_key` is allowed on every key a rule
//! covers, whatever its operations: who may use a key may read its metadata. Pure evaluation here; storage is in
//! [`crate::tokens`].

use serde::{Deserialize, Serialize};

use kms_core::{EncryptionContext, Error, Operation, Result};

/// The built-in policy that allows everything (held by root tokens).
pub const ROOT_POLICY: &str = "root";

/// Operations that are not about one key, besides [`Operation`]s.
pub const ADMIN_OPERATIONS: &[&str] = &[
    "audit_read",
    "audit_verify",
    "policy_delete",
    "policy_read",
    "policy_write",
    "seal",
    "status",
    "token_create",
    "token_list",
    "token_revoke",
];

/// One rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRule {
    /// Operation names (an [`Operation`]'s `snake_case` name or one of
    /// [`ADMIN_OPERATIONS`]) or `*`.
    pub operations: Vec<String>,
    /// Key patterns: ids, `alias/NAME`, globs with `*` and `?`.
    #[serde(default = "star")]
    pub keys: Vec<String>,
    /// Encryption-context keys a request must carry for this rule to apply.
    #[serde(default)]
    pub require_context_keys: Vec<String>,
}

fn star() -> Vec<String> {
    vec!["*".into()]
}

/// A named set of rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The name (letters, digits, `-`, `_`, `.`; at most 128).
    pub name: String,
    /// The rules.
    pub rules: Vec<PolicyRule>,
}

/// Whether `op` is an operation name a rule may list.
pub fn is_known_operation(op: &str) -> bool {
    op == "*" || ADMIN_OPERATIONS.contains(&op) || Operation::ALL.iter().any(|o| o.as_str() == op)
}

impl Policy {
    /// Checks the name and every operation name.
    pub fn validate(&self) -> Result<()> {
        let ok = !self.name.is_empty()
            && self.name.len() <= 128
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok {
            return Err(Error::invalid(
                "policy name",
                format!(
                    "{:?} is not valid: use 1–128 letters, digits, '-', '_' or '.'",
                    self.name
                ),
            ));
        }
        if self.name == ROOT_POLICY {
            return Err(Error::invalid(
                "policy name",
                "`root` is built in and cannot be written",
            ));
        }
        if self.rules.is_empty() {
            return Err(Error::invalid("policy", "a policy needs at least one rule"));
        }
        for rule in &self.rules {
            if rule.operations.is_empty() || rule.keys.is_empty() {
                return Err(Error::invalid(
                    "policy",
                    "every rule needs at least one operation and one key pattern",
                ));
            }
            if let Some(op) = rule.operations.iter().find(|o| !is_known_operation(o)) {
                return Err(Error::invalid(
                    "policy",
                    format!("unknown operation {op:?} (see docs/server.md for the names)"),
                ));
            }
        }
        Ok(())
    }
}

/// What a request asks for, as policies see it.
#[derive(Clone, Copy, Debug)]
pub struct AccessRequest<'a> {
    /// The operation name.
    pub operation: &'a str,
    /// Every name the key is known by (the reference given, its id, its
    /// aliases); empty for operations on no key.
    pub key_names: &'a [String],
    /// The encryption context, for operations that take one.
    pub context: Option<&'a EncryptionContext>,
}

/// Whether the policies allow the request; `Err(PermissionDenied)` saying
/// why not.
pub fn authorize(policies: &[Policy], root: bool, req: &AccessRequest<'_>) -> Result<()> {
    if root {
        return Ok(());
    }
    let mut missing_context: Option<&str> = None;
    for rule in policies.iter().flat_map(|p| p.rules.iter()) {
        // Reading a key's metadata is allowed to whoever may use the key.
        let describe = req.operation == "describe_key";
        let op_ok = describe
            || rule
                .operations
                .iter()
                .any(|o| o == "*" || o == req.operation);
        if !op_ok {
            continue;
        }
        let key_ok = if req.key_names.is_empty() {
            rule.keys.iter().any(|k| k == "*")
        } else {
            rule.keys
                .iter()
                .any(|pat| req.key_names.iter().any(|n| glob_match(pat, n)))
        };
        if !key_ok {
            continue;
        }
        let absent = rule.require_context_keys.iter().find(|k| {
            !describe
                && !req
                    .context
                    .is_some_and(|c| c.pairs().contains_key(k.as_str()))
        });
        match absent {
            None => return Ok(()),
            Some(k) => missing_context = Some(k),
        }
    }
    let what = req
        .key_names
        .first()
        .map_or_else(String::new, |k| format!(" on {k}"));
    Err(Error::PermissionDenied(match missing_context {
        Some(k) => format!(
            "{}{what} requires the encryption context key {k:?}",
            req.operation
        ),
        None => format!("the token's policies do not allow {}{what}", req.operation),
    }))
}

/// Glob match: `*` any run of characters (including `/`), `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some(pi);
                mark = ti;
                pi += 1;
            }
            Some(c) if *c == '?' || *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests;
