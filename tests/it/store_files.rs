//! config.toml, the file secret store, the profile lock and the refresh-token
//! recovery file, exercised on real temp directories.

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use ccsetup::cli::StoreChoice;
use ccsetup::config::{self, ConfigFile, ProfileConfig};
use ccsetup::error::ErrorKind;
use ccsetup::store::{self, ProfileLock, SecretKind, SecretStore, StoredAccessToken, recovery};
use secrecy::{ExposeSecret, SecretString};

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn profile(client_id: &str) -> ProfileConfig {
    let now = ccsetup::clock::now_rfc3339();
    ProfileConfig {
        client_id: client_id.into(),
        app_name: "StackOne Integration".into(),
        scopes: vec!["account_read".into(), "offline_access".into()],
        redirect_port: 8917,
        redirect_uri: None,
        secret_store: StoreChoice::File,
        stackone_connector_profile_id: Some("cp_123".into()),
        stackone_profile_name: Some("Constant Contact".into()),
        stackone_actions: vec!["contacts_list".into()],
        account_name: Some("Acme Inc".into()),
        account_email: Some("owner@example.com".into()),
        created_at: now.clone(),
        updated_at: now,
        authorized_at: None,
        client_secret_rotated_at: None,
        refresh_token_type: None,
        stackone: Default::default(),
    }
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

fn get(store: &dyn SecretStore, profile: &str, kind: SecretKind) -> Option<String> {
    store
        .get(&profile.into(), kind)
        .unwrap()
        .map(|s| s.expose_secret().to_string())
}

// ---------------------------------------------------------------- config.toml

#[test]
fn config_round_trip_creates_private_dir_and_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nested").join("ccsetup");
    assert_eq!(config::load(&dir).unwrap(), ConfigFile::default());

    let mut cfg = ConfigFile::default();
    cfg.upsert("default", profile("client-a"));
    cfg.upsert("prod-eu", profile("client-b"));
    config::save(&dir, &cfg).unwrap();
    assert_eq!(config::load(&dir).unwrap(), cfg);

    let text = std::fs::read_to_string(config::config_path(&dir)).unwrap();
    assert!(text.contains("[profiles.default]"), "{text}");
    assert!(text.contains("secret_store = \"file\""), "{text}");

    #[cfg(unix)]
    {
        assert_eq!(mode(&config::config_path(&dir)), 0o600);
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(dir.parent().unwrap()), 0o700);
    }

    cfg.remove("default");
    config::save(&dir, &cfg).unwrap();
    let back = config::load(&dir).unwrap();
    assert!(back.profile("default").is_none());
    assert_eq!(back.profile("prod-eu").unwrap().client_id, "client-b");
}

#[cfg(unix)]
#[test]
fn config_save_tightens_a_loose_existing_file_and_our_dir() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ccsetup");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(config::config_path(&dir), "").unwrap();
    std::fs::set_permissions(config::config_path(&dir), PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&dir, PermissionsExt::from_mode(0o755)).unwrap();
    config::save(&dir, &ConfigFile::default()).unwrap();
    assert_eq!(mode(&config::config_path(&dir)), 0o600);
    assert_eq!(mode(&dir), 0o700);
}

#[test]
fn corrupt_config_is_an_error_naming_the_path_and_is_left_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let path = config::config_path(tmp.path());
    let garbage = b"[profiles.default\nclient_id = 42 this is not toml\n";
    std::fs::write(&path, garbage).unwrap();
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();

    let err = config::load(tmp.path()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failure);
    assert_eq!(err.exit_code(), 1);
    assert!(
        err.message().contains(&path.display().to_string()),
        "{}",
        err.message()
    );
    assert!(err.hint().unwrap_or("").contains("will not overwrite"));

    assert_eq!(std::fs::read(&path).unwrap(), garbage);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        before
    );
    assert_eq!(names_in(tmp.path()), vec!["config.toml"]);
}

#[test]
fn unreadable_config_is_an_error_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    // A directory where the file should be: reading it fails.
    std::fs::create_dir(config::config_path(tmp.path())).unwrap();
    let err = config::load(tmp.path()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failure);
    assert!(err.message().contains("config.toml"), "{}", err.message());
}

#[test]
fn config_save_never_leaves_a_temp_file() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = ConfigFile::default();
    for i in 0..20 {
        cfg.upsert(&format!("p{i}"), profile(&format!("client-{i}")));
        config::save(tmp.path(), &cfg).unwrap();
        assert_eq!(names_in(tmp.path()), vec!["config.toml"], "after save {i}");
    }
    assert_eq!(config::load(tmp.path()).unwrap().profiles.len(), 20);

    // A failing save (the target is a non-empty directory) cleans up too.
    let blocked = tmp.path().join("blocked");
    std::fs::create_dir_all(config::config_path(&blocked).join("x")).unwrap();
    let err = config::save(&blocked, &cfg).unwrap_err();
    assert!(err.message().contains("config.toml"), "{}", err.message());
    assert_eq!(names_in(&blocked), vec!["config.toml"]);
}

