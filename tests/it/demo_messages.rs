//! What `ccsetup demo` says: only what is true for the user who typed it.

#[test]
fn the_demo_warns_about_no_flag_the_user_did_not_give() {
    let mut cmd = crate::support::ccsetup_command();
    let out = cmd
        .args(["demo", "--non-interactive"])
        .env("NO_COLOR", "1")
        .env("CCSETUP_NO_BROWSER", "1")
        .env(
            "CCSETUP_REDIRECT_PORT",
            crate::support::e2e::free_port().to_string(),
        )
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/ccsetup-test",
        )
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("--store"), "{stderr}");
    // The file store is still named where it matters.
    assert!(stderr.contains("file store"), "{stderr}");
}
