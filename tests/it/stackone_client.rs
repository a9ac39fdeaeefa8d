//! The StackOne client and `ensure_connector_profile` against the strict
//! stand-in. Every call goes through [`Ensure`] (the usual call plus what
//! differs); the cases that are one call against one prepared stand-in are
//! rows of the [`cases!`] table.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ccsetup::cli::StackOneMode;
use ccsetup::error::ErrorKind;
use ccsetup::sandbox::stackone::{
    DEFAULT_API_KEY, Listing, ProfileWriteApi, StackOneOptions, StackOneStandIn, faults,
};
use ccsetup::sandbox::{FaultAction, Response};
use ccsetup::stackone::{
    ConnectSessionRequest, DashboardGuide, DashboardSteps, DashboardTask, DesiredProfile,
    EnsureOptions, LineSource, PrintedDashboardGuide, ProfileAction, ProfileField, ProfileOutcome,
    RemoveOutcome, RetryPolicy, StackOneClient, UserWait, ensure_connector_profile,
    remove_connector_profile,
};
use ccsetup::ui::IoStreams;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::support::fault;
use crate::support::http::SharedBuf;

const SECRET: &str = "cc-secret-Hk29dLqP0x";
const CLIENT_ID: &str = "6f1c2d3e-aaaa-bbbb-cccc-1234567890ab";

/// The stand-in on a runtime of its own (tests run on another one).
struct Harness {
    so: Option<Arc<StackOneStandIn>>,
    rt: Option<tokio::runtime::Runtime>,
}

impl Harness {
    fn new(options: StackOneOptions) -> Self {
        let (rt, so) = crate::support::stand_in_http::start_stackone(options);
        Harness {
            so: Some(Arc::new(so)),
            rt: Some(rt),
        }
    }

    /// The stand-in with StackOne's HYPOTHETICAL profile-write API on (a
    /// StackOne that does not exist today); as it is, use [`Harness::new`]
    /// with `StackOneOptions::default()`.
    fn with_hypothetical_write_api() -> Self {
        Self::new(StackOneOptions::with_hypothetical_write_api())
    }

    fn so(&self) -> &StackOneStandIn {
        self.so.as_ref().unwrap()
    }

    /// A handle for closures (a guide "doing" the dashboard steps).
    fn shared(&self) -> Arc<StackOneStandIn> {
        self.so.clone().unwrap()
    }

    fn client_with_key(&self, key: &str) -> StackOneClient {
        StackOneClient::new(
            ccsetup::http::client().unwrap(),
            self.so().api_url(),
            SecretString::from(key.to_string()),
        )
        .with_retry_policy(RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(5),
        })
    }

    fn client(&self) -> StackOneClient {
        self.client_with_key(&self.so().api_key())
    }

    fn options(&self) -> EnsureOptions {
        EnsureOptions {
            poll_attempts: 100,
            poll_interval: Duration::from_millis(50),
            create_retry_delay: Duration::from_millis(10),
            ..EnsureOptions::new(self.so().dashboard_url())
        }
    }

    /// An `ensure_connector_profile` call on this stand-in (see [`Ensure`]).
    fn ensure(&self) -> Ensure<'_> {
        Ensure {
            h: self,
            client: None,
            desired: desired(),
            mode: StackOneMode::Auto,
            known: None,
            guide: None,
            options: None,
        }
    }

    /// Requests to a path prefix with a method, in order.
    fn requests(&self, method: &str, path_prefix: &str) -> Vec<ccsetup::sandbox::RecordedRequest> {
        self.so()
            .log()
            .entries()
            .into_iter()
            .filter(|e| e.method == method && e.path.starts_with(path_prefix))
            .collect()
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        drop(self.so.take());
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

fn desired() -> DesiredProfile {
    DesiredProfile {
        name: "Constant Contact".into(),
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(SECRET),
        scopes: vec![
            "account_read".into(),
            "contact_data".into(),
            "offline_access".into(),
        ],
        actions: vec!["marketing_list_contacts".into()],
        secret_changed: false,
    }
}

/// A guide for tests: records what it was shown, and "does the steps" by
/// running `on_wait` (or refuses to be used at all).
struct ScriptedGuide {
    shown: Vec<DashboardSteps>,
    on_wait: Option<Box<dyn FnMut() + Send>>,
    forbidden: bool,
}

impl ScriptedGuide {
    fn doing(f: impl FnMut() + Send + 'static) -> Self {
        ScriptedGuide {
            shown: Vec::new(),
            on_wait: Some(Box::new(f)),
            forbidden: false,
        }
    }
    fn never_used() -> Self {
        ScriptedGuide {
            shown: Vec::new(),
            on_wait: None,
            forbidden: true,
        }
    }
}

impl DashboardGuide for ScriptedGuide {
    fn show_steps(
        &mut self,
        steps: &DashboardSteps,
        _secret: &SecretString,
    ) -> ccsetup::error::Result<()> {
        assert!(!self.forbidden, "the dashboard path must not be taken");
        self.shown.push(steps.clone());
        Ok(())
    }
    fn wait_for_user(&mut self, _steps: &DashboardSteps) -> ccsetup::error::Result<UserWait> {
        if let Some(f) = &mut self.on_wait {
            f();
        }
        Ok(UserWait::Done)
    }
}

fn body_json(e: &ccsetup::sandbox::RecordedRequest) -> Value {
    serde_json::from_slice(&e.body).unwrap()
}

/// One `ensure_connector_profile` call. By default the usual one: a fresh
/// client, [`desired`], auto mode, no known id, a guide that must not be
/// used, and [`Harness::options`]; each setter says what differs.
struct Ensure<'a> {
    h: &'a Harness,
    client: Option<&'a StackOneClient>,
    desired: DesiredProfile,
    mode: StackOneMode,
    known: Option<&'a str>,
    guide: Option<&'a mut dyn DashboardGuide>,
    options: Option<&'a EnsureOptions>,
}

