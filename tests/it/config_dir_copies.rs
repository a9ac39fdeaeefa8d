//! A copy of a config dir (`cp -a`) has its own keyring identity: every
//! command run in the copy leaves the original's keyring entries and its
//! live refresh token alone, and the original still works afterwards.
//! Against a real Secret Service (see `support::secret_service_session`).
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::e2e::{TestEnv, run_plain};
use crate::support::keyring::{all_users, keyring_cmd, keyring_init, lookup};
use ccsetup::sandbox::test_browser::Decision;
use ccsetup::store::{self, EntryName, SecretKind, StoreChoice};
use secrecy::ExposeSecret;

const INNER_ENV: &str = "CCSETUP_SS_COPY_INNER";

fn inner_enabled() -> bool {
    let on = std::env::var(INNER_ENV).as_deref() == Ok("1");
    if !on {
        eprintln!("inner test: only runs when started by its outer test");
    }
    on
}

fn dir_id(config_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(config_dir.join("config.toml")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("dir_id = \""))
        .map(|s| s.trim_end_matches('"').to_string())
}

/// Makes the default dir what v0.2 left: entries named `<profile>:<kind>`
/// and a config.toml without an id (a no-op for a build that wrote that).
fn make_it_v02(dir: &Path) {
    let Some(id) = dir_id(dir) else {
        return;
    };
    let keyring = store::open(StoreChoice::Keyring, dir).unwrap();
    let (old, new) = (
        EntryName::legacy("default"),
        EntryName::in_dir("default", &id),
    );
    for kind in SecretKind::ALL {
        if let Some(value) = keyring.get(&new, kind).unwrap() {
            keyring.set(&old, kind, &value).unwrap();
            keyring.delete(&new, kind).unwrap();
        }
    }
    let config = dir.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("dir_id") && !l.starts_with("dir_path"))
        .collect();
    std::fs::write(&config, kept.join("\n") + "\n").unwrap();
}

/// Every keyring entry with its value.
fn snapshot() -> Vec<(String, Option<String>)> {
    all_users()
        .into_iter()
        .map(|u| {
            let v = lookup(&u);
            (u, v)
        })
        .collect()
}

/// Profile `default` in the default dir on the keyring (as v0.2 left it
/// when `from_v02`); `cp -a` of the dir; every command in the copy; then
/// the default dir's entries are all there, unchanged, its refresh token
/// was never redeemed nor revoked, and its `token` works.
fn a_copy_takes_nothing(from_v02: bool) {
    let tmp = PathBuf::from(std::env::var("CCSETUP_SS_TMP").unwrap());
    let default_dir = PathBuf::from(std::env::var("XDG_CONFIG_HOME").unwrap()).join("ccsetup");
    assert!(default_dir.starts_with(&tmp), "never the real config dir");
    let env = TestEnv::new();
    let rt = keyring_init(&env, None);
    if from_v02 {
        make_it_v02(&default_dir);
    } else {
        // This build's own state: the default dir has its id.
        run_plain(keyring_cmd(&env, None, &["status", "--offline"])).assert_code(0);
    }
    let before = snapshot();
    assert!(
        before
            .iter()
            .any(|(_, v)| v.as_deref() == Some(rt.as_str())),
        "the refresh token is in the keyring: {before:?}"
    );
    let copy = tmp.join("ccsetup-copy");
    let cp = Command::new("cp")
        .arg("-a")
        .arg(&default_dir)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(cp.success());

    let redeemed_before = env.token_requests("refresh").len();
    let commands: &[&[&str]] = &[
        &["status", "--offline"],
        &["status"],
        &["token"],
        &["token", "--force-refresh"],
        &["doctor"],
        &["link", "--non-interactive"],
        &["rotate", "--reauthorize", "--non-interactive"],
        &["reset", "--yes"],
        &["reset", "--yes", "--delete-stackone-profile"],
    ];
    for args in commands {
        let run = env.run(keyring_cmd(&env, Some(&copy), args), Decision::Deny);
        eprintln!(
            "copy: ccsetup {} -> {:?}\n{}",
            args.join(" "),
            run.code,
            run.stderr
        );
        for (user, value) in &before {
            assert_eq!(
                &lookup(user),
                value,
                "`ccsetup {}` in the copy changed the original's entry {user}",
                args.join(" ")
            );
        }
        assert!(
            env.refresh_token_alive(&rt),
            "`ccsetup {}` in the copy revoked or redeemed the original's refresh token",
            args.join(" ")
        );
    }
    assert_eq!(
        env.token_requests("refresh").len(),
        redeemed_before,
        "the copy redeemed no refresh token"
    );
    assert!(
        env.cc_requests("/oauth2/default/v1/revoke").is_empty(),
        "the copy revoked nothing"
    );
    let copy_id = dir_id(&copy);
    if let (Some(copy_id), Some(original)) = (&copy_id, dir_id(&default_dir)) {
        assert_ne!(copy_id, &original, "the copy has its own identity");
    }

    // The default dir still works, with its own secrets.
    let run = run_plain(keyring_cmd(&env, None, &["token", "--force-refresh"]));
    run.assert_code(0);
    let id = dir_id(&default_dir).expect("the default dir has its own id now");
    assert_eq!(
        lookup(&format!("default@{id}:refresh_token")),
        Some(env.last_issued_refresh_token())
    );
    let users = all_users();
    assert!(
        !users.iter().any(|u| !u.contains('@')),
        "no pre-v0.3 name is left: {users:?}"
    );
    assert_eq!(
        env.sandbox.cc().refresh_tokens_redeemed_more_than_once(),
        Vec::<String>::new()
    );
    let secret = store::open(StoreChoice::Keyring, &default_dir)
        .unwrap()
        .get(&EntryName::in_dir("default", &id), SecretKind::ClientSecret)
        .unwrap()
        .expect("the client secret is still there");
    assert_eq!(secret.expose_secret(), env.client_secret());
}

