//! The stand-in's data: connectors it knows, connector profiles, connect
//! sessions, and the validation shared by the JSON API and the dashboard
//! form (so both paths create profiles in exactly the same state).

use std::fmt;

use serde_json::{Map, Value, json};

/// A connector of the stand-in's catalogue.
pub struct Connector {
    pub key: &'static str,
    pub label: &'static str,
    pub categories: &'static [&'static str],
    /// Authentication types: (key, label, credential fields).
    pub auth_types: &'static [AuthType],
    /// Actions offered in the dashboard form (illustrative names).
    pub actions: &'static [&'static str],
}

pub struct AuthType {
    pub key: &'static str,
    pub label: &'static str,
    /// Credential fields: (name, is_secret). All are required.
    pub credentials: &'static [(&'static str, bool)],
}

const OAUTH2: AuthType = AuthType {
    key: "oauth2",
    label: "OAuth 2.0",
    credentials: &[("client_id", false), ("client_secret", true)],
};
const API_KEY: AuthType = AuthType {
    key: "api_key",
    label: "API Key",
    credentials: &[("api_key", true)],
};

/// The connectors the stand-in knows. Constant Contact supports OAuth 2.0
/// only (docs/vendors.md §3/§4); the others exist so filtering matters.
pub const CONNECTORS: &[Connector] = &[
    Connector {
        key: "constantcontact",
        label: "Constant Contact",
        categories: &["marketing"],
        auth_types: &[OAUTH2],
        actions: &[
            "marketing_list_contacts",
            "marketing_get_contact",
            "marketing_create_contact",
            "marketing_list_email_campaigns",
        ],
    },
    Connector {
        key: "hubspot",
        label: "HubSpot",
        categories: &["crm", "marketing"],
        auth_types: &[OAUTH2, API_KEY],
        actions: &["crm_list_contacts"],
    },
    Connector {
        key: "mailchimp",
        label: "Mailchimp",
        categories: &["marketing"],
        auth_types: &[OAUTH2],
        actions: &["marketing_list_contacts"],
    },
    Connector {
        key: "bamboohr",
        label: "BambooHR",
        categories: &["hris"],
        auth_types: &[API_KEY],
        actions: &["hris_list_employees"],
    },
];

pub fn connector(key: &str) -> Option<&'static Connector> {
    CONNECTORS.iter().find(|c| c.key == key)
}

/// A connector profile as the stand-in stores it, credentials included.
/// `Debug` never shows secret credential values.
#[derive(Clone)]
pub struct StoredProfile {
    pub id: String,
    pub name: String,
    pub connector_key: String,
    pub authentication_config_key: String,
    /// Every credential as received, secrets included (tests check what was
    /// stored); responses only ever show the non-secret ones.
    pub credentials: Vec<(String, String)>,
    pub scopes: Vec<String>,
    pub actions: Vec<String>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    /// "api" or "dashboard": how it was made.
    pub created_via: &'static str,
}

impl fmt::Debug for StoredProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let creds: Vec<String> = self
            .credentials
            .iter()
            .map(|(k, v)| {
                if is_secret_credential(&self.authentication_config_key, k) {
                    format!("{k}: [redacted]")
                } else {
                    format!("{k}: {v}")
                }
            })
            .collect();
        f.debug_struct("StoredProfile")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("connector_key", &self.connector_key)
            .field("authentication_config_key", &self.authentication_config_key)
            .field("credentials", &creds)
            .field("scopes", &self.scopes)
            .field("actions", &self.actions)
            .field("created_via", &self.created_via)
            .finish()
    }
}

/// Only fields an auth type declares non-secret are public; anything else,
/// including fields nobody declared, is treated as secret.
fn is_secret_credential(auth_key: &str, field: &str) -> bool {
    !CONNECTORS
        .iter()
        .flat_map(|c| c.auth_types.iter())
        .filter(|a| a.key == auth_key)
        .flat_map(|a| a.credentials.iter())
        .any(|(name, secret)| *name == field && !*secret)
}

