//! The Constant Contact stand-in is strict: each test pins one rule the
//! real service enforces, over real HTTP, and would fail if the rule were
//! dropped.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use ccsetup::sandbox::Sandbox;
use ccsetup::sandbox::constant_contact::{
    AppRegistration, CcStandIn, OAuthFlow, RefreshKind, RegisteredApp,
};
use ccsetup::sandbox::test_browser::{self, Decision};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

const LOCAL: &str = "http://localhost:8917/callback";
const SCOPES: &str = "account_read contact_data campaign_data offline_access";
const STATE: &str = "st-4f1c9a";
const INVALID_REFRESH: &str = "unknown, invalid, or expired refresh token";

// ---------------------------------------------------------------- helpers

struct Pkce {
    verifier: String,
    challenge: String,
}

fn pkce() -> Pkce {
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    Pkce {
        verifier,
        challenge,
    }
}

fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// A sandbox with one app (StackOne's settings + the local redirect URI).
struct Env {
    sb: Sandbox,
    http: reqwest::Client,
    app: RegisteredApp,
}

impl Env {
    fn new() -> Self {
        Self::with(AppRegistration::new().redirect_uri(LOCAL))
    }

    fn with(registration: AppRegistration) -> Self {
        let sb = Sandbox::start(Default::default()).unwrap();
        let app = sb.cc().register_app(registration);
        Env {
            sb,
            http: ccsetup::http::client().unwrap(),
            app,
        }
    }

    fn cc(&self) -> &CcStandIn {
        self.sb.cc()
    }

    fn secret(&self) -> &str {
        self.app.secret()
    }

    /// A valid authorization URL, with `changes` applied (`None` removes).
    fn authorize_url(&self, challenge: &str, changes: &[(&str, Option<&str>)]) -> String {
        let mut params: Vec<(&str, &str)> = vec![
            ("client_id", &self.app.client_id),
            ("redirect_uri", LOCAL),
            ("response_type", "code"),
            ("scope", SCOPES),
            ("state", STATE),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ];
        for (name, value) in changes {
            params.retain(|(k, _)| k != name);
            if let Some(v) = value {
                params.push((name, v));
            }
        }
        let mut url = self.cc().authorize_url();
        url.query_pairs_mut().extend_pairs(params);
        url.to_string()
    }

    /// Consent approved for `scopes`: (code, verifier).
    async fn approved_code(&self, scopes: &str) -> (String, String) {
        let p = pkce();
        let url = self.authorize_url(&p.challenge, &[("scope", Some(scopes))]);
        let location = test_browser::consent(&url, Decision::Approve)
            .await
            .unwrap();
        assert!(location.starts_with(&format!("{LOCAL}?")), "{location}");
        let q = query_of(&location);
        assert_eq!(q.get("state").map(String::as_str), Some(STATE));
        (q["code"].clone(), p.verifier)
    }