impl<'a> Ensure<'a> {
    /// This client (it remembers a listing fallback) instead of a fresh one.
    fn client(self, client: &'a StackOneClient) -> Self {
        Ensure {
            client: Some(client),
            ..self
        }
    }
    fn desired(self, desired: &DesiredProfile) -> Self {
        Ensure {
            desired: desired.clone(),
            ..self
        }
    }
    fn mode(self, mode: StackOneMode) -> Self {
        Ensure { mode, ..self }
    }
    fn known(self, id: impl Into<Option<&'a str>>) -> Self {
        Ensure {
            known: id.into(),
            ..self
        }
    }
    fn guide(self, guide: &'a mut dyn DashboardGuide) -> Self {
        Ensure {
            guide: Some(guide),
            ..self
        }
    }
    fn options(self, options: &'a EnsureOptions) -> Self {
        Ensure {
            options: Some(options),
            ..self
        }
    }

    async fn run(self) -> ccsetup::error::Result<ProfileOutcome> {
        let fresh_client;
        let client = match self.client {
            Some(client) => client,
            None => {
                fresh_client = self.h.client();
                &fresh_client
            }
        };
        let usual_options;
        let options = match self.options {
            Some(options) => options,
            None => {
                usual_options = self.h.options();
                &usual_options
            }
        };
        let mut never_used = ScriptedGuide::never_used();
        let guide = match self.guide {
            Some(guide) => guide,
            None => &mut never_used,
        };
        ensure_connector_profile(client, &self.desired, self.mode, self.known, guide, options).await
    }
}

/// One row of the table: the stand-in, what is done to it before the call,
/// the call (from [`Harness::ensure`]) and what must come out.
struct Case {
    stand_in: StackOneOptions,
    given: fn(&Harness),
    call: fn(Ensure<'_>) -> Ensure<'_>,
    then: fn(&Harness, ccsetup::error::Result<ProfileOutcome>),
}

/// StackOne as it is; a row of the hypothetical write API says so in its
/// `stand_in`.
impl Default for Case {
    fn default() -> Self {
        Case {
            stand_in: StackOneOptions::default(),
            given: |_| {},
            call: |call| call,
            then: |_, _| {},
        }
    }
}

impl Case {
    async fn run(self) {
        let h = Harness::new(self.stand_in);
        (self.given)(&h);
        let out = (self.call)(h.ensure()).run().await;
        (self.then)(&h, out);
    }
}

/// Each row `name => Case { .. }` is a test of its own.
macro_rules! cases {
    ($($name:ident => $case:expr,)*) => {$(
        #[tokio::test]
        async fn $name() {
            $case.run().await
        }
    )*};
}

// --------------------------------------- one call, one outcome: the table

cases! {
    creates_the_profile_and_reads_it_back => Case {
        stand_in: StackOneOptions::with_hypothetical_write_api(),
        then: |h, out| {
            let out = out.unwrap();
            assert_eq!(out.action, ProfileAction::Created);
            assert_eq!(out.name, "Constant Contact");
            let stored = h.so().constant_contact_profiles();
            assert_eq!(stored.len(), 1);
            let p = &stored[0];
            assert_eq!(out.id, p.id);
            assert_eq!(p.client_id(), Some(CLIENT_ID));
            assert_eq!(p.client_secret(), Some(SECRET));
            assert_eq!(p.scopes, desired().scopes);
            assert_eq!(p.actions, desired().actions);
            assert_eq!(
                h.requests("GET", &format!("/connector_profiles/{}", p.id))
                    .len(),
                1,
                "read back after the create"
            );
            // No recorded id: nothing to look up (a profile is never adopted
            // by its name), so the create comes first.
            let first = &h.so().log().entries()[0];
            assert_eq!(first.method, "POST");
        },
        ..Case::default()
    },

    a_plain_500_on_create_is_retried_after_looking => Case {
        stand_in: StackOneOptions::with_hypothetical_write_api(),
        given: |h| h.so().inject(faults::server_error(Some("POST"), "/connector_profiles", 1)),
        then: |h, out| {
            let out = out.unwrap();
            assert_eq!(out.action, ProfileAction::Created);
            assert_eq!(h.so().constant_contact_profiles().len(), 1);
            assert_eq!(h.requests("POST", "/connector_profiles").len(), 2);
            let log = h.so().log().entries();
            let posts: Vec<usize> = log
                .iter()
                .enumerate()
                .filter(|(_, e)| e.method == "POST")
                .map(|(i, _)| i)
                .collect();
            assert!(
                log[posts[0] + 1..posts[1]]
                    .iter()
                    .any(|e| e.method == "GET" && e.path == "/connector_profiles"),
                "listed between the two creates"
            );
        },
        ..Case::default()
    },

    a_create_that_keeps_failing_ends_as_a_remote_error => Case {
        stand_in: StackOneOptions::with_hypothetical_write_api(),
        given: |h| h.so().inject(faults::server_error(Some("POST"), "/connector_profiles", 10)),
        then: |h, out| {
            let err = out.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Remote);
            assert_eq!(err.exit_code(), 4);
            assert_eq!(
                h.requests("POST", "/connector_profiles").len(),
                3,
                "bounded"
            );
            assert!(err.message().contains("HTTP 500"), "{}", err.message());
        },
        ..Case::default()
    },

