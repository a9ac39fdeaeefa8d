//! StackOne's answers as ccsetup reads them: a list page's `data` items
//! (connector profiles), a profile read back by id, and a created connect
//! session. Beyond "never panics": every string that can reach a terminal
//! is free of control and bidi characters (`text::is_terminal_safe`), and
//! a connect session's `Debug` never shows its token.
#![no_main]

use ccsetup::stackone::model::{ConnectSessionResponse, ConnectorProfile, ProfileDetails};
use ccsetup::text::is_terminal_safe;
use libfuzzer_sys::fuzz_target;

fn profile_is_safe(p: &ConnectorProfile) {
    assert!(is_terminal_safe(&p.id), "{:?}", p.id);
    assert!(is_terminal_safe(&p.name), "{:?}", p.name);
    for s in [
        &p.connector_key,
        &p.connector_label,
        &p.authentication_config_key,
        &p.created_at,
        &p.updated_at,
        &p.environment,
    ]
    .into_iter()
    .flatten()
    {
        assert!(is_terminal_safe(s), "{s:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let items = value.get("data").cloned().unwrap_or(value.clone());
    if let Ok(list) = serde_json::from_value::<Vec<ConnectorProfile>>(items) {
        list.iter().for_each(profile_is_safe);
    }
    if let Ok(details) = serde_json::from_value::<ProfileDetails>(value.clone()) {
        profile_is_safe(&details.profile);
        for s in details
            .scopes
            .iter()
            .chain(details.actions.iter())
            .flatten()
        {
            assert!(is_terminal_safe(s) && !s.is_empty(), "{s:?}");
        }
    }
    if let Ok(session) = serde_json::from_value::<ConnectSessionResponse>(value) {
        assert!(is_terminal_safe(&session.id));
        for s in [
            &session.auth_link_url,
            &session.created_at,
            &session.expires_at,
            &session.provider,
            &session.connector_profile_id,
        ]
        .into_iter()
        .flatten()
        {
            assert!(is_terminal_safe(s), "{s:?}");
        }
    }
});
