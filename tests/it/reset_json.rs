//! `reset --json` (docs/contract.md `reset`): `removed` stays a boolean that
//! scripts test; what went is listed in `removed_kinds`.

use crate::support::e2e::TestEnv;

fn reset_json(env: &TestEnv) -> serde_json::Value {
    let out = env
        .ccsetup(&["reset", "--yes", "--json", "--no-revoke"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

#[test]
fn reset_json_says_removed_true_and_lists_the_kinds() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let json = reset_json(&env);
    assert_eq!(json["removed"], true, "{json}");
    let kinds: Vec<&str> = json["removed_kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    for kind in ["client_secret", "refresh_token", "config"] {
        assert!(kinds.contains(&kind), "{kind} missing: {json}");
    }
    // Nothing left: still a boolean, now false, and an empty list.
    let again = reset_json(&env);
    assert_eq!(again["removed"], false, "{again}");
    assert_eq!(again["removed_kinds"], serde_json::json!([]));
}