    async fn post_token(&self, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> (u16, Value) {
        let mut req = self.http.post(self.cc().token_url()).form(form);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    fn basic(&self) -> Option<(&str, &str)> {
        Some((&self.app.client_id, self.secret()))
    }

    async fn exchange(&self, code: &str, verifier: &str) -> (u16, Value) {
        self.post_token(
            self.basic(),
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", LOCAL),
                ("code_verifier", verifier),
            ],
        )
        .await
    }

    /// Consent + exchange: the token response.
    async fn tokens(&self, scopes: &str) -> Value {
        let (code, verifier) = self.approved_code(scopes).await;
        let (status, body) = self.exchange(&code, &verifier).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        self.post_token(
            self.basic(),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    async fn summary(&self, bearer: Option<&str>) -> (u16, Value) {
        let url = format!("{}/account/summary", self.cc().api_url());
        let mut req = self.http.get(url);
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// `GET /authorize`, which (like Okta without a session) redirects to
    /// the sign-in page on its own origin; follows that one redirect.
    async fn sign_in(&self, authorize_url: &str) -> reqwest::Response {
        let first = self.get(authorize_url).await;
        assert_eq!(first.status(), 302, "to the sign-in page");
        let location = first.headers()["location"].to_str().unwrap().to_string();
        let next = url::Url::parse(authorize_url)
            .unwrap()
            .join(&location)
            .unwrap();
        assert!(next.path().ends_with("/authorize/signin"), "{next}");
        self.get(next.as_str()).await
    }

    fn portal(&self, path: &str) -> String {
        self.cc().portal_url().join(path).unwrap().to_string()
    }

    async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(url).form(form).send().await.unwrap()
    }
}

fn assert_oauth_error(result: &(u16, Value), status: u16, error: &str) {
    assert_eq!(result.0, status, "{}", result.1);
    assert_eq!(result.1["error"], error, "{}", result.1);
    assert!(result.1["error_description"].is_string(), "{}", result.1);
}

fn assert_api_error(result: &(u16, Value), status: u16, key: &str) {
    assert_eq!(result.0, status, "{}", result.1);
    let errors = result.1.as_array().expect("CC API errors are an array");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["error_key"], key);
    assert!(errors[0]["error_message"].is_string());
}

fn jwt_payload(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "JWT-shaped: header.payload.signature");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn consent_id_in(html: &str) -> String {
    let key = "name=\"consent_id\" value=\"";
    let start = html.find(key).expect("consent form") + key.len();
    let len = html[start..].find('"').unwrap();
    html[start..start + len].to_string()
}

// ------------------------------------------------------- the happy path

#[tokio::test]
async fn code_flow_gives_a_documented_token_set_and_the_account() {
    let env = Env::new();
    let tokens = env.tokens(SCOPES).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 86400);
    assert_eq!(tokens["scope"], SCOPES);
    assert!(
        tokens["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 32)
    );
    let claims = jwt_payload(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["cid"], env.app.client_id.as_str());
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        86400
    );
    assert_eq!(
        claims["scp"],
        serde_json::json!(SCOPES.split(' ').collect::<Vec<_>>())
    );

    let (status, account) = env.summary(tokens["access_token"].as_str()).await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["organization_name"], "Sandbox Bakery");
    assert_eq!(account["contact_email"], "owner@sandbox-bakery.example");
    for field in [
        "contact_phone",
        "first_name",
        "last_name",
        "encoded_account_id",
        "country_code",
        "state_code",
        "time_zone_id",
        "website",
        "organization_phone",
    ] {
        assert!(account[field].is_string(), "{field} missing: {account}");
    }
}

#[tokio::test]
async fn the_consent_page_names_the_account_app_and_scopes() {
    let env = Env::new();
    let p = pkce();
    let resp = env.sign_in(&env.authorize_url(&p.challenge, &[])).await;
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    for text in [
        "Sandbox Bakery",
        "StackOne Integration",
        "account_read",
        "offline_access",
        "not the real Constant Contact",
        "Approve",
        "Deny",
    ] {
        assert!(html.contains(text), "{text} missing from the consent page");
    }
    assert!(!html.contains(&p.challenge), "parameters stay server-side");
}

// ---------------------------------------------------------------- PKCE

#[tokio::test]
async fn pkce_verifier_must_hash_to_the_challenge() {
    let env = Env::new();
    let (code, _) = env.approved_code(SCOPES).await;
    let wrong = pkce().verifier;
    assert_oauth_error(&env.exchange(&code, &wrong).await, 400, "invalid_grant");

    let (code, _) = env.approved_code(SCOPES).await;
    let missing = env
        .post_token(
            env.basic(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", LOCAL),
            ],
        )
        .await;
    assert_oauth_error(&missing, 400, "invalid_grant");
}

#[tokio::test]
async fn authorize_requires_s256_pkce() {
    let env = Env::new();
    let p = pkce();
    for (what, changes) in [
        ("plain", vec![("code_challenge_method", Some("plain"))]),
        ("no method", vec![("code_challenge_method", None)]),
        ("no challenge", vec![("code_challenge", None)]),
        ("malformed", vec![("code_challenge", Some("short"))]),
    ] {
        let resp = env.get(&env.authorize_url(&p.challenge, &changes)).await;
        assert_eq!(resp.status(), 302, "{what}");
        let q = query_of(resp.headers()["location"].to_str().unwrap());
        assert_eq!(q["error"], "invalid_request", "{what}");
        assert_eq!(q["state"], STATE, "{what}");
        assert!(!q.contains_key("code"), "{what}");
    }
}

// -------------------------------------------------------- client auth

