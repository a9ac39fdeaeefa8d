//! What the stand-in remembers: the registered apps, the one user account,
//! and every consent, code, grant and token it issued — with a clock that
//! tests can move forward to make codes and tokens expire.
//!
//! The facts (scopes, lifetimes, the StackOne redirect URI) are written out
//! here rather than borrowed from `crate::constant_contact`: the stand-in is
//! the independent model the wizard is checked against, so a mistake in the
//! wizard's copy must not leak into it.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rand::RngCore as _;

/// The redirect URI StackOne's hosted OAuth flow uses.
pub const STACKONE_REDIRECT_URI: &str =
    "https://api.stackone.com/connect/oauth2/constantcontact/callback";

/// Every scope Constant Contact V3 knows (docs/vendors.md §1).
pub const KNOWN_SCOPES: [&str; 5] = [
    "account_read",
    "account_update",
    "contact_data",
    "campaign_data",
    "offline_access",
];

/// An authorization code is good for 5 minutes (docs/vendors.md §1).
pub const CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// Access tokens live a fixed 24 hours.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Refresh tokens of either kind die after 180 days unused.
pub const REFRESH_TOKEN_IDLE_LIFETIME: Duration = Duration::from_secs(180 * 24 * 60 * 60);
/// How long a consent page may be left open before its answer is refused.
pub const CONSENT_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// The OAuth2 flow chosen when the app was created in the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthFlow {
    /// "Authorization Code Flow and Implicit Flow": the one StackOne needs.
    AuthorizationCodeAndImplicit,
    /// "PKCE Flow": a public client, no client secret.
    Pkce,
    /// "Device Flow": no redirect, no secret.
    Device,
}

impl OAuthFlow {
    pub const ALL: [OAuthFlow; 3] = [
        OAuthFlow::AuthorizationCodeAndImplicit,
        OAuthFlow::Pkce,
        OAuthFlow::Device,
    ];

    /// The portal's wording.
    pub fn label(self) -> &'static str {
        match self {
            OAuthFlow::AuthorizationCodeAndImplicit => "Authorization Code Flow and Implicit Flow",
            OAuthFlow::Pkce => "PKCE Flow",
            OAuthFlow::Device => "Device Flow",
        }
    }

    /// The value of the portal form's radio button.
    pub fn form_value(self) -> &'static str {
        match self {
            OAuthFlow::AuthorizationCodeAndImplicit => "authorization_code_implicit",
            OAuthFlow::Pkce => "pkce",
            OAuthFlow::Device => "device",
        }
    }

    pub fn from_form_value(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.form_value() == value)
    }

    /// Whether the portal lets this kind of app have a client secret.
    pub fn has_client_secret(self) -> bool {
        self == OAuthFlow::AuthorizationCodeAndImplicit
    }
}

/// The refresh token type chosen when the app was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshKind {
    /// Single use: each refresh returns a new token and kills the used one.
    Rotating,
    /// Reusable until 180 days unused.
    LongLived,
}

impl RefreshKind {
    pub const ALL: [RefreshKind; 2] = [RefreshKind::Rotating, RefreshKind::LongLived];

    pub fn label(self) -> &'static str {
        match self {
            RefreshKind::Rotating => "Rotating Refresh Tokens",
            RefreshKind::LongLived => "Long Lived Refresh Tokens",
        }
    }

    pub fn form_value(self) -> &'static str {
        match self {
            RefreshKind::Rotating => "rotating",
            RefreshKind::LongLived => "long_lived",
        }
    }

    pub fn from_form_value(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.form_value() == value)
    }
}

/// How the token endpoint words `invalid_client` for an app: RFC 6749's
/// `{error, error_description}`, or Okta's `{errorCode, errorSummary, …}`
/// with no `error` key (docs/vendors.md §5). Chosen per app so that a
/// client is tested against both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorShape {
    #[default]
    Rfc6749,
    Okta,
}

/// Okta's refresh-token rotation options (docs/vendors.md §5): a grace
/// period during which a spent token still works, and reuse detection —
/// a spent token presented after it revokes the newest token of its
/// grant. Off by default: Constant Contact documents neither (§1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OktaRotation {
    pub grace_period: Duration,
}

/// A registered application, as the portal keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// The "API Key".
    pub client_id: String,
    pub name: String,
    pub flow: OAuthFlow,
    pub refresh_kind: RefreshKind,
    pub redirect_uris: Vec<String>,
    /// `None` until "Generate Client Secret" is pressed.
    pub client_secret: Option<String>,
    /// The scopes this app may ask for (all known ones unless the portal
    /// restricted them); any other is `invalid_scope` by redirect.
    pub allowed_scopes: Vec<String>,
    pub error_shape: ErrorShape,
    /// `Some`: Okta's grace period and reuse detection for rotating tokens.
    pub okta_rotation: Option<OktaRotation>,
}