    a_409_never_adopts_the_older_profile_of_that_name => Case {
        stand_in: StackOneOptions::with_hypothetical_write_api(),
        given: |h| {
            h.so()
                .create_profile_as_dashboard("Constant Contact", "older-app", "older-secret", &[], &[])
                .unwrap();
        },
        call: |call| call.mode(StackOneMode::Api),
        then: |h, out| {
            let err = out.unwrap_err();
            assert!(err.message().contains("HTTP 409"), "{}", err.message());
            assert!(h.requests("PATCH", "/").is_empty(), "the older profile is not touched");
            let stored = h.so().constant_contact_profiles();
            assert_eq!(stored.len(), 1);
            assert_eq!(stored[0].client_id(), Some("older-app"));
        },
    },

    a_422_lists_stackones_field_errors => Case {
        stand_in: StackOneOptions::with_hypothetical_write_api(),
        call: |call| {
            let mut bad = desired();
            bad.actions = vec!["two words".into()];
            call.desired(&bad).mode(StackOneMode::Api)
        },
        then: |h, out| {
            let err = out.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Usage);
            assert!(err.message().contains("HTTP 422"), "{}", err.message());
            assert!(
                err.message()
                    .contains("actions[0]: must be a non-empty string without spaces"),
                "{}",
                err.message()
            );
            assert!(!err.render(true).contains(SECRET));
            assert_eq!(h.requests("POST", "/").len(), 1, "422 is not retried");
        },
        ..Case::default()
    },

    api_mode_never_goes_to_the_dashboard => Case {
        stand_in: StackOneOptions {
            profile_write_api: ProfileWriteApi::NotFound,
            ..Default::default()
        },
        call: |call| call.mode(StackOneMode::Api),
        then: |_, out| {
            let err = out.unwrap_err();
            assert_eq!(err.exit_code(), 4);
            assert!(
                err.message().contains("--stackone-mode api"),
                "{}",
                err.message()
            );
        },
        ..Case::default()
    },
}

// ------------------------------------------------------------- ensure

#[tokio::test]
async fn a_rerun_with_the_same_inputs_changes_nothing() {
    let h = Harness::with_hypothetical_write_api();
    let client = h.client();

    let first = h.ensure().client(&client).run().await.unwrap();
    h.so().log().clear();
    {
        let known = Some(first.id.as_str());
        let again = h.ensure().client(&client).known(known).run().await.unwrap();
        assert_eq!(again.action, ProfileAction::Unchanged);
        assert_eq!(again.id, first.id);
        assert!(again.changed.is_empty());
    }
    assert!(h.requests("POST", "/").is_empty());
    assert!(h.requests("PATCH", "/").is_empty());
    assert_eq!(h.so().constant_contact_profiles().len(), 1);
}

#[tokio::test]
async fn changed_scopes_are_patched_alone_and_a_changed_secret_only_when_said() {
    let h = Harness::with_hypothetical_write_api();
    let client = h.client();

    let first = h.ensure().client(&client).run().await.unwrap();

    let mut fewer = desired();
    fewer.scopes = vec!["offline_access".into(), "account_read".into()];
    let out = h
        .ensure()
        .client(&client)
        .desired(&fewer)
        .known(first.id.as_str())
        .run()
        .await
        .unwrap();
    assert_eq!(out.action, ProfileAction::Updated);
    assert_eq!(out.changed, [ProfileField::Scopes]);
    let patches = h.requests("PATCH", "/connector_profiles/");
    assert_eq!(patches.len(), 1);
    assert_eq!(
        body_json(&patches[0]),
        json!({"scopes": ["offline_access", "account_read"]}),
        "only the changed field"
    );
    assert_eq!(
        h.so().constant_contact_profiles()[0].scopes,
        ["offline_access", "account_read"]
    );

    // Scope order is not a change.
    let mut reordered = fewer.clone();
    reordered.scopes.reverse();
    let out = h
        .ensure()
        .client(&client)
        .desired(&reordered)
        .known(first.id.as_str())
        .run()
        .await
        .unwrap();
    assert_eq!(out.action, ProfileAction::Unchanged);

    // A rotated secret is written because the caller says so.
    let mut rotated = fewer.clone();
    rotated.client_secret = SecretString::from("cc-secret-ROTATED-2");
    rotated.secret_changed = true;
    let out = h
        .ensure()
        .client(&client)
        .desired(&rotated)
        .known(first.id.as_str())
        .run()
        .await
        .unwrap();
    assert_eq!(out.action, ProfileAction::Updated);
    assert_eq!(out.changed, [ProfileField::ClientSecret]);
    let patches = h.requests("PATCH", "/connector_profiles/");
    assert_eq!(
        body_json(patches.last().unwrap()),
        json!({"credentials": {"client_secret": "cc-secret-ROTATED-2"}})
    );
    assert_eq!(
        h.so().constant_contact_profiles()[0].client_secret(),
        Some("cc-secret-ROTATED-2")
    );
}

