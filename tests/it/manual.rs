//! The manual: `ccsetup help [COMMAND]` (what `--help` shows) and
//! `ccsetup man [COMMAND]` (the man pages a source install has no other
//! way to get; the same pages `cargo xtask dist-assets` packages).

fn ccsetup(args: &[&str]) -> std::process::Output {
    let mut cmd = crate::support::ccsetup_command();
    cmd.env("NO_COLOR", "1").args(args).output().unwrap()
}

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn help_shows_what_dash_dash_help_shows() {
    let top = ccsetup(&["help"]);
    assert_eq!(top.status.code(), Some(0), "{top:?}");
    assert_eq!(text(&top), text(&ccsetup(&["--help"])));
    for command in ["init", "status", "link", "demo", "man"] {
        let via_help = ccsetup(&["help", command]);
        assert_eq!(via_help.status.code(), Some(0), "{command}: {via_help:?}");
        assert_eq!(
            text(&via_help),
            text(&ccsetup(&[command, "--help"])),
            "help {command}"
        );
    }
}

#[test]
fn help_of_an_unknown_command_is_a_usage_error() {
    let out = ccsetup(&["help", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

#[test]
fn man_prints_each_page_and_names_the_commands_for_an_unknown_one() {
    let main = ccsetup(&["man"]);
    assert_eq!(main.status.code(), Some(0), "{main:?}");
    let page = text(&main);
    assert!(page.contains(".TH ccsetup 1"), "{page}");
    assert!(
        page.contains("ccsetup\\-init(1)"),
        "lists the commands: {page}"
    );

    let init = text(&ccsetup(&["man", "init"]));
    assert!(
        init.contains(".TH ccsetup\\-init 1") || init.contains(".TH ccsetup-init 1"),
        "{init}"
    );
    assert!(init.contains("\\-\\-client\\-id"), "{init}");

    let out = ccsetup(&["man", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("init, status"), "{stderr}");
    assert!(!stderr.contains("help"), "no page for `help`: {stderr}");
}

#[test]
fn man_dir_writes_every_page_for_a_source_install() {
    let dir = tempfile::tempdir().unwrap();
    let man1 = dir.path().join("share/man/man1");
    let out = ccsetup(&["man", "--dir", man1.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for page in [
        "ccsetup.1",
        "ccsetup-init.1",
        "ccsetup-demo.1",
        "ccsetup-man.1",
    ] {
        let body =
            std::fs::read_to_string(man1.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(body.contains(".TH "), "{page}");
    }
    assert!(!man1.join("ccsetup-help.1").exists());
    // The page `ccsetup man` prints is the file it writes.
    assert_eq!(
        text(&ccsetup(&["man", "init"])).trim_end(),
        std::fs::read_to_string(man1.join("ccsetup-init.1"))
            .unwrap()
            .trim_end()
    );
}