/// The one Constant Contact account that signs in to the stand-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub organization_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub first_name: String,
    pub last_name: String,
    pub encoded_account_id: String,
    pub country_code: String,
    pub state_code: String,
    pub time_zone_id: String,
    pub website: String,
    pub organization_phone: String,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            organization_name: "Sandbox Bakery".into(),
            contact_email: "owner@sandbox-bakery.example".into(),
            contact_phone: "5555550100".into(),
            first_name: "Sam".into(),
            last_name: "Baker".into(),
            encoded_account_id: "a07e1sandbox0bakery".into(),
            country_code: "US".into(),
            state_code: "MA".into(),
            time_zone_id: "US/Eastern".into(),
            website: "https://sandbox-bakery.example".into(),
            organization_phone: "5555550199".into(),
        }
    }
}

/// A refresh token the stand-in handed out, for tests to inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedRefreshToken {
    pub token: String,
    pub client_id: String,
    /// Tokens of one grant (one consent) form a family: under rotation only
    /// the newest is alive.
    pub grant_id: usize,
    pub issued_at: SystemTime,
    pub last_used: SystemTime,
    pub alive: bool,
    /// When a rotation spent it (apps with [`OktaRotation`] only: other
    /// apps kill a spent token at once).
    pub spent_at: Option<SystemTime>,
}

/// One `grant_type=refresh_token` request that named a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRedemption {
    pub token: String,
    /// The client that authenticated the request.
    pub client_id: String,
    pub accepted: bool,
}

/// A consent page that was shown and not yet answered.
#[derive(Debug, Clone)]
pub(super) struct PendingConsent {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: String,
    pub code_challenge: String,
    pub shown_at: SystemTime,
}

#[derive(Debug, Clone)]
pub(super) struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub code_challenge: String,
    pub expires_at: SystemTime,
    pub used: bool,
}

/// What one approved consent granted (its client is on its tokens).
#[derive(Debug, Clone)]
pub(super) struct Grant {
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub(super) struct AccessToken {
    pub scopes: Vec<String>,
    pub expires_at: SystemTime,
    pub revoked: bool,
}

/// Everything, behind the stand-in's one mutex.
#[derive(Debug, Default)]
pub(super) struct State {
    /// How far tests moved the clock forward.
    pub clock_offset: Duration,
    /// In creation order, as the portal lists them.
    pub apps: Vec<App>,
    pub account: Account,
    pub consents: HashMap<String, PendingConsent>,
    pub codes: HashMap<String, AuthCode>,
    /// Indexed by grant id.
    pub grants: Vec<Grant>,
    pub refresh_tokens: Vec<IssuedRefreshToken>,
    pub refresh_redemptions: Vec<RefreshRedemption>,
    /// Spent refresh tokens presented after their grace period (each time).
    pub refresh_reuses: Vec<String>,
    pub access_tokens: HashMap<String, AccessToken>,
    /// Until when the token endpoint answers 429 (Okta's rate limit).
    pub token_rate_limited_until: Option<SystemTime>,
}

impl State {
    pub fn now(&self) -> SystemTime {
        SystemTime::now() + self.clock_offset
    }

    pub fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    pub fn app_mut(&mut self, client_id: &str) -> Option<&mut App> {
        self.apps.iter_mut().find(|a| a.client_id == client_id)
    }

    /// Replaces the app's secret; the old one stops working at once.
    pub fn generate_client_secret(&mut self, client_id: &str) -> Option<String> {
        let app = self.app_mut(client_id)?;
        let secret = random_token(16);
        app.client_secret = Some(secret.clone());
        Some(secret)
    }

    pub fn revoke_all_tokens(&mut self) {
        for token in &mut self.refresh_tokens {
            token.alive = false;
        }
        for token in self.access_tokens.values_mut() {
            token.revoked = true;
        }
    }
}

/// Every known scope, as the list a new app may ask for.
pub fn all_scopes() -> Vec<String> {
    KNOWN_SCOPES.iter().map(|s| s.to_string()).collect()
}

/// `n` random bytes, base64url without padding (16 bytes → 22 characters,
/// the length of real client secrets).
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A version-4-UUID-shaped client id, like the real API Keys.
pub fn random_client_id() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Seconds since the Unix epoch (for JWT claims).
pub fn epoch_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