#[tokio::test]
async fn a_500_after_the_create_still_leaves_exactly_one_profile() {
    for action in [
        FaultAction::RespondAfterHandling(Response::json(
            500,
            &json!({"statusCode": 500, "message": "Internal server error", "timestamp": "t"}),
        )),
        FaultAction::ResetAfterHandling,
    ] {
        let h = Harness::with_hypothetical_write_api();
        h.so()
            .inject(fault::on("POST", "/connector_profiles").action(action));
        let out = h.ensure().run().await.unwrap();
        assert_eq!(out.action, ProfileAction::Created);
        let stored = h.so().constant_contact_profiles();
        assert_eq!(stored.len(), 1, "no duplicate");
        assert_eq!(out.id, stored[0].id);
        assert_eq!(
            h.requests("POST", "/connector_profiles").len(),
            1,
            "found it instead of posting again"
        );
    }
}

#[test]
fn a_profile_that_vanishes_before_the_patch_is_created_again() {
    let h = Harness::with_hypothetical_write_api();
    let id = h
        .so()
        .create_profile_as_dashboard("Constant Contact", CLIENT_ID, SECRET, &[], &[])
        .unwrap();
    h.so().inject(faults::slow(
        Some("PATCH"),
        "/connector_profiles/",
        Duration::from_millis(400),
        1,
    ));
    let so = h.shared();
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            // While the PATCH is held up, the profile is deleted.
            std::thread::sleep(Duration::from_millis(150));
            assert!(so.delete_profile_as_dashboard(&id));
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(h.ensure().known(id.as_str()).run())
    })
    .unwrap();
    assert_eq!(out.action, ProfileAction::Created);
    assert_ne!(out.id, id);
    let stored = h.so().constant_contact_profiles();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].scopes, desired().scopes);
}

// ------------------------------------------------------ retries, errors

