//! `rotate` against StackOne as it is, through a real PTY: the new secret
//! goes into the profile by a dashboard edit, the link proof is offered at
//! once (default yes), and a profile only listed is never called "in use".
#![cfg(unix)]

use crate::support::e2e::TestEnv;
use crate::support::pty::Wizard;

#[test]
fn rotate_with_a_dashboard_edit_offers_the_proof_and_never_says_in_use_when_only_listed() {
    let env = TestEnv::new();
    let id = env.profile_made_in_the_dashboard();
    env.init_ok(&[]);
    let new = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    let mut w = Wizard::spawn_with(&env, &["rotate", "--client-secret"], |cmd| {
        cmd.env("CC_CLIENT_SECRET", &new);
    });
    w.expect(&format!("(id {id}) and edit it"));
    w.expect("Client Secret:");
    w.expect("Show the Client Secret on screen");
    w.line("n");
    w.expect("Done?");
    // The person saves the edit in the dashboard.
    env.sandbox
        .stackone()
        .edit_profile_as_dashboard(&id, &env.app.client_id, Some(&new), &[], &[])
        .unwrap();
    w.line("y");
    w.expect("Prove the StackOne profile now");
    w.line("n");
    w.expect("Not proven yet");
    w.expect("which its API cannot show");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    assert!(
        !w.transcript.contains("the new Client Secret is in use"),
        "{}",
        w.transcript
    );
    assert!(
        !w.transcript.contains(&new),
        "the secret is never shown unasked"
    );
}
