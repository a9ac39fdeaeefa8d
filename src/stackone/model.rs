//! What StackOne sends and receives, as ccsetup reads and writes it.
//!
//! Parsing is lenient where StackOne's documentation and SDKs disagree (ids
//! as numbers or strings, scopes as a list or a space-separated string), and
//! deliberately lossy about secrets: read-back credentials keep only
//! `client_id`, so a secret a server might echo is dropped at parse time and
//! can never reach a message or log. Request bodies that carry the client
//! secret are built only by [`NewConnectorProfile::to_json`] and
//! [`ProfilePatch::to_json`].

use std::collections::BTreeSet;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

/// A connector profile ("auth config" in the older API), as listed.
/// Listing never reveals credentials, so neither does this type.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ConnectorProfile {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(default, deserialize_with = "string_or_null")]
    pub name: String,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub connector_key: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub connector_label: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub authentication_config_key: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub updated_at: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub environment: Option<String>,
}

impl ConnectorProfile {
    /// Whether this profile is for `connector_key` (a profile that does not
    /// say is taken to match: the listing was filtered by that key).
    pub fn is_for(&self, connector_key: &str) -> bool {
        self.connector_key
            .as_deref()
            .is_none_or(|k| k.eq_ignore_ascii_case(connector_key))
    }

    /// Exactly this name (outer spaces aside): the dashboard step says
    /// "exactly this name", and a profile that differs in case or spacing
    /// may be someone else's.
    pub fn has_name(&self, name: &str) -> bool {
        same_name(&self.name, name)
    }

    /// Not exactly `name`, but the same to a reader (other case or
    /// spacing): reported by name and id, never adopted.
    pub fn has_near_name(&self, name: &str) -> bool {
        !self.has_name(name) && fold_name(&self.name) == fold_name(name)
    }
}

pub(crate) fn same_name(a: &str, b: &str) -> bool {
    a.trim() == b.trim()
}

/// Lower case, inner whitespace removed.
fn fold_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The non-secret credentials a read-back may show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PublicCredentials {
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub client_id: Option<String>,
    // Anything else (a secret, if a server ever echoed one) is not kept.
}

/// A profile read back by id (or returned by create/update): the listed
/// fields plus whatever non-secret values StackOne reports. `None` means
/// "not reported", which is different from "empty".
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProfileDetails {
    #[serde(flatten)]
    pub profile: ConnectorProfile,
    #[serde(default)]
    pub credentials: Option<PublicCredentials>,
    #[serde(default, deserialize_with = "lenient_list")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient_list")]
    pub actions: Option<Vec<String>>,
}

impl ProfileDetails {
    pub fn client_id(&self) -> Option<&str> {
        self.credentials.as_ref()?.client_id.as_deref()
    }

    /// Read-back details when only the list item is known.
    pub fn from_listed(profile: ConnectorProfile) -> Self {
        ProfileDetails {
            profile,
            credentials: None,
            scopes: None,
            actions: None,
        }
    }
}

/// A field of a connector profile that ccsetup manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileField {
    Name,
    ClientId,
    ClientSecret,
    Scopes,
    Actions,
}

impl ProfileField {
    /// The field's label in the dashboard form.
    pub fn label(self) -> &'static str {
        match self {
            ProfileField::Name => "Name",
            ProfileField::ClientId => "API Key (Client ID)",
            ProfileField::ClientSecret => "Client Secret",
            ProfileField::Scopes => "Scopes",
            ProfileField::Actions => "Actions",
        }
    }
}

impl fmt::Display for ProfileField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Scopes and actions are sets: order and repeats do not make a change.
pub(crate) fn same_set(a: &[String], b: &[String]) -> bool {
    let a: BTreeSet<&str> = a.iter().map(|s| s.trim()).collect();
    let b: BTreeSet<&str> = b.iter().map(|s| s.trim()).collect();
    a == b
}

/// The body of `POST /connector_profiles`. `Debug` redacts the secret.
#[derive(Debug, Clone)]
pub struct NewConnectorProfile {
    pub connector_key: String,
    pub name: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    pub actions: Vec<String>,
}

impl NewConnectorProfile {
    /// The JSON body, secret included: only for the request itself.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "connector_key": self.connector_key,
            "name": self.name,
            "authentication_config_key": "oauth2",
            "credentials": {
                "client_id": self.client_id,
                "client_secret": self.client_secret.expose_secret(),
            },
            "scopes": self.scopes,
            "actions": self.actions,
        })
    }
}

/// The body of `PATCH /connector_profiles/{id}`: only the fields that
/// change. `Debug` redacts the secret.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub name: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub scopes: Option<Vec<String>>,
    pub actions: Option<Vec<String>>,
}