#[tokio::test]
async fn a_429_is_retried_after_retry_after() {
    let h = Harness::with_hypothetical_write_api();
    h.so()
        .inject(faults::rate_limited(Some("GET"), "/connector_profiles", 1));
    let started = Instant::now();
    let listed = h.client().list_profiles("constantcontact").await.unwrap();
    assert!(listed.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(h.requests("GET", "/connector_profiles").len(), 2);

    // A 429 on a create was not processed: it is retried like any call.
    h.so()
        .inject(faults::rate_limited(Some("POST"), "/connector_profiles", 1));
    let out = h.ensure().run().await.unwrap();
    assert_eq!(out.action, ProfileAction::Created);
    assert_eq!(h.so().constant_contact_profiles().len(), 1);
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_fails_at_once() {
    let h = Harness::new(StackOneOptions::default());
    h.so().inject(
        fault::any_method("/").times(5).respond(
            Response::json(
                429,
                &json!({"statusCode": 429, "message": "Too Many Requests"}),
            )
            .with_header("retry-after", "3600"),
        ),
    );
    let started = Instant::now();
    let err = h
        .client()
        .list_profiles("constantcontact")
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(err.status(), Some(429));
    let err = err.into_error();
    assert_eq!(err.exit_code(), 4);
    assert!(err.hint().unwrap().contains("3600"));
}

#[tokio::test]
async fn server_errors_on_reads_are_retried_and_unreachable_is_exit_4() {
    let h = Harness::new(StackOneOptions::default());
    h.so()
        .inject(faults::server_error(Some("GET"), "/connector_profiles", 2));
    h.client().list_profiles("constantcontact").await.unwrap();
    assert_eq!(h.requests("GET", "/connector_profiles").len(), 3);

    let closed = format!("127.0.0.1:{}", crate::support::e2e::free_port());
    let client = StackOneClient::new(
        ccsetup::http::client().unwrap(),
        url::Url::parse(&format!("http://{closed}/")).unwrap(),
        SecretString::from(DEFAULT_API_KEY),
    )
    .with_retry_policy(RetryPolicy {
        base_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    });
    let err = client.list_profiles("constantcontact").await.unwrap_err();
    assert_eq!(err.status(), None);
    let err = err.into_error();
    assert_eq!(err.kind(), ErrorKind::Remote);
    assert!(
        err.message().contains("after 4 attempts"),
        "{}",
        err.message()
    );
    assert!(!err.render(true).contains(DEFAULT_API_KEY));
}

#[tokio::test]
async fn a_bad_or_forbidden_key_is_a_usage_error_that_never_shows_the_key() {
    let h = Harness::new(StackOneOptions {
        forbidden_api_keys: vec!["v1.sandbox.readonly-key".into()],
        ..StackOneOptions::with_hypothetical_write_api()
    });
    for key in ["v1.eu1.wrong-key-abcdef", "v1.sandbox.readonly-key"] {
        let err = h
            .client_with_key(key)
            .list_profiles("constantcontact")
            .await
            .unwrap_err();
        assert!(matches!(err.status(), Some(401 | 403)));
        let err = err.into_error();
        assert_eq!(err.kind(), ErrorKind::Usage);
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("API key"), "{}", err.message());
        assert!(err.hint().unwrap().contains("API Keys"));
        assert!(!err.render(true).contains(key));
    }
    assert_eq!(h.requests("GET", "/").len(), 2, "401/403 are not retried");
}

// ------------------------------------------------------------ listing

#[tokio::test]
async fn listing_follows_every_page() {
    let h = Harness::new(StackOneOptions {
        seed_unrelated_profiles: false,
        ..StackOneOptions::with_hypothetical_write_api()
    });
    for i in 0..30 {
        h.so()
            .create_profile_as_dashboard(&format!("Profile {i:02}"), CLIENT_ID, "s", &[], &[])
            .unwrap();
    }
    let listed = h.client().list_profiles("constantcontact").await.unwrap();
    assert_eq!(listed.len(), 30);
    assert_eq!(listed[29].name, "Profile 29");
    let gets = h.requests("GET", "/connector_profiles");
    assert_eq!(gets.len(), 2);
    assert_eq!(gets[0].query, "connector_key=constantcontact");
    assert_eq!(gets[1].query, "connector_key=constantcontact&page=2");

    // ensure finds the recorded profile on the second page instead of creating one.
    let mut wanted = desired();
    wanted.name = "Profile 27".into();
    wanted.scopes = vec![];
    wanted.actions = vec![];
    let out = h
        .ensure()
        .desired(&wanted)
        .known(listed[27].id.as_str())
        .run()
        .await
        .unwrap();
    assert_eq!(out.action, ProfileAction::Unchanged);
    assert_eq!(h.so().constant_contact_profiles().len(), 30);
}

#[tokio::test]
async fn listing_falls_back_to_auth_configs_on_404() {
    let h = Harness::new(StackOneOptions {
        listing: Listing::AuthConfigsOnly,
        ..StackOneOptions::with_hypothetical_write_api()
    });
    h.so()
        .create_profile_as_dashboard("Constant Contact", CLIENT_ID, SECRET, &[], &[])
        .unwrap();
    let client = h.client();
    let listed = client.list_profiles("constantcontact").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "Constant Contact");
    client.list_profiles("constantcontact").await.unwrap();
    assert_eq!(
        h.requests("GET", "/connector_profiles").len(),
        1,
        "the fallback is remembered"
    );
    assert_eq!(h.requests("GET", "/auth_configs").len(), 2);

    // A 404 on listing never sends anyone to the dashboard: the old API's
    // existing profile is found and left alone.
    let mut wanted = desired();
    wanted.scopes = vec![];
    wanted.actions = vec![];
    let out = h
        .ensure()
        .client(&client)
        .desired(&wanted)
        .known(listed[0].id.as_str())
        .run()
        .await
        .unwrap();
    assert_eq!(out.action, ProfileAction::Unchanged);
}

// ---------------------------------------------------- dashboard path

#[tokio::test]
async fn without_a_write_api_auto_mode_waits_for_the_dashboard_form() {
    let h = Harness::new(StackOneOptions {
        profile_write_api: ProfileWriteApi::NotFound,
        ..Default::default()
    });
    let client = h.client();
    let err_buf = SharedBuf::default();
    let mut io = IoStreams::captured(Box::new(std::io::sink()), Box::new(err_buf.clone()));

    // Someone fills the dashboard form over HTTP while the client polls.
    let filler = fill_the_form_soon(&h);
    let out = {
        let mut guide = PrintedDashboardGuide::proceeding(&mut io);
        h.ensure()
            .client(&client)
            .guide(&mut guide)
            .run()
            .await
            .unwrap()
    };
    filler.await.unwrap();
    assert_eq!(out.action, ProfileAction::Dashboard);
    let stored = h.so().constant_contact_profiles();
    assert_eq!(stored.len(), 1);
    assert_eq!(out.id, stored[0].id);
    assert_eq!(stored[0].created_via, "dashboard");
    assert!(
        h.requests("GET", "/connector_profiles").len() >= 3,
        "polled the list"
    );
    let printed = err_buf.text();
    assert!(printed.contains("+ Connector Profile"), "{printed}");
    assert!(printed.contains(CLIENT_ID));
    assert!(printed.contains(h.so().dashboard_url().as_str()));
    assert!(!printed.contains(SECRET));
}