/// Whether this process ignores directory permissions (root, CAP_DAC_OVERRIDE).
#[cfg(unix)]
fn permissions_are_bypassed(dir: &Path) -> bool {
    let probe = dir.join("probe");
    let bypassed = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    bypassed
}

#[cfg(unix)]
#[test]
fn config_save_into_a_read_only_dir_is_a_clear_error() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, PermissionsExt::from_mode(0o500)).unwrap();
    let result = if permissions_are_bypassed(&dir) {
        // Root writes into 0500 dirs; a path under a regular file is the
        // unwritable config dir it cannot get around.
        std::fs::set_permissions(&dir, PermissionsExt::from_mode(0o700)).unwrap();
        eprintln!("running with permission bypass (root): using a dir under a regular file");
        std::fs::write(tmp.path().join("file"), b"").unwrap();
        let unwritable = tmp.path().join("file").join("ccsetup");
        (
            config::save(&unwritable, &ConfigFile::default()),
            unwritable,
        )
    } else {
        (config::save(&dir, &ConfigFile::default()), dir.clone())
    };
    let (result, target) = result;
    let err = result.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Failure);
    let shown = err.render(false);
    assert!(shown.contains(&target.display().to_string()), "{shown}");
    assert!(shown.contains("--config-dir"), "{shown}");
    std::fs::set_permissions(&dir, PermissionsExt::from_mode(0o700)).unwrap();
    assert!(
        names_in(&dir).is_empty(),
        "nothing left in the read-only dir"
    );
}

// ------------------------------------------------------------- file store

#[test]
fn file_store_keeps_each_kind_per_profile() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store::open(StoreChoice::File, tmp.path()).unwrap();
    assert_eq!(store.choice(), StoreChoice::File);
    assert!(store.describe().contains(&tmp.path().display().to_string()));

    for kind in SecretKind::ALL {
        assert_eq!(get(&*store, "default", kind), None);
    }
    for kind in SecretKind::ALL {
        store
            .set(
                &"default".into(),
                kind,
                &secret(&format!("a-{}", kind.as_str())),
            )
            .unwrap();
        store
            .set(
                &"prod".into(),
                kind,
                &secret(&format!("b-{}", kind.as_str())),
            )
            .unwrap();
    }
    for kind in SecretKind::ALL {
        assert_eq!(
            get(&*store, "default", kind).as_deref(),
            Some(format!("a-{}", kind.as_str()).as_str())
        );
        assert_eq!(
            get(&*store, "prod", kind).as_deref(),
            Some(format!("b-{}", kind.as_str()).as_str())
        );
    }
    // Overwrite one kind of one profile only.
    store
        .set(
            &"default".into(),
            SecretKind::RefreshToken,
            &secret("rotated"),
        )
        .unwrap();
    assert_eq!(
        get(&*store, "default", SecretKind::RefreshToken).as_deref(),
        Some("rotated")
    );
    assert_eq!(
        get(&*store, "prod", SecretKind::RefreshToken).as_deref(),
        Some("b-refresh_token")
    );

    // A second handle on the same dir sees the same data.
    let again = store::open(StoreChoice::File, tmp.path()).unwrap();
    assert_eq!(
        get(&*again, "default", SecretKind::ClientSecret).as_deref(),
        Some("a-client_secret")
    );

    let file = tmp.path().join("secrets").join("default.json");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(json["refresh_token"], "rotated");
    assert_eq!(json["stackone_api_key"], "a-stackone_api_key");
    #[cfg(unix)]
    {
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&tmp.path().join("secrets")), 0o700);
    }

    store
        .delete(&"default".into(), SecretKind::ClientSecret)
        .unwrap();
    assert_eq!(get(&*store, "default", SecretKind::ClientSecret), None);
    store
        .delete(&"default".into(), SecretKind::ClientSecret)
        .unwrap();
    store
        .delete(&"nobody".into(), SecretKind::ClientSecret)
        .unwrap();
    for kind in SecretKind::ALL {
        store.delete(&"default".into(), kind).unwrap();
    }
    assert!(!file.exists(), "an empty profile file is removed");
    assert!(
        tmp.path().join("secrets").join("prod.json").exists(),
        "the other profile is untouched"
    );
    let left = names_in(&tmp.path().join("secrets"));
    assert_eq!(left, vec!["prod.json"], "no temp files");
}