impl StoredProfile {
    pub fn credential(&self, name: &str) -> Option<&str> {
        self.credentials
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The client secret as stored (for tests).
    pub fn client_secret(&self) -> Option<&str> {
        self.credential("client_secret")
    }

    pub fn client_id(&self) -> Option<&str> {
        self.credential("client_id")
    }

    /// The documented list item: no credentials at all.
    pub fn list_item(&self) -> Value {
        let connector = connector(&self.connector_key);
        let auth_label = connector
            .and_then(|c| {
                c.auth_types
                    .iter()
                    .find(|a| a.key == self.authentication_config_key)
            })
            .map(|a| a.label)
            .unwrap_or("");
        json!({
            "id": self.id,
            "name": self.name,
            "connector_key": self.connector_key,
            "connector_label": connector.map(|c| c.label),
            "logo_url": format!("https://sandbox.invalid/logos/{}.png", self.connector_key),
            "categories": connector.map(|c| c.categories).unwrap_or(&[]),
            "active": self.active,
            "default": false,
            "release_stage": "ga",
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "connector_version": "1.0.0",
            "connector_pinned_version": null,
            "connector_owner": "stackone",
            "environment": "production",
            "authentication_config_key": self.authentication_config_key,
            "authentication_config_label": auth_label,
        })
    }

    /// The read-back view (create/get/patch answers): the list item plus
    /// non-secret credentials, scopes and actions.
    pub fn detail(&self) -> Value {
        let mut item = self.list_item();
        let public: Map<String, Value> = self
            .credentials
            .iter()
            .filter(|(k, _)| !is_secret_credential(&self.authentication_config_key, k))
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        item["credentials"] = Value::Object(public);
        item["scopes"] = json!(self.scopes);
        item["actions"] = json!(self.actions);
        item
    }
}

/// One problem with a submitted field, e.g. `name: must not be empty`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// A profile to create, after parsing but before validation against state.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub connector_key: Option<String>,
    pub name: Option<String>,
    pub authentication_config_key: Option<String>,
    pub credentials: Vec<(String, String)>,
    pub scopes: Vec<String>,
    pub actions: Vec<String>,
}

/// Why a create or update was refused.
#[derive(Debug)]
pub enum WriteRefusal {
    Invalid(Vec<FieldError>),
    Duplicate(String),
    NotFound,
}

/// A connect session.
#[derive(Clone)]
pub struct StoredSession {
    pub id: u64,
    pub token: String,
    pub body: Value,
    pub expires_at: time::OffsetDateTime,
    /// `latest_connection_attempt`: `None` until the hub's "Connect" is
    /// pressed, then `{status: pending|authenticated|error|cancelled, …}`.
    pub attempt: Option<Value>,
    /// The authorization the hub started with Constant Contact, if any.
    pub oauth: Option<PendingOAuth>,
}

/// An authorization-code flow the hub started for a session.
#[derive(Clone)]
pub struct PendingOAuth {
    pub state: String,
    pub code_verifier: String,
    /// The connector profile whose credentials it uses.
    pub profile_id: String,
}