impl ProfilePatch {
    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }

    /// The fields this patch changes, in form order.
    pub fn fields(&self) -> Vec<ProfileField> {
        let mut out = Vec::new();
        if self.name.is_some() {
            out.push(ProfileField::Name);
        }
        if self.client_id.is_some() {
            out.push(ProfileField::ClientId);
        }
        if self.client_secret.is_some() {
            out.push(ProfileField::ClientSecret);
        }
        if self.scopes.is_some() {
            out.push(ProfileField::Scopes);
        }
        if self.actions.is_some() {
            out.push(ProfileField::Actions);
        }
        out
    }

    /// The JSON body, secret included when it changes: only for the request.
    pub(crate) fn to_json(&self) -> Value {
        let mut body = serde_json::Map::new();
        if let Some(name) = &self.name {
            body.insert("name".into(), json!(name));
        }
        let mut credentials = serde_json::Map::new();
        if let Some(id) = &self.client_id {
            credentials.insert("client_id".into(), json!(id));
        }
        if let Some(secret) = &self.client_secret {
            credentials.insert("client_secret".into(), json!(secret.expose_secret()));
        }
        if !credentials.is_empty() {
            body.insert("credentials".into(), Value::Object(credentials));
        }
        if let Some(scopes) = &self.scopes {
            body.insert("scopes".into(), json!(scopes));
        }
        if let Some(actions) = &self.actions {
            body.insert("actions".into(), json!(actions));
        }
        Value::Object(body)
    }
}

/// StackOne's default connect-session lifetime, in seconds.
pub const DEFAULT_SESSION_SECONDS: u64 = 1800;

/// The body of `POST /connect_sessions`.
#[derive(Debug, Clone, Default)]
pub struct ConnectSessionRequest {
    pub origin_owner_id: String,
    pub origin_owner_name: String,
    /// Connector key, e.g. `constantcontact`.
    pub provider: Option<String>,
    pub label: Option<String>,
    pub connector_profile_id: Option<String>,
    /// Seconds; StackOne's default (1800) when `None`.
    pub expires_in: Option<u64>,
    /// Name the profile with `integration_id`, the older name of
    /// `connector_profile_id` (docs/vendors.md §5), for a StackOne that refuses
    /// the newer field.
    pub legacy_profile_field: bool,
}

impl ConnectSessionRequest {
    pub(crate) fn to_json(&self) -> Value {
        let mut body = json!({
            "origin_owner_id": self.origin_owner_id,
            "origin_owner_name": self.origin_owner_name,
        });
        let profile_field = if self.legacy_profile_field {
            "integration_id"
        } else {
            "connector_profile_id"
        };
        for (key, value) in [
            ("provider", &self.provider),
            ("label", &self.label),
            (profile_field, &self.connector_profile_id),
        ] {
            if let Some(v) = value {
                body[key] = json!(v);
            }
        }
        if let Some(secs) = self.expires_in {
            body["expires_in"] = json!(secs);
        }
        body
    }
}

/// A created connect session. The session token is a bearer credential for
/// the hub: it is kept secret-typed, never serialized, and `Debug` shows
/// neither it nor the link's query (where the link carries it).
#[derive(Clone)]
pub struct ConnectSession {
    pub id: String,
    /// The hub link to open (it embeds the token: show it only to the user).
    pub auth_link_url: String,
    /// RFC 3339; from StackOne, else `created_at` + `expires_in`.
    pub expires_at: String,
    pub created_at: Option<String>,
    pub provider: Option<String>,
    pub connector_profile_id: Option<String>,
    pub token: SecretString,
}

impl fmt::Debug for ConnectSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let link = match self.auth_link_url.split_once('?') {
            Some((base, _)) => format!("{base}?[redacted]"),
            None => self.auth_link_url.clone(),
        };
        f.debug_struct("ConnectSession")
            .field("id", &self.id)
            .field("auth_link_url", &link)
            .field("expires_at", &self.expires_at)
            .field("created_at", &self.created_at)
            .field("provider", &self.provider)
            .field("connector_profile_id", &self.connector_profile_id)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// `latest_connection_attempt` of a connect session (docs/vendors.md §4).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ConnectionAttempt {
    /// `pending`, `authenticated`, `error` or `cancelled`.
    #[serde(default, deserialize_with = "string_or_null")]
    pub status: String,
    #[serde(default, deserialize_with = "opt_id_string")]
    pub account_secure_id: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub oauth_error_code: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub oauth_error_description: Option<String>,
}

/// What `GET /connect_sessions/{id}` answers (only what ccsetup uses).
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectSessionState {
    #[serde(default)]
    pub latest_connection_attempt: Option<ConnectionAttempt>,
}