#[test]
fn corrupt_secrets_file_is_exit_5_with_path_and_left_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store::open(StoreChoice::File, tmp.path()).unwrap();
    let dir = tmp.path().join("secrets");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("default.json");
    let garbage = b"{\"client_secret\": \"cs-DO-NOT-LEAK\", oops";
    std::fs::write(&file, garbage).unwrap();

    let err = store
        .get(&"default".into(), SecretKind::ClientSecret)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SecretStore);
    assert_eq!(err.exit_code(), 5);
    assert!(
        err.message().contains(&file.display().to_string()),
        "{}",
        err.message()
    );
    assert!(!err.render(true).contains("DO-NOT-LEAK"));

    let err = store
        .set(&"default".into(), SecretKind::RefreshToken, &secret("new"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SecretStore);
    let err = store
        .delete(&"default".into(), SecretKind::ClientSecret)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SecretStore);
    assert_eq!(std::fs::read(&file).unwrap(), garbage, "never rewritten");

    // Valid JSON of the wrong shape is refused the same way.
    std::fs::write(&file, b"{\"client_secret\": 12345}").unwrap();
    let err = store
        .get(&"default".into(), SecretKind::ClientSecret)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SecretStore);
    assert!(!err.render(true).contains("12345"), "{}", err.render(true));
}

#[test]
fn file_store_keeps_unknown_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("secrets");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("default.json"), br#"{"future_kind":"keep me"}"#).unwrap();
    let store = store::open(StoreChoice::File, tmp.path()).unwrap();
    store
        .set(&"default".into(), SecretKind::ClientSecret, &secret("cs"))
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("default.json")).unwrap()).unwrap();
    assert_eq!(json["future_kind"], "keep me");
    assert_eq!(json["client_secret"], "cs");
}

#[test]
fn file_store_concurrent_writers_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store::open(StoreChoice::File, tmp.path()).unwrap();
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let store = store.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let kind = SecretKind::ALL[i % 4];
                let profile = if i < 4 { "one" } else { "two" };
                for round in 0..5 {
                    store
                        .set(
                            &profile.into(),
                            kind,
                            &secret(&format!("{profile}-{i}-{round}")),
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // The four kinds written above (ALL has grown a fifth since).
    for (i, kind) in SecretKind::ALL.iter().take(4).enumerate() {
        assert_eq!(
            get(&*store, "one", *kind).as_deref(),
            Some(format!("one-{i}-4").as_str())
        );
        assert_eq!(
            get(&*store, "two", *kind).as_deref(),
            Some(format!("two-{}-4", i + 4).as_str())
        );
    }
}

#[test]
fn file_store_probe_round_trips_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cfg");
    let store = store::open(StoreChoice::File, &dir).unwrap();
    store.probe().unwrap();
    // The probe makes no secrets dir.
    assert!(!dir.join("secrets").exists());
    std::fs::create_dir_all(dir.join("secrets")).unwrap();
    store.probe().unwrap();
    assert!(names_in(&dir.join("secrets")).is_empty());

    // A config dir that cannot be created: the probe fails with exit 5.
    std::fs::write(tmp.path().join("plain-file"), b"").unwrap();
    let bad = store::open(
        StoreChoice::File,
        &tmp.path().join("plain-file").join("cfg"),
    )
    .unwrap();
    let err = bad.probe().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SecretStore);
}

#[test]
fn invalid_profile_names_never_become_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store::open(StoreChoice::File, tmp.path()).unwrap();
    let err = store
        .set(&"../evil".into(), SecretKind::ClientSecret, &secret("x"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert!(!tmp.path().join("evil.json").exists());
}

#[test]
fn stored_access_token_round_trips_through_a_store() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store::open(StoreChoice::File, tmp.path()).unwrap();
    let token = StoredAccessToken {
        access_token: "at-123".into(),
        expires_at: 1_900_000_000,
        scope: "account_read offline_access".into(),
    };
    store
        .set(
            &"default".into(),
            SecretKind::AccessToken,
            &token.to_secret(),
        )
        .unwrap();
    let back = store
        .get(&"default".into(), SecretKind::AccessToken)
        .unwrap()
        .unwrap();
    let back = StoredAccessToken::from_secret(&back).unwrap();
    assert_eq!(back, token);
    assert!(back.is_fresh(1_900_000_000 - 61, 60));
    assert!(!back.is_fresh(1_900_000_000 - 60, 60));
}

// ----------------------------------------------------------- profile lock

#[test]
fn profile_lock_is_exclusive_and_times_out_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let held = ProfileLock::acquire(tmp.path(), "default", Duration::from_secs(1)).unwrap();
    assert!(held.path().ends_with("locks/default.lock"));

    let start = Instant::now();
    let err = ProfileLock::acquire(tmp.path(), "default", Duration::from_millis(300)).unwrap_err();
    let waited = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Failure);
    assert!(err.message().contains("default.lock"), "{}", err.message());
    assert!(err.message().contains("another ccsetup process"));
    assert!(waited >= Duration::from_millis(290), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");

    // Another profile is independent.
    let _other = ProfileLock::acquire(tmp.path(), "other", Duration::from_millis(100)).unwrap();

    drop(held);
    let again = ProfileLock::acquire(tmp.path(), "default", Duration::from_millis(300)).unwrap();
    drop(again);

    #[cfg(unix)]
    {
        assert_eq!(mode(&tmp.path().join("locks")), 0o700);
        assert_eq!(mode(&tmp.path().join("locks/default.lock")), 0o600);
    }
}

