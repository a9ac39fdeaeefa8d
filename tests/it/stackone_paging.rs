//! Paging of StackOne lists (docs/contract.md "Paging"): a server may cap
//! `page_size` below what was asked without saying so; a list is complete
//! only when a page is empty, brings no new id, or its total says so.

use ccsetup::sandbox::SandboxOptions;
use ccsetup::sandbox::stackone::{AccountsShape, StackOneOptions, StackOneStandIn};
use ccsetup::stackone::StackOneClient;
use secrecy::SecretString;

use crate::support::e2e::TestEnv;

fn capped(shape: AccountsShape) -> (tokio::runtime::Runtime, StackOneStandIn) {
    crate::support::stand_in_http::start_stackone(StackOneOptions {
        page_size_cap: Some(2),
        accounts_shape: shape,
        ..StackOneOptions::default()
    })
}

#[test]
fn a_stand_in_that_caps_page_size_at_2_still_yields_every_account_and_profile() {
    for shape in [AccountsShape::BareArray, AccountsShape::Data] {
        let (rt, so) = capped(shape);
        for i in 0..5 {
            so.add_linked_account("constantcontact", "active", &format!("c{i}"), "C");
            so.fill_dashboard_form(&format!("client-{i}"), "s", &[], &[])
                .unwrap();
        }
        so.add_linked_account("hubspot", "active", "h", "H");
        let client = StackOneClient::new(
            ccsetup::http::client().unwrap(),
            so.api_url(),
            SecretString::from(so.api_key()),
        );
        let (accounts, profiles) = rt.block_on(async {
            (
                client.list_accounts("constantcontact").await.unwrap(),
                client.list_profiles("constantcontact").await.unwrap(),
            )
        });
        assert_eq!(accounts.len(), 5, "{shape:?}: {accounts:?}");
        assert_eq!(profiles.len(), 5, "{profiles:?}");
        let pages = so
            .log()
            .entries()
            .into_iter()
            .filter(|e| e.path == "/accounts")
            .count();
        assert!(
            pages >= 3,
            "paged on past the short pages ({pages} requests)"
        );
    }
}

#[test]
fn status_lists_every_linked_account_from_a_capping_stackone() {
    let env = TestEnv::with(SandboxOptions {
        stackone: StackOneOptions {
            page_size_cap: Some(2),
            ..StackOneOptions::with_hypothetical_write_api()
        },
        ..Default::default()
    });
    env.init_ok(&[]);
    for i in 0..5 {
        env.sandbox.stackone().add_linked_account(
            "constantcontact",
            "active",
            &format!("c{i}"),
            "C",
        );
    }
    let mut cmd = env.ccsetup(&["status", "--json"]);
    let out = cmd.output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["stackone_accounts"].as_array().unwrap().len(),
        5,
        "{json}"
    );
}