#[tokio::test]
async fn a_405_or_501_on_create_or_update_also_leads_to_the_dashboard() {
    for mode in [
        ProfileWriteApi::MethodNotAllowed,
        ProfileWriteApi::NotImplemented,
    ] {
        let h = Harness::new(StackOneOptions {
            profile_write_api: mode,
            ..Default::default()
        });
        let so = h.shared();
        let mut guide = ScriptedGuide::doing(move || {
            so.create_profile_as_dashboard(
                "Constant Contact",
                CLIENT_ID,
                SECRET,
                &["account_read"],
                &[],
            )
            .unwrap();
        });
        let out = h.ensure().guide(&mut guide).run().await.unwrap();
        assert_eq!(out.action, ProfileAction::Dashboard, "{mode:?}");
        assert_eq!(guide.shown[0].task, DashboardTask::Create);

        // An update with a new secret: the PATCH is refused too → edit steps.
        let mut rotated = desired();
        rotated.secret_changed = true;
        let mut guide = ScriptedGuide::doing(|| {});
        let out = h
            .ensure()
            .desired(&rotated)
            .known(out.id.as_str())
            .guide(&mut guide)
            .run()
            .await
            .unwrap();
        assert_eq!(out.action, ProfileAction::Dashboard);
        assert_eq!(out.changed, [ProfileField::ClientSecret]);
        match &guide.shown[0].task {
            DashboardTask::Edit { fields, .. } => {
                assert_eq!(fields, &[ProfileField::ClientSecret])
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(h.so().constant_contact_profiles().len(), 1);
    }
}

#[tokio::test]
async fn non_interactive_dashboard_path_exits_4_with_the_steps_but_not_the_secret() {
    let h = Harness::new(StackOneOptions {
        profile_write_api: ProfileWriteApi::NotFound,
        ..Default::default()
    });
    let err_buf = SharedBuf::default();
    let mut io = IoStreams::captured(Box::new(std::io::sink()), Box::new(err_buf.clone()));
    io.quiet = true;
    let started = Instant::now();
    let (err, listed_before) = {
        let mut guide = PrintedDashboardGuide::non_interactive(&mut io);
        let err = h.ensure().guide(&mut guide).run().await.unwrap_err();
        (err, guide.listed_before().unwrap().to_vec())
    };
    assert!(started.elapsed() < Duration::from_secs(1), "at once");
    assert_eq!(err.kind(), ErrorKind::Remote);
    assert_eq!(err.exit_code(), 4);
    let printed = err_buf.text();
    assert!(printed.contains("API Key (Client ID): "), "{printed}");
    assert!(printed.contains(CLIENT_ID));
    assert!(!printed.contains(SECRET));
    assert!(!err.render(true).contains(SECRET));
    assert_eq!(
        h.requests("GET", "/connector_profiles").len(),
        1,
        "no polling"
    );

    // Once the person made it, the same non-interactive run, given the ids
    // the first one listed (config.toml keeps them), adopts the new one.
    let made = h
        .so()
        .fill_dashboard_form(CLIENT_ID, SECRET, &[], &[])
        .unwrap();
    let mut guide = PrintedDashboardGuide::non_interactive(&mut io);
    let opts = EnsureOptions {
        seen_before: Some(listed_before),
        ..h.options()
    };
    let out = h
        .ensure()
        .mode(StackOneMode::Dashboard)
        .guide(&mut guide)
        .options(&opts)
        .run()
        .await
        .unwrap();
    assert_eq!(out.action, ProfileAction::Dashboard);
    assert_eq!(out.id, made);
}

#[tokio::test]
async fn dashboard_mode_never_writes_through_the_api() {
    // Even where the (hypothetical) write API exists.
    let h = Harness::with_hypothetical_write_api();
    let so = h.shared();
    let mut guide = ScriptedGuide::doing(move || {
        so.create_profile_as_dashboard(
            "Constant Contact",
            CLIENT_ID,
            SECRET,
            &["account_read", "contact_data", "offline_access"],
            &["marketing_list_contacts"],
        )
        .unwrap();
    });
    let out = h
        .ensure()
        .mode(StackOneMode::Dashboard)
        .guide(&mut guide)
        .run()
        .await
        .unwrap();
    assert_eq!(out.action, ProfileAction::Dashboard);
    assert!(h.requests("POST", "/").is_empty());
    assert!(h.requests("PATCH", "/").is_empty());
    let steps = &guide.shown[0];
    assert_eq!(steps.client_id, CLIENT_ID);
    assert_eq!(steps.name, "Constant Contact");
}

#[tokio::test]
async fn a_dashboard_profile_that_never_appears_is_a_bounded_remote_error() {
    let h = Harness::new(StackOneOptions {
        profile_write_api: ProfileWriteApi::NotFound,
        ..Default::default()
    });
    let opts = EnsureOptions {
        poll_attempts: 3,
        poll_interval: Duration::from_millis(20),
        ..h.options()
    };
    let err = h
        .ensure()
        .guide(&mut ScriptedGuide::doing(|| {}))
        .options(&opts)
        .run()
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 4);
    assert!(
        err.message()
            .contains("no new Constant Contact connector profile appeared"),
        "{}",
        err.message()
    );
    assert_eq!(h.requests("GET", "/connector_profiles").len(), 1 + 3);
}

/// Lines "typed" while ccsetup polls, from a channel.
struct ChannelLines(tokio::sync::mpsc::Receiver<String>);

impl LineSource for ChannelLines {
    fn next_line(
        &mut self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<String>> + Send + '_>> {
        Box::pin(self.0.recv())
    }
}

/// A guide whose user is still at the form while ccsetup polls: the lines
/// come from a channel; what ccsetup tells them is recorded. With `enter`,
/// the user presses Enter when told a profile appeared.
#[derive(Default)]
struct WaitingGuide {
    lines: Option<ChannelLines>,
    enter: Option<tokio::sync::mpsc::Sender<String>>,
    notes: Vec<String>,
    appeared: usize,
    over: usize,
}

impl DashboardGuide for WaitingGuide {
    fn show_steps(&mut self, _: &DashboardSteps, _: &SecretString) -> ccsetup::error::Result<()> {
        Ok(())
    }
    fn wait_for_user(&mut self, _: &DashboardSteps) -> ccsetup::error::Result<UserWait> {
        Ok(UserWait::Polling(Box::new(self.lines.take().unwrap())))
    }
    fn on_appeared(&mut self, _: &[ccsetup::stackone::ConnectorProfile]) {
        self.appeared += 1;
        if let Some(enter) = &self.enter {
            enter.try_send(String::new()).unwrap();
        }
    }
    fn on_wait_over(&mut self) {
        self.over += 1;
    }
    fn on_note(&mut self, note: &str) {
        self.notes.push(note.to_string());
    }
}

/// The person fills the stand-in dashboard's form over HTTP, a moment
/// after ccsetup first listed the profiles.
fn fill_the_form_soon(h: &Harness) -> tokio::task::JoinHandle<()> {
    let form_url = h.so().url("/dashboard/connector-profiles");
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let resp = ccsetup::http::client()
            .unwrap()
            .post(form_url)
            .form(&[
                ("connector_key", "constantcontact"),
                ("authentication_config_key", "oauth2"),
                ("client_id", CLIENT_ID),
                ("client_secret", SECRET),
                ("scopes", "account_read contact_data offline_access"),
                ("actions", "marketing_list_contacts"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 303);
    })
}

#[tokio::test]
async fn while_polling_a_wrong_line_is_explained_and_enter_checks_at_once() {
    let h = Harness::new(StackOneOptions {
        profile_write_api: ProfileWriteApi::NotFound,
        ..Default::default()
    });
    // No check of its own during the test: only Enter makes one.
    let opts = EnsureOptions {
        poll_interval: Duration::from_secs(600),
        ..h.options()
    };
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let mut guide = WaitingGuide {
        lines: Some(ChannelLines(rx)),
        ..Default::default()
    };
    tx.send("not an id".into()).await.unwrap();
    tx.send("4242424242".into()).await.unwrap();
    // The person fills the form, then presses Enter.
    let filled = fill_the_form_soon(&h);
    let user = tokio::spawn(async move {
        filled.await.unwrap();
        tx.send(String::new()).await.unwrap();
        tx
    });
    let run = h
        .ensure()
        .mode(StackOneMode::Dashboard)
        .guide(&mut guide)
        .options(&opts)
        .run();
    let out = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("Enter checks at once and the found profile is taken")
        .unwrap();
    let _tx = user.await.unwrap();
    assert_eq!(out.id, h.so().constant_contact_profiles()[0].id);
    assert_eq!(out.action, ProfileAction::Dashboard);
    let notes = &guide.notes;
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].contains("paste the connector ID"), "{notes:?}");
    assert!(notes[1].contains("lists no"), "{notes:?}");
    assert!(
        notes[1].contains("Copy connector ID"),
        "with the fix: {notes:?}"
    );
    assert_eq!(guide.appeared, 0, "found by the check the user asked for");
    assert_eq!(guide.over, 1);
    // Checks are 600 s apart here: finishing at all says Enter checked.
}

