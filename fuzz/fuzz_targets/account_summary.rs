//! Constant Contact's `GET /account/summary`, whose `organization_name` an
//! attacker chooses for their own account: every field, and the name shown
//! after "Authorized for", is free of control and bidi characters.
#![no_main]

use ccsetup::constant_contact::AccountSummary;
use ccsetup::text::is_terminal_safe;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(summary) = serde_json::from_slice::<AccountSummary>(data) else {
        return;
    };
    for s in [
        &summary.organization_name,
        &summary.contact_email,
        &summary.first_name,
        &summary.last_name,
        &summary.encoded_account_id,
        &summary.country_code,
        &summary.time_zone_id,
    ]
    .into_iter()
    .flatten()
    {
        assert!(is_terminal_safe(s), "{s:?}");
    }
    let shown = summary.display_name();
    assert!(is_terminal_safe(&shown), "{shown:?}");
});