/// A linked account (`GET /accounts`), as `status` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct LinkedAccount {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(default, deserialize_with = "string_or_null")]
    pub status: String,
    #[serde(default, deserialize_with = "opt_id_string")]
    pub origin_owner_id: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub origin_owner_name: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub label: Option<String>,
}

/// What `POST /connect_sessions` answers (only what ccsetup uses).
/// Public for the fuzz target only; the token is read into a plain string
/// here and moved into a secret type by the client at once.
#[derive(Deserialize)]
pub struct ConnectSessionResponse {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub auth_link_url: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub created_at: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub expires_at: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub provider: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub connector_profile_id: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub integration_id: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
}

/// Ids arrive as strings or numbers; ccsetup keeps them as strings.
fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(crate::text::sanitize_remote(&s)),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, found {}",
            kind_of(&other)
        ))),
    }
}

fn opt_id_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(crate::text::sanitize_remote(&s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn string_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(crate::text::de_sanitized_opt(d)?.unwrap_or_default())
}

/// A list of strings, or one string separated by spaces/commas, or null.
fn lenient_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Null => None,
        Value::String(s) => Some(
            s.split(|c: char| c == ',' || c.is_whitespace())
                .map(crate::text::sanitize_remote)
                .filter(|p| !p.is_empty())
                .collect(),
        ),
        Value::Array(items) => Some(
            items
                .into_iter()
                .filter_map(|v| v.as_str().map(crate::text::sanitize_remote))
                .filter(|p| !p.is_empty())
                .collect(),
        ),
        other => {
            return Err(serde::de::Error::custom(format!(
                "expected a list, found {}",
                kind_of(&other)
            )));
        }
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_back_drops_any_secret_and_accepts_lenient_shapes() {
        let details: ProfileDetails = serde_json::from_value(json!({
            "id": 42, "name": null,
            "credentials": {"client_id": "cid", "client_secret": "leaked"},
            "scopes": "account_read contact_data", "actions": ["a"]
        }))
        .unwrap();
        assert_eq!(details.profile.id, "42");
        assert_eq!(details.profile.name, "");
        assert_eq!(details.client_id(), Some("cid"));
        assert!(!format!("{details:?}").contains("leaked"));
        assert_eq!(
            details.scopes.as_deref(),
            Some(&["account_read".to_string(), "contact_data".to_string()][..])
        );
    }

    #[test]
    fn patch_bodies_hold_only_changed_fields_and_debug_redacts() {
        let patch = ProfilePatch {
            scopes: Some(vec!["account_read".into()]),
            client_secret: Some(SecretString::from("s3cret")),
            ..Default::default()
        };
        assert_eq!(
            patch.to_json(),
            json!({"credentials": {"client_secret": "s3cret"}, "scopes": ["account_read"]})
        );
        assert_eq!(
            patch.fields(),
            [ProfileField::ClientSecret, ProfileField::Scopes]
        );
        assert!(!format!("{patch:?}").contains("s3cret"));
        assert!(ProfilePatch::default().is_empty());
    }

    #[test]
    fn remote_strings_are_sanitized_and_control_only_items_dropped() {
        // Found by the stackone_answers fuzz target: "\u{7f}" became "".
        let details: ProfileDetails = serde_json::from_str(
            r#"{"id":"p\u001b[31m1","name":"Evil\nCorp","actions":["\u007f","send"],"scopes":"a \u001b b"}"#,
        )
        .unwrap();
        assert_eq!(details.profile.id, "p1");
        assert_eq!(details.profile.name, "Evil Corp");
        assert_eq!(details.actions, Some(vec!["send".to_string()]));
        assert_eq!(details.scopes, Some(vec!["a".to_string(), "b".to_string()]));
    }

    #[test]
    fn sets_and_names_compare_like_a_person_would() {
        let a = vec!["x".to_string(), "y".to_string()];
        let b = vec!["y".to_string(), "x".to_string(), "x".to_string()];
        assert!(same_set(&a, &b));
        assert!(!same_set(&a, &["x".to_string()]));
        assert!(same_name(" Constant Contact ", "Constant Contact"));
        assert!(!same_name("Constant contact", "Constant Contact"));
        let listed = |name: &str| ConnectorProfile {
            id: "1".into(),
            name: name.into(),
            connector_key: None,
            connector_label: None,
            active: None,
            authentication_config_key: None,
            created_at: None,
            updated_at: None,
            environment: None,
        };
        assert!(listed("Constant contact").has_near_name("Constant Contact"));
        assert!(listed("ConstantContact").has_near_name("Constant Contact"));
        assert!(!listed("Constant Contact").has_near_name("Constant Contact"));
        assert!(!listed("Mailchimp").has_near_name("Constant Contact"));
    }
}