#[tokio::test]
async fn while_polling_a_profile_that_shows_waits_for_the_users_enter_or_the_end_of_input() {
    for user_at_the_terminal in [true, false] {
        let h = Harness::new(StackOneOptions {
            profile_write_api: ProfileWriteApi::NotFound,
            ..Default::default()
        });
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let mut guide = WaitingGuide {
            lines: Some(ChannelLines(rx)),
            enter: user_at_the_terminal.then_some(tx.clone()),
            ..Default::default()
        };
        if !user_at_the_terminal {
            drop(tx);
        }
        let filled = fill_the_form_soon(&h);
        let run = h.ensure().guide(&mut guide).run();
        let out = tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .expect("the user's Enter (or the end of input) ends the wait")
            .unwrap();
        filled.await.unwrap();
        assert_eq!(out.id, h.so().constant_contact_profiles()[0].id);
        // Announced (and continued on Enter) only to someone who can answer.
        assert_eq!(guide.appeared, usize::from(user_at_the_terminal));
        assert_eq!(guide.over, 1);
        assert!(
            !guide.notes.iter().any(|n| n.contains("paste")),
            "{:?}",
            guide.notes
        );
    }
}

// ------------------------------------------------- delete, sessions

#[tokio::test]
async fn remove_tells_deleted_gone_and_not_offered_apart() {
    let h = Harness::with_hypothetical_write_api();
    let client = h.client();
    let id = h
        .so()
        .create_profile_as_dashboard("Constant Contact", CLIENT_ID, SECRET, &[], &[])
        .unwrap();
    assert_eq!(
        remove_connector_profile(&client, &id).await.unwrap(),
        RemoveOutcome::Deleted
    );
    assert_eq!(
        remove_connector_profile(&client, &id).await.unwrap(),
        RemoveOutcome::AlreadyGone
    );
    let id = h
        .so()
        .create_profile_as_dashboard("Constant Contact", CLIENT_ID, SECRET, &[], &[])
        .unwrap();
    h.so().set_profile_write_api(ProfileWriteApi::NotFound);
    assert_eq!(
        remove_connector_profile(&client, &id).await.unwrap(),
        RemoveOutcome::NotOffered
    );
}