#[test]
fn a_copy_of_the_default_dir_made_before_the_upgrade_takes_nothing() {
    crate::support::secret_service_session::run_inner(
        module_path!(),
        "inner_copy_of_a_v02_default_dir",
        INNER_ENV,
    );
}

#[test]
#[ignore = "started by a_copy_of_the_default_dir_made_before_the_upgrade_takes_nothing"]
fn inner_copy_of_a_v02_default_dir() {
    if inner_enabled() {
        a_copy_takes_nothing(true);
    }
}

#[test]
fn a_copy_of_the_default_dir_with_its_id_takes_nothing() {
    crate::support::secret_service_session::run_inner(
        module_path!(),
        "inner_copy_of_a_default_dir_with_its_id",
        INNER_ENV,
    );
}

#[test]
#[ignore = "started by a_copy_of_the_default_dir_with_its_id_takes_nothing"]
fn inner_copy_of_a_default_dir_with_its_id() {
    if inner_enabled() {
        a_copy_takes_nothing(false);
    }
}

/// Runs that start at once in the default dir (as v0.2 left it) and in a
/// copy: the entries move once, to the default dir's names only, and the
/// rotating token is redeemed once per run, never forked.
fn concurrent_first_runs_move_once() {
    let tmp = PathBuf::from(std::env::var("CCSETUP_SS_TMP").unwrap());
    let default_dir = PathBuf::from(std::env::var("XDG_CONFIG_HOME").unwrap()).join("ccsetup");
    let env = TestEnv::new();
    keyring_init(&env, None);
    make_it_v02(&default_dir);
    let copy = tmp.join("ccsetup-copy");
    assert!(
        Command::new("cp")
            .arg("-a")
            .arg(&default_dir)
            .arg(&copy)
            .status()
            .unwrap()
            .success()
    );
    let runs: Vec<(Option<&Path>, &[&str])> = vec![
        (None, &["token", "--force-refresh"]),
        (Some(&copy), &["status", "--offline"]),
        (None, &["token", "--force-refresh"]),
        (Some(&copy), &["token"]),
        (None, &["status", "--offline"]),
    ];
    let children: Vec<_> = runs
        .iter()
        .map(|(dir, args)| {
            keyring_cmd(&env, *dir, args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for ((dir, args), child) in runs.iter().zip(children) {
        let out = child.wait_with_output().unwrap();
        if dir.is_none() {
            assert_eq!(
                out.status.code(),
                Some(0),
                "ccsetup {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert_eq!(
        env.sandbox.cc().refresh_tokens_redeemed_more_than_once(),
        Vec::<String>::new()
    );
    let id = dir_id(&default_dir).unwrap();
    let copy_id = dir_id(&copy).unwrap();
    assert_ne!(id, copy_id);
    assert_eq!(
        lookup(&format!("default@{id}:refresh_token")),
        Some(env.last_issued_refresh_token())
    );
    let users = all_users();
    assert!(
        users
            .iter()
            .all(|u| u.starts_with(&format!("default@{id}:"))),
        "only the default dir's new names: {users:?}"
    );
}

#[test]
fn first_runs_at_once_in_the_default_dir_and_a_copy_move_the_entries_once() {
    crate::support::secret_service_session::run_inner(
        module_path!(),
        "inner_concurrent_first_runs",
        INNER_ENV,
    );
}

#[test]
#[ignore = "started by first_runs_at_once_in_the_default_dir_and_a_copy_move_the_entries_once"]
fn inner_concurrent_first_runs() {
    if inner_enabled() {
        concurrent_first_runs_move_once();
    }
}

/// A move killed after its commit point (the id and the profiles to move
/// recorded, one entry copied): `reset` removes the copy and the old names.
fn reset_after_a_move_cut_short_leaves_nothing() {
    let default_dir = PathBuf::from(std::env::var("XDG_CONFIG_HOME").unwrap()).join("ccsetup");
    let env = TestEnv::new();
    keyring_init(&env, None);
    make_it_v02(&default_dir);
    let id = "0123456789abcdef";
    let keyring = store::open(StoreChoice::Keyring, &default_dir).unwrap();
    let secret = keyring
        .get(&EntryName::legacy("default"), SecretKind::ClientSecret)
        .unwrap()
        .unwrap();
    keyring
        .set(
            &EntryName::in_dir("default", id),
            SecretKind::ClientSecret,
            &secret,
        )
        .unwrap();
    let config = default_dir.join("config.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let real = std::fs::canonicalize(&default_dir).unwrap();
    std::fs::write(
        &config,
        format!(
            "dir_id = \"{id}\"\ndir_path = {:?}\nmoving_legacy_entries = [\"default\"]\n{text}",
            real.to_str().unwrap()
        ),
    )
    .unwrap();
    assert!(all_users().len() > 3, "{:?}", all_users());
    run_plain(keyring_cmd(&env, None, &["reset", "--yes", "--no-revoke"])).assert_code(0);
    assert_eq!(all_users(), Vec::<String>::new(), "no orphan left");
}

#[test]
fn reset_after_a_keyring_move_cut_short_leaves_no_orphan() {
    crate::support::secret_service_session::run_inner(
        module_path!(),
        "inner_reset_after_a_move_cut_short",
        INNER_ENV,
    );
}

#[test]
#[ignore = "started by reset_after_a_keyring_move_cut_short_leaves_no_orphan"]
fn inner_reset_after_a_move_cut_short() {
    if inner_enabled() {
        reset_after_a_move_cut_short_leaves_nothing();
    }
}