#[tokio::test]
async fn token_endpoint_requires_http_basic_client_auth() {
    let env = Env::new();
    let (code, verifier) = env.approved_code(SCOPES).await;
    let id = env.app.client_id.clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", LOCAL),
        ("code_verifier", verifier.as_str()),
    ];
    let wrong = env.post_token(Some((&id, "not-the-secret")), &form).await;
    assert_oauth_error(&wrong, 401, "invalid_client");
    let unknown = env
        .post_token(Some(("no-such-app", env.secret())), &form)
        .await;
    assert_oauth_error(&unknown, 401, "invalid_client");
    assert_oauth_error(&env.post_token(None, &form).await, 401, "invalid_client");

    let mut in_body = form.to_vec();
    in_body.extend([("client_id", id.as_str()), ("client_secret", env.secret())]);
    assert_oauth_error(&env.post_token(None, &in_body).await, 401, "invalid_client");
    assert_oauth_error(
        &env.post_token(env.basic(), &in_body).await,
        400,
        "invalid_request",
    );

    // The client is checked before the code is touched.
    assert_eq!(env.post_token(env.basic(), &form).await.0, 200);
}

#[tokio::test]
async fn generating_a_client_secret_invalidates_the_old_one() {
    let env = Env::new();
    let tokens = env.tokens(SCOPES).await;
    let old = env.secret().to_string();
    let new = env.cc().generate_client_secret(&env.app.client_id);
    assert_ne!(old, new);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh)];
    let with_old = env
        .post_token(Some((&env.app.client_id, &old)), &form)
        .await;
    assert_oauth_error(&with_old, 401, "invalid_client");
    let with_new = env
        .post_token(Some((&env.app.client_id, &new)), &form)
        .await;
    assert_eq!(
        with_new.0, 200,
        "tokens outlive a secret rotation: {}",
        with_new.1
    );
}

// ---------------------------------------------------------------- codes

#[tokio::test]
async fn a_code_is_single_use() {
    let env = Env::new();
    let (code, verifier) = env.approved_code(SCOPES).await;
    assert_eq!(env.exchange(&code, &verifier).await.0, 200);
    assert_oauth_error(&env.exchange(&code, &verifier).await, 400, "invalid_grant");
}