#[tokio::test]
async fn a_connect_session_has_a_hub_link_and_a_computed_expiry() {
    let h = Harness::with_hypothetical_write_api();
    let client = h.client();
    let profile = h.ensure().client(&client).run().await.unwrap();
    for (expires_in, secs) in [(None, 1800), (Some(600), 600)] {
        let session = client
            .create_connect_session(&ConnectSessionRequest {
                origin_owner_id: "acme-1".into(),
                origin_owner_name: "Acme".into(),
                provider: Some("constantcontact".into()),
                label: Some("Acme CC".into()),
                connector_profile_id: Some(profile.id.clone()),
                expires_in,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(session.id.parse::<u64>().is_ok());
        let link = url::Url::parse(&session.auth_link_url).unwrap();
        assert_eq!(link.path(), "/hub");
        assert!(link.query().unwrap().starts_with("token="));
        let fmt = &time::format_description::well_known::Rfc3339;
        let created =
            time::OffsetDateTime::parse(session.created_at.as_deref().unwrap(), fmt).unwrap();
        let expires = time::OffsetDateTime::parse(&session.expires_at, fmt).unwrap();
        let delta = (expires - created).whole_seconds();
        assert!((secs - 1..=secs).contains(&delta), "{delta}");
        assert_eq!(
            session.connector_profile_id.as_deref(),
            Some(profile.id.as_str())
        );
        let token = link.query_pairs().next().unwrap().1.to_string();
        assert!(
            !format!("{session:?}").contains(&token),
            "Debug hides the token"
        );
    }
    let posts = h.requests("POST", "/connect_sessions");
    assert_eq!(body_json(&posts[0]).get("expires_in"), None);
    assert_eq!(body_json(&posts[1])["expires_in"], 600);

    let err = client
        .create_connect_session(&ConnectSessionRequest {
            origin_owner_id: "acme-1".into(),
            origin_owner_name: "".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
}

// --------------------------------------------------------------- secrets

#[tokio::test]
async fn the_secret_travels_only_in_the_write_body_and_the_key_only_in_the_header() {
    let h = Harness::with_hypothetical_write_api();
    let client = h.client();

    let first = h.ensure().client(&client).run().await.unwrap();
    h.ensure()
        .client(&client)
        .known(first.id.as_str())
        .run()
        .await
        .unwrap();
    let rotated_secret = "cc-secret-rotated-Zz81";
    let mut rotated = desired();
    rotated.client_secret = SecretString::from(rotated_secret);
    rotated.secret_changed = true;
    h.ensure()
        .client(&client)
        .desired(&rotated)
        .known(first.id.as_str())
        .run()
        .await
        .unwrap();
    client
        .create_connect_session(&ConnectSessionRequest {
            origin_owner_id: "o".into(),
            origin_owner_name: "O".into(),
            ..Default::default()
        })
        .await
        .unwrap();

    let log = h.so().log().entries();
    let with_first: Vec<_> = log.iter().filter(|e| e.contains(SECRET)).collect();
    assert_eq!(with_first.len(), 1);
    assert_eq!(
        (with_first[0].method.as_str(), with_first[0].path.as_str()),
        ("POST", "/connector_profiles")
    );
    assert!(String::from_utf8_lossy(&with_first[0].body).contains(SECRET));
    let with_rotated: Vec<_> = log.iter().filter(|e| e.contains(rotated_secret)).collect();
    assert_eq!(with_rotated.len(), 1);
    assert_eq!(with_rotated[0].method, "PATCH");

    let key = h.so().api_key();
    for e in &log {
        assert!(
            !String::from_utf8_lossy(&e.body).contains(&key),
            "{} {}",
            e.method,
            e.path
        );
        assert!(!e.query.contains(&key));
        let ccsetup_auth = ccsetup::sandbox::server::Request {
            method: e.method.clone(),
            path: e.path.clone(),
            query: e.query.clone(),
            headers: e.headers.clone(),
            body: vec![],
        }
        .basic_auth();
        assert_eq!(ccsetup_auth, Some((key.clone(), String::new())));
    }
    for r in h.so().responses() {
        assert!(!r.contains(SECRET) && !r.contains(rotated_secret));
    }
    assert!(!format!("{client:?}").contains(&key));
}
