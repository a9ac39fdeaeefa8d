//! What `ccsetup demo` says: only what is true for the user who typed it.

#[test]
fn the_demo_warns_about_no_flag_the_user_did_not_give() {
    let mut cmd = crate::support::ccsetup_command();
    let out = crate::support::without_desktop(&mut cmd)
        .args(["demo", "--non-interactive"])
        .env("CCSETUP_NO_BROWSER", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("--store"), "{stderr}");
    // The file store is still named where it matters.
    assert!(stderr.contains("file store"), "{stderr}");
}