#[tokio::test]
async fn a_code_expires_after_5_minutes() {
    let env = Env::new();
    let (fresh, fresh_verifier) = env.approved_code(SCOPES).await;
    let (stale, stale_verifier) = env.approved_code(SCOPES).await;
    env.cc().advance_clock(Duration::from_secs(5 * 60 - 1));
    assert_eq!(env.exchange(&fresh, &fresh_verifier).await.0, 200);
    env.cc().advance_clock(Duration::from_secs(2));
    assert_oauth_error(
        &env.exchange(&stale, &stale_verifier).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn a_code_belongs_to_the_client_it_was_issued_to() {
    let env = Env::new();
    let other = env
        .cc()
        .register_app(AppRegistration::new().name("Other").redirect_uri(LOCAL));
    let (code, verifier) = env.approved_code(SCOPES).await;
    let stolen = env
        .post_token(
            Some((&other.client_id, other.secret())),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", LOCAL),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_oauth_error(&stolen, 400, "invalid_grant");
    assert_eq!(env.exchange(&code, &verifier).await.0, 200);
}

// -------------------------------------------------------- redirect URIs

#[tokio::test]
async fn a_bad_client_or_redirect_uri_gets_an_error_page_never_a_redirect() {
    let env = Env::new();
    let p = pkce();
    for (what, changes) in [
        (
            "trailing slash",
            vec![("redirect_uri", Some("http://localhost:8917/callback/"))],
        ),
        (
            "other host",
            vec![("redirect_uri", Some("http://127.0.0.1:8917/callback"))],
        ),
        (
            "other port",
            vec![("redirect_uri", Some("http://localhost:8918/callback"))],
        ),
        (
            "unregistered",
            vec![("redirect_uri", Some("https://evil.example/cb"))],
        ),
        ("missing", vec![("redirect_uri", None)]),
        (
            "unknown client",
            vec![("client_id", Some("00000000-0000-4000-8000-000000000000"))],
        ),
        ("no client", vec![("client_id", None)]),
    ] {
        let resp = env.get(&env.authorize_url(&p.challenge, &changes)).await;
        assert_eq!(resp.status(), 400, "{what}");
        assert!(resp.headers().get("location").is_none(), "{what}");
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn the_token_request_must_repeat_the_authorize_redirect_uri() {
    const OTHER: &str = "http://localhost:9000/callback";
    let env = Env::with(
        AppRegistration::new()
            .redirect_uri(LOCAL)
            .redirect_uri(OTHER),
    );
    let (code, verifier) = env.approved_code(SCOPES).await;
    let result = env
        .post_token(
            env.basic(),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", OTHER),
                ("code_verifier", &verifier),
            ],
        )
        .await;
    assert_oauth_error(&result, 400, "invalid_grant");
}

// ------------------------------------------------- scopes, state, type

#[tokio::test]
async fn unknown_or_missing_scopes_are_invalid_scope() {
    let env = Env::new();
    let p = pkce();
    for scope in [
        Some("account_read,contact_data"),
        Some("contacts_read"),
        Some(""),
        None,
    ] {
        let resp = env
            .get(&env.authorize_url(&p.challenge, &[("scope", scope)]))
            .await;
        assert_eq!(resp.status(), 302, "{scope:?}");
        let q = query_of(resp.headers()["location"].to_str().unwrap());
        assert_eq!(q["error"], "invalid_scope", "{scope:?}");
        assert_eq!(q["state"], STATE);
    }
}

#[tokio::test]
async fn state_is_required() {
    let env = Env::new();
    let p = pkce();
    for state in [None, Some("")] {
        let resp = env
            .get(&env.authorize_url(&p.challenge, &[("state", state)]))
            .await;
        assert_eq!(resp.status(), 302);
        let q = query_of(resp.headers()["location"].to_str().unwrap());
        assert_eq!(q["error"], "invalid_request");
        assert!(!q.contains_key("state") && !q.contains_key("code"));
    }
}

#[tokio::test]
async fn only_the_code_response_type_is_served() {
    let env = Env::new();
    let p = pkce();
    let resp = env
        .get(&env.authorize_url(&p.challenge, &[("response_type", Some("token"))]))
        .await;
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "unsupported_response_type");
}

#[tokio::test]
async fn a_repeated_parameter_is_refused() {
    let env = Env::new();
    let p = pkce();
    let url = format!(
        "{}&scope=campaign_data",
        env.authorize_url(&p.challenge, &[])
    );
    let resp = env.get(&url).await;
    let q = query_of(resp.headers()["location"].to_str().unwrap());
    assert_eq!(q["error"], "invalid_request");
}

// ---------------------------------------------------------- consent

#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let env = Env::new();
    let p = pkce();
    let location = test_browser::consent(&env.authorize_url(&p.challenge, &[]), Decision::Deny)
        .await
        .unwrap();
    assert_eq!(
        location,
        format!(
            "{LOCAL}?error=access_denied&error_description=The+resource+owner+or+authorization+server+denied+the+request.&state={STATE}"
        )
    );
}

#[tokio::test]
async fn a_consent_id_answers_once_and_expires() {
    let env = Env::new();
    let p = pkce();
    let html = env
        .sign_in(&env.authorize_url(&p.challenge, &[]))
        .await
        .text()
        .await
        .unwrap();
    let id = consent_id_in(&html);
    let decision = env.cc().authorize_url().to_string() + "/decision";
    let form = [("consent_id", id.as_str()), ("decision", "approve")];
    assert_eq!(env.post_form(&decision, &form).await.status(), 302);
    let again = env.post_form(&decision, &form).await;
    assert_eq!(again.status(), 400);
    assert!(again.headers().get("location").is_none());

    let html = env
        .sign_in(&env.authorize_url(&p.challenge, &[]))
        .await
        .text()
        .await
        .unwrap();
    let id = consent_id_in(&html);
    env.cc().advance_clock(Duration::from_secs(11 * 60));
    let late = env
        .post_form(&decision, &[("consent_id", &id), ("decision", "approve")])
        .await;
    assert_eq!(late.status(), 400);
}

// -------------------------------------------------------- refresh tokens

#[tokio::test]
async fn a_refresh_token_needs_offline_access() {
    let env = Env::new();
    let tokens = env.tokens("account_read contact_data").await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert_eq!(tokens["scope"], "account_read contact_data");
    assert!(env.cc().issued_refresh_tokens().is_empty());
}

#[tokio::test]
async fn rotating_refresh_tokens_are_single_use() {
    let env = Env::new();
    let first = env.tokens(SCOPES).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = env.refresh(&first).await;
    assert_eq!(status, 200, "{body}");
    let second = body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(first, second, "every refresh returns a new token");
    assert_eq!(body["expires_in"], 86400);
    assert_eq!(body["scope"], SCOPES);

    let reuse = env.refresh(&first).await;
    assert_oauth_error(&reuse, 400, "invalid_grant");
    assert_eq!(reuse.1["error_description"], INVALID_REFRESH);

    let (status, body) = env.refresh(&second).await;
    assert_eq!(status, 200);
    let third = body["refresh_token"].as_str().unwrap();
    assert_oauth_error(&env.refresh(&second).await, 400, "invalid_grant");
    assert_eq!(env.refresh(third).await.0, 200);

    assert_eq!(
        env.cc().refresh_tokens_redeemed_more_than_once(),
        vec![first, second]
    );
    let redemptions = env.cc().refresh_redemptions();
    assert_eq!(redemptions.iter().filter(|r| r.accepted).count(), 3);
    assert_eq!(redemptions.iter().filter(|r| !r.accepted).count(), 2);
}

#[tokio::test]
async fn rotation_kills_only_its_own_grant() {
    let env = Env::new();
    let a = env.tokens(SCOPES).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let b = env.tokens(SCOPES).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(env.refresh(&a).await.0, 200);
    assert_eq!(
        env.refresh(&b).await.0,
        200,
        "another consent's token lives on"
    );
    let alive: Vec<_> = env
        .cc()
        .issued_refresh_tokens()
        .into_iter()
        .filter(|t| t.alive)
        .collect();
    assert_eq!(alive.len(), 2, "one per grant");
}

#[tokio::test]
async fn long_lived_refresh_tokens_are_reusable() {
    let env = Env::with(
        AppRegistration::new()
            .refresh_kind(RefreshKind::LongLived)
            .redirect_uri(LOCAL),
    );
    let token = env.tokens(SCOPES).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..3 {
        let (status, body) = env.refresh(&token).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["refresh_token"], token.as_str());
    }
}

#[tokio::test]
async fn refresh_tokens_die_after_180_days_unused() {
    let env = Env::new();
    let token = env.tokens(SCOPES).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    env.cc()
        .advance_clock(Duration::from_secs(180 * 24 * 3600 + 1));
    assert_oauth_error(&env.refresh(&token).await, 400, "invalid_grant");
}

#[tokio::test]
async fn a_refresh_token_belongs_to_its_client() {
    let env = Env::new();
    let other = env
        .cc()
        .register_app(AppRegistration::new().name("Other").redirect_uri(LOCAL));
    let token = env.tokens(SCOPES).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let stolen = env
        .post_token(
            Some((&other.client_id, other.secret())),
            &[("grant_type", "refresh_token"), ("refresh_token", &token)],
        )
        .await;
    assert_oauth_error(&stolen, 400, "invalid_grant");
    assert_eq!(env.refresh(&token).await.0, 200);
}

// ------------------------------------------------------ token endpoint

#[tokio::test]
async fn token_request_shape_rules() {
    let env = Env::new();
    let url = env.cc().token_url();
    // Parameters in the query string, as CC's support sample sends them.
    let (code, verifier) = env.approved_code(SCOPES).await;
    let resp = env
        .http
        .post(url.clone())
        .basic_auth(&env.app.client_id, Some(env.secret()))
        .query(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", LOCAL),
            ("code_verifier", &verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let json = env
        .http
        .post(url.clone())
        .basic_auth(&env.app.client_id, Some(env.secret()))
        .json(&serde_json::json!({ "grant_type": "refresh_token", "refresh_token": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 400);
    assert_eq!(
        json.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );

    let grant = env
        .post_token(env.basic(), &[("grant_type", "client_credentials")])
        .await;
    assert_oauth_error(&grant, 400, "unsupported_grant_type");
    let implicit = env
        .post_token(env.basic(), &[("grant_type", "password")])
        .await;
    assert_oauth_error(&implicit, 400, "unsupported_grant_type");
    let none = env.post_token(env.basic(), &[]).await;
    assert_oauth_error(&none, 400, "invalid_request");
    let twice = env
        .post_token(
            env.basic(),
            &[
                ("grant_type", "refresh_token"),
                ("grant_type", "refresh_token"),
            ],
        )
        .await;
    assert_oauth_error(&twice, 400, "invalid_request");
}

// --------------------------------------------------------------- the API

#[tokio::test]
async fn account_summary_needs_a_live_token_with_an_account_scope() {
    let env = Env::new();
    assert_api_error(&env.summary(None).await, 401, "unauthorized");
    assert_api_error(&env.summary(Some("not.a.token")).await, 401, "unauthorized");

    let contacts_only = env.tokens("contact_data").await;
    let forbidden = env.summary(contacts_only["access_token"].as_str()).await;
    assert_api_error(&forbidden, 403, "forbidden");

    let update = env.tokens("account_update").await;
    assert_eq!(env.summary(update["access_token"].as_str()).await.0, 200);

    env.cc().revoke_all_tokens();
    assert_api_error(
        &env.summary(update["access_token"].as_str()).await,
        401,
        "unauthorized",
    );
}

#[tokio::test]
async fn access_tokens_expire_after_24_hours() {
    let env = Env::new();
    let tokens = env.tokens(SCOPES).await;
    let access = tokens["access_token"].as_str();
    env.cc().advance_clock(Duration::from_secs(24 * 3600 - 60));
    assert_eq!(env.summary(access).await.0, 200);
    env.cc().advance_clock(Duration::from_secs(60));
    assert_api_error(&env.summary(access).await, 401, "unauthorized");
}

#[tokio::test]
async fn the_throttle_fault_has_cc_429_shape() {
    let env = Env::new();
    let access = env.tokens(SCOPES).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    env.cc().inject(CcStandIn::throttle_fault(1));
    let url = format!("{}/account/summary", env.cc().api_url());
    let resp = env
        .http
        .get(&url)
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert!(
        resp.headers().get("retry-after").is_none(),
        "CC documents none"
    );
    let body = (429, resp.json::<Value>().await.unwrap());
    assert_api_error(&body, 429, "throttled");
    assert_eq!(env.summary(Some(&access)).await.0, 200, "one use only");

    env.cc().inject(CcStandIn::quota_exceeded_fault(1));
    assert_api_error(&env.summary(Some(&access)).await, 429, "quota_exceeded");
}

// ---------------------------------------------------------------- portal

#[tokio::test]
async fn the_portal_refuses_names_containing_constant_contact() {
    let env = Env::new();
    let before = env.cc().apps().len();
    for name in [
        "Constant Contact sync",
        "my constantcontact app",
        "CONSTANT  contact",
        "Constant-Contact",
        "",
        "  ",
    ] {
        let resp = env
            .post_form(
                &env.portal("apps"),
                &[
                    ("name", name),
                    ("flow", "authorization_code_implicit"),
                    ("refresh_kind", "rotating"),
                ],
            )
            .await;
        assert_eq!(resp.status(), 400, "{name:?}");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("class=\"error\""),
            "{name:?}: a clear message"
        );
    }
    assert_eq!(env.cc().apps().len(), before, "nothing created");
    assert!(
        env.cc()
            .try_register_app(AppRegistration::new().name("Constant Contact"))
            .is_err()
    );
}

#[tokio::test]
async fn the_portal_walkthrough_matches_the_guide() {
    let env = Env::new();
    let list = env.get(&env.portal("")).await.text().await.unwrap();
    assert!(list.contains("My Applications") && list.contains("New Application"));
    assert!(list.contains("not the real Constant Contact"));
    let form = env.get(&env.portal("apps/new")).await.text().await.unwrap();
    assert!(form.contains("Authorization Code Flow and Implicit Flow"));
    assert!(form.contains("Rotating Refresh Tokens") && form.contains("Long Lived Refresh Tokens"));

    // New Application → Create.
    let created = env
        .post_form(
            &env.portal("apps"),
            &[
                ("name", "Bakery Sync"),
                ("flow", "authorization_code_implicit"),
                ("refresh_kind", "rotating"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let app_path = created.headers()["location"].to_str().unwrap().to_string();
    let client_id = app_path.rsplit('/').next().unwrap().to_string();
    let app = env.cc().app(&client_id).unwrap();
    assert_eq!(app.name, "Bakery Sync");
    assert_eq!(app.flow, OAuthFlow::AuthorizationCodeAndImplicit);
    assert_eq!(app.refresh_kind, RefreshKind::Rotating);
    assert!(app.client_secret.is_none() && app.redirect_uris.is_empty());
    let app_url = env.portal(&app_path);
    let page = env.get(&app_url).await.text().await.unwrap();
    assert!(page.contains(&client_id), "the API Key is shown");

    // Edit → redirect URIs → Save (a fragment is refused).
    let uris_url = format!("{app_url}/redirect-uris");
    let bad = env
        .post_form(
            &uris_url,
            &[("redirect_uris", "http://localhost:8917/callback#frag")],
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert!(env.cc().app(&client_id).unwrap().redirect_uris.is_empty());
    let both = format!(
        "{}\r\n{LOCAL}\r\n",
        ccsetup::sandbox::constant_contact::STACKONE_REDIRECT_URI
    );
    let saved = env.post_form(&uris_url, &[("redirect_uris", &both)]).await;
    assert_eq!(saved.status(), 303);
    assert_eq!(env.cc().app(&client_id).unwrap().redirect_uris.len(), 2);

    // Generate Client Secret: shown once.
    let secret_url = format!("{app_url}/client-secret");
    let shown = env.post_form(&secret_url, &[]).await.text().await.unwrap();
    let secret = env.cc().app(&client_id).unwrap().client_secret.unwrap();
    assert!(shown.contains(&secret));
    let reload = env.get(&app_url).await.text().await.unwrap();
    assert!(!reload.contains(&secret), "a reload does not show it again");
    let again = env.post_form(&secret_url, &[]).await.text().await.unwrap();
    let newer = env.cc().app(&client_id).unwrap().client_secret.unwrap();
    assert!(again.contains(&newer) && !again.contains(&secret));

    // The app works end to end with the newest secret only.
    let env = Env {
        app: RegisteredApp {
            client_id,
            client_secret: Some(newer),
        },
        ..env
    };
    let tokens = env.tokens(SCOPES).await;
    assert!(tokens["refresh_token"].is_string());
    let old = env
        .post_token(
            Some((&env.app.client_id, &secret)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_oauth_error(&old, 401, "invalid_client");
}

#[tokio::test]
async fn device_and_pkce_apps_cannot_do_the_confidential_code_flow() {
    let env = Env::new();
    let device = env.cc().register_app(
        AppRegistration::new()
            .name("TV")
            .flow(OAuthFlow::Device)
            .redirect_uri(LOCAL),
    );
    assert!(device.client_secret.is_none());
    let p = pkce();
    let resp = env
        .get(&env.authorize_url(&p.challenge, &[("client_id", Some(&device.client_id))]))
        .await;
    // Okta validated the client and the redirect URI: the error goes back
    // to the client (docs/vendors.md §5).
    assert_eq!(resp.status(), 302);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&format!("{LOCAL}?")), "{location}");
    assert_eq!(query_of(&location)["error"], "unauthorized_client");
    let pkce_app = env
        .cc()
        .register_app(AppRegistration::new().name("SPA").flow(OAuthFlow::Pkce));
    assert!(pkce_app.client_secret.is_none(), "PKCE apps have no secret");
}

// ---------------------------------------------------------------- secrets

#[tokio::test]
async fn no_response_ever_contains_the_client_secret() {
    let env = Env::new();
    let tokens = env.tokens(SCOPES).await;
    let (code, verifier) = env.approved_code(SCOPES).await;
    let mut in_body = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", LOCAL),
        ("code_verifier", verifier.as_str()),
        ("client_secret", env.secret()),
    ];
    env.post_token(None, &in_body).await;
    env.post_token(env.basic(), &in_body).await;
    in_body.pop();
    env.post_token(env.basic(), &in_body).await;
    env.post_token(env.basic(), &in_body).await;
    env.refresh(tokens["refresh_token"].as_str().unwrap()).await;
    env.get(&env.portal("")).await;
    env.get(&env.portal(&format!("apps/{}", env.app.client_id)))
        .await;

    let secret = env.secret();
    assert!(
        env.cc().log().entries().iter().any(|r| r.contains(secret)),
        "the scan can see the secret where it is sent"
    );
    let responses = env.cc().responses();
    assert!(responses.len() >= 10);
    for r in responses {
        assert!(
            !r.contains(secret),
            "{} {} echoed the secret",
            r.method,
            r.path
        );
    }
}

// ---------------------------------------------------------- test browser

#[test]
fn the_test_browser_delivers_the_callback_from_a_plain_test() {
    use ccsetup::sandbox::server::{HttpServer, Request, Response, Service};
    use std::sync::{Arc, Mutex};

    /// A stand-in for ccsetup's loopback listener: records the callback.
    struct Listener(Mutex<Vec<String>>);
    impl Service for Listener {
        fn handle(&self, req: &Request) -> Response {
            self.0.lock().unwrap().push(req.query.clone());
            Response::html(200, "<p>You can close this tab.</p>")
        }
    }

    let rt = crate::support::stand_in_http::server_runtime();
    let listener = Arc::new(Listener(Mutex::new(Vec::new())));
    let server = HttpServer::start(rt.handle(), "listener", listener.clone()).unwrap();
    let callback = server.url("/callback").to_string();

    let env = Env::with(AppRegistration::new().redirect_uri(callback.clone()));
    let p = pkce();
    let mut url = env.cc().authorize_url();
    url.query_pairs_mut().extend_pairs([
        ("client_id", env.app.client_id.as_str()),
        ("redirect_uri", &callback),
        ("response_type", "code"),
        ("scope", SCOPES),
        ("state", STATE),
        ("code_challenge", &p.challenge),
        ("code_challenge_method", "S256"),
    ]);
    let location = test_browser::consent_blocking(url.as_str(), Decision::Approve).unwrap();
    assert!(location.starts_with(&callback));
    let (status, body) = test_browser::deliver_blocking(&location).unwrap();
    assert_eq!(
        (status, body.as_str()),
        (200, "<p>You can close this tab.</p>")
    );
    let seen = listener.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].contains("code=") && seen[0].contains(STATE));

    // An error page is an Err, not a location.
    let bad = url.as_str().replace(
        "code_challenge_method=S256",
        "code_challenge_method=S256&client_id=x",
    );
    assert!(test_browser::consent_blocking(&bad, Decision::Approve).is_err());
}

// ------------------------------------------- strict, but not over-strict

/// `oauth2`'s HTTP hook, over ccsetup's reqwest client.
async fn oauth2_http(request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let client = ccsetup::http::client().unwrap();
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).unwrap();
    let mut builder = client.request(method, parts.uri.to_string()).body(body);
    for (name, value) in &parts.headers {
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    let response = builder.send().await?;
    let mut out = oauth2::http::Response::builder().status(response.status().as_u16());
    for (name, value) in response.headers() {
        out = out.header(name.as_str(), value.as_bytes());
    }
    Ok(out.body(response.bytes().await?.to_vec()).unwrap())
}

/// A standard OAuth client (the `oauth2` crate: Basic auth, PKCE S256,
/// `state`) completes the flow and a rotation: the rules refuse mistakes,
/// not correct clients.
#[tokio::test]
async fn a_standard_oauth2_client_completes_the_flow() {
    use oauth2::basic::BasicClient;
    use oauth2::{
        AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
        RedirectUrl, Scope, TokenResponse as _, TokenUrl,
    };
    let env = Env::new();
    let client = BasicClient::new(ClientId::new(env.app.client_id.clone()))
        .set_client_secret(ClientSecret::new(env.secret().to_string()))
        .set_auth_type(AuthType::BasicAuth)
        .set_auth_uri(AuthUrl::from_url(env.cc().authorize_url()))
        .set_token_uri(TokenUrl::from_url(env.cc().token_url()))
        .set_redirect_uri(RedirectUrl::new(LOCAL.to_string()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(SCOPES.split(' ').map(|s| Scope::new(s.to_string())))
        .set_pkce_challenge(challenge)
        .url();
    let location = test_browser::consent(url.as_str(), Decision::Approve)
        .await
        .unwrap();
    let q = query_of(&location);
    assert_eq!(&q["state"], csrf.secret());
    let tokens = client
        .exchange_code(AuthorizationCode::new(q["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&oauth2_http)
        .await
        .unwrap();
    assert_eq!(tokens.expires_in(), Some(Duration::from_secs(86400)));
    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .request_async(&oauth2_http)
        .await
        .unwrap();
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        tokens.refresh_token().unwrap().secret()
    );
    let (status, _) = env.summary(Some(refreshed.access_token().secret())).await;
    assert_eq!(status, 200);
}

/// "It worked, but the answer was lost": the rotation still happened, so
/// retrying with the old token fails — as against the real service.
#[tokio::test]
async fn a_refresh_whose_answer_is_lost_has_still_rotated() {
    use crate::support::fault;
    let env = Env::new();
    let token = env.tokens(SCOPES).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    env.cc()
        .inject(fault::on("POST", "/oauth2/default/v1/token").reset_after_handling());
    let lost = env
        .http
        .post(env.cc().token_url())
        .basic_auth(&env.app.client_id, Some(env.secret()))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &token)])
        .send()
        .await;
    assert!(lost.is_err(), "the answer is lost");
    assert_oauth_error(&env.refresh(&token).await, 400, "invalid_grant");
    assert_eq!(
        env.cc().refresh_tokens_redeemed_more_than_once(),
        vec![token]
    );
}