impl fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredSession")
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// A linked account (docs/vendors.md §4, `GET /accounts`).
#[derive(Debug, Clone)]
pub struct LinkedAccount {
    pub id: String,
    pub provider: String,
    /// active, inactive, suspended, archived, expired or error.
    pub status: String,
    pub origin_owner_id: String,
    pub origin_owner_name: String,
    pub label: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl LinkedAccount {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "provider": self.provider,
            "provider_name": connector(&self.provider).map(|c| c.label),
            "status": self.status,
            "origin_owner_id": self.origin_owner_id,
            "origin_owner_name": self.origin_owner_name,
            "origin_username": null,
            "label": self.label,
            // The SDK's LinkedAccountType: lower case (docs/vendors.md §4 [48]).
            "type": "production",
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// Everything the stand-in remembers.
#[derive(Debug, Default)]
pub struct State {
    pub profiles: Vec<StoredProfile>,
    pub sessions: Vec<StoredSession>,
    pub accounts: Vec<LinkedAccount>,
    next_profile: u64,
    next_session: u64,
    next_account: u64,
}

/// `2026-01-02T03:04:05.678Z`, the shape StackOne uses.
pub fn timestamp(t: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

pub fn now() -> String {
    timestamp(time::OffsetDateTime::now_utc())
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl State {
    /// A few profiles of other connectors, so `connector_key` filtering matters.
    pub fn seeded() -> Self {
        let mut state = State::default();
        for (key, name, auth, creds) in [
            (
                "hubspot",
                "HubSpot",
                "oauth2",
                &["client_id", "client_secret"][..],
            ),
            (
                "mailchimp",
                "Mailchimp",
                "oauth2",
                &["client_id", "client_secret"][..],
            ),
            ("bamboohr", "BambooHR", "api_key", &["api_key"][..]),
        ] {
            let input = ProfileInput {
                connector_key: Some(key.into()),
                name: Some(name.into()),
                authentication_config_key: Some(auth.into()),
                credentials: creds
                    .iter()
                    .map(|c| (c.to_string(), format!("seed-{key}-{c}")))
                    .collect(),
                scopes: vec![],
                actions: vec![],
            };
            state
                .create_profile(input, "dashboard")
                .expect("seed profiles are valid");
        }
        state
    }

    pub fn profile(&self, id: &str) -> Option<&StoredProfile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    /// Validates `input` and stores a new profile; returns its id.
    pub fn create_profile(
        &mut self,
        input: ProfileInput,
        via: &'static str,
    ) -> Result<String, WriteRefusal> {
        let mut errors = Vec::new();
        let connector = match input.connector_key.as_deref() {
            None | Some("") => {
                errors.push(FieldError::new("connector_key", "is required"));
                None
            }
            Some(key) => {
                let c = connector(key);
                if c.is_none() {
                    errors.push(FieldError::new(
                        "connector_key",
                        format!("unknown connector \"{key}\""),
                    ));
                }
                c
            }
        };
        let name = input.name.as_deref().map(str::trim).unwrap_or("");
        if name.is_empty() {
            errors.push(FieldError::new("name", "must be a non-empty string"));
        } else if name.chars().count() > 100 {
            errors.push(FieldError::new("name", "must be at most 100 characters"));
        }
        let auth = match (connector, input.authentication_config_key.as_deref()) {
            (_, None | Some("")) => {
                errors.push(FieldError::new("authentication_config_key", "is required"));
                None
            }
            (Some(c), Some(key)) => {
                let found = c.auth_types.iter().find(|a| a.key == key);
                if found.is_none() {
                    let supported: Vec<_> = c.auth_types.iter().map(|a| a.key).collect();
                    errors.push(FieldError::new(
                        "authentication_config_key",
                        format!(
                            "\"{key}\" is not offered by {} (supported: {})",
                            c.label,
                            supported.join(", ")
                        ),
                    ));
                }
                found
            }
            (None, Some(_)) => None,
        };
        if let Some(auth) = auth {
            check_credentials(auth, &input.credentials, true, &mut errors);
        }
        check_list("scopes", &input.scopes, &mut errors);
        check_list("actions", &input.actions, &mut errors);
        if !errors.is_empty() {
            return Err(WriteRefusal::Invalid(errors));
        }
        let connector = connector.expect("validated");
        // The (hypothetical) API refuses a second profile of one name; the
        // dashboard names every profile after its connector, so it cannot.
        if via != "dashboard"
            && self
                .profiles
                .iter()
                .any(|p| p.connector_key == connector.key && same_name(&p.name, name))
        {
            return Err(WriteRefusal::Duplicate(format!(
                "a {} connector profile named \"{name}\" already exists",
                connector.label
            )));
        }
        self.next_profile += 1;
        let id = format!("46132201201510{:06}", self.next_profile);
        let now = now();
        self.profiles.push(StoredProfile {
            id: id.clone(),
            name: name.to_string(),
            connector_key: connector.key.to_string(),
            authentication_config_key: auth.expect("validated").key.to_string(),
            credentials: input.credentials,
            scopes: input.scopes,
            actions: input.actions,
            active: true,
            created_at: now.clone(),
            updated_at: now,
            created_via: via,
        });
        Ok(id)
    }

    /// Applies a partial update. `credentials` entries replace only the
    /// named credential fields.
    pub fn update_profile(
        &mut self,
        id: &str,
        name: Option<String>,
        credentials: Vec<(String, String)>,
        scopes: Option<Vec<String>>,
        actions: Option<Vec<String>>,
    ) -> Result<(), WriteRefusal> {
        let Some(idx) = self.profiles.iter().position(|p| p.id == id) else {
            return Err(WriteRefusal::NotFound);
        };
        let mut errors = Vec::new();
        let current = &self.profiles[idx];
        if let Some(name) = &name {
            if name.trim().is_empty() {
                errors.push(FieldError::new("name", "must be a non-empty string"));
            } else if name.trim().chars().count() > 100 {
                errors.push(FieldError::new("name", "must be at most 100 characters"));
            }
        }
        if let Some(auth) = connector(&current.connector_key).and_then(|c| {
            c.auth_types
                .iter()
                .find(|a| a.key == current.authentication_config_key)
        }) {
            check_credentials(auth, &credentials, false, &mut errors);
        }
        if let Some(scopes) = &scopes {
            check_list("scopes", scopes, &mut errors);
        }
        if let Some(actions) = &actions {
            check_list("actions", actions, &mut errors);
        }
        if !errors.is_empty() {
            return Err(WriteRefusal::Invalid(errors));
        }
        if let Some(name) = &name
            && self.profiles.iter().any(|p| {
                p.id != id && p.connector_key == current.connector_key && same_name(&p.name, name)
            })
        {
            return Err(WriteRefusal::Duplicate(format!(
                "another connector profile named \"{}\" already exists",
                name.trim()
            )));
        }
        let profile = &mut self.profiles[idx];
        if let Some(name) = name {
            profile.name = name.trim().to_string();
        }
        for (k, v) in credentials {
            match profile.credentials.iter_mut().find(|(ck, _)| *ck == k) {
                Some(slot) => slot.1 = v,
                None => profile.credentials.push((k, v)),
            }
        }
        if let Some(scopes) = scopes {
            profile.scopes = scopes;
        }
        if let Some(actions) = actions {
            profile.actions = actions;
        }
        profile.updated_at = now();
        Ok(())
    }

    pub fn delete_profile(&mut self, id: &str) -> bool {
        let before = self.profiles.len();
        self.profiles.retain(|p| p.id != id);
        self.profiles.len() != before
    }

    /// Stores a session and returns its id.
    pub fn add_session(
        &mut self,
        token: String,
        body: Value,
        expires_at: time::OffsetDateTime,
    ) -> u64 {
        self.next_session += 1;
        let id = 100_000 + self.next_session;
        let mut body = body;
        body["id"] = json!(id);
        self.sessions.push(StoredSession {
            id,
            token,
            body,
            expires_at,
            attempt: None,
            oauth: None,
        });
        id
    }

    /// Stores a linked account; returns its id.
    pub fn add_account(
        &mut self,
        provider: &str,
        status: &str,
        origin_owner_id: &str,
        origin_owner_name: &str,
        label: Option<String>,
    ) -> String {
        self.next_account += 1;
        let id = format!("4535597628101{:07}", self.next_account);
        let now = now();
        self.accounts.push(LinkedAccount {
            id: id.clone(),
            provider: provider.to_string(),
            status: status.to_string(),
            origin_owner_id: origin_owner_id.to_string(),
            origin_owner_name: origin_owner_name.to_string(),
            label,
            created_at: now.clone(),
            updated_at: now,
        });
        id
    }
}

/// Credentials must be exactly the auth type's fields, each a non-empty
/// string (all of them on create; any subset on update). Messages name
/// fields only, never values.
fn check_credentials(
    auth: &AuthType,
    given: &[(String, String)],
    all_required: bool,
    errors: &mut Vec<FieldError>,
) {
    for (k, v) in given {
        if !auth.credentials.iter().any(|(name, _)| name == k) {
            errors.push(FieldError::new(
                format!("credentials.{k}"),
                format!("is not a credential of {}", auth.label),
            ));
        } else if v.trim().is_empty() {
            errors.push(FieldError::new(
                format!("credentials.{k}"),
                "must be a non-empty string",
            ));
        }
    }
    if all_required {
        for (name, _) in auth.credentials {
            if !given.iter().any(|(k, _)| k == name) {
                errors.push(FieldError::new(
                    format!("credentials.{name}"),
                    "is required",
                ));
            }
        }
    }
}

fn check_list(field: &str, items: &[String], errors: &mut Vec<FieldError>) {
    for (i, item) in items.iter().enumerate() {
        if item.trim().is_empty() || item.chars().any(char::is_whitespace) {
            errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "must be a non-empty string without spaces",
            ));
        }
    }
}