#[test]
fn profile_lock_waits_for_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let held = ProfileLock::acquire(&dir, "default", Duration::from_secs(1)).unwrap();
    let waiter = std::thread::spawn(move || {
        let start = Instant::now();
        let lock = ProfileLock::acquire(&dir, "default", Duration::from_secs(10));
        (lock.is_ok(), start.elapsed())
    });
    std::thread::sleep(Duration::from_millis(300));
    drop(held);
    let (ok, waited) = waiter.join().unwrap();
    assert!(ok);
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[test]
fn profile_lock_serializes_read_modify_write() {
    let tmp = tempfile::tempdir().unwrap();
    let counter = tmp.path().join("counter");
    std::fs::write(&counter, b"0").unwrap();
    let threads = 4;
    let rounds = 10;
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let dir = tmp.path().to_path_buf();
            let counter = counter.clone();
            std::thread::spawn(move || {
                for _ in 0..rounds {
                    let _lock =
                        ProfileLock::acquire(&dir, "default", Duration::from_secs(20)).unwrap();
                    let n: u32 = std::fs::read_to_string(&counter).unwrap().parse().unwrap();
                    std::thread::sleep(Duration::from_millis(2));
                    std::fs::write(&counter, (n + 1).to_string()).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let n: u32 = std::fs::read_to_string(&counter).unwrap().parse().unwrap();
    assert_eq!(n, threads * rounds);
}

// ------------------------------------------------------ recovery file

#[test]
fn recovery_save_then_take_moves_the_token_into_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let store = store::open(StoreChoice::File, tmp.path()).unwrap();
    store
        .set(
            &"default".into(),
            SecretKind::RefreshToken,
            &secret("rt-old"),
        )
        .unwrap();
    assert!(!recovery::pending(tmp.path(), "default").unwrap());
    assert_eq!(
        recovery::take(tmp.path(), &"default".into(), &*store).unwrap(),
        None
    );

    let path = recovery::save(tmp.path(), "default", &secret("rt-ROTATED")).unwrap();
    assert!(path.starts_with(tmp.path()));
    assert!(!path.display().to_string().contains("ROTATED"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "rt-ROTATED");
    #[cfg(unix)]
    {
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }
    assert!(recovery::pending(tmp.path(), "default").unwrap());

    let taken = recovery::take(tmp.path(), &"default".into(), &*store).unwrap();
    assert_eq!(taken, Some(recovery::Taken::Recovered(path.clone())));
    assert_eq!(
        get(&*store, "default", SecretKind::RefreshToken).as_deref(),
        Some("rt-ROTATED")
    );
    assert!(!path.exists());
    assert!(names_in(path.parent().unwrap()).is_empty());
    assert_eq!(
        recovery::take(tmp.path(), &"default".into(), &*store).unwrap(),
        None
    );
}

#[test]
fn recovery_file_is_kept_when_the_store_write_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let path = recovery::save(tmp.path(), "default", &secret("rt-KEEP")).unwrap();
    // The file store cannot write: its secrets dir is a regular file.
    std::fs::write(tmp.path().join("secrets"), b"").unwrap();
    let store = store::open(StoreChoice::File, tmp.path()).unwrap();

    let err = recovery::take(tmp.path(), &"default".into(), &*store).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SecretStore);
    assert!(!err.render(true).contains("rt-KEEP"));
    assert!(
        err.message().contains(&path.display().to_string()),
        "names the kept file: {}",
        err.message()
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "rt-KEEP");

    // Once the store works again, the next run recovers it.
    std::fs::remove_file(tmp.path().join("secrets")).unwrap();
    assert!(
        recovery::take(tmp.path(), &"default".into(), &*store)
            .unwrap()
            .is_some()
    );
    assert_eq!(
        get(&*store, "default", SecretKind::RefreshToken).as_deref(),
        Some("rt-KEEP")
    );
    assert!(!path.exists());
}

#[test]
fn recovery_save_failure_is_a_clear_error_without_the_token() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("recovery"), b"").unwrap();
    let err = recovery::save(tmp.path(), "default", &secret("rt-SECRET")).unwrap_err();
    let shown = err.render(true);
    assert!(shown.contains("refresh token"), "{shown}");
    assert!(!shown.contains("rt-SECRET"), "{shown}");
}
