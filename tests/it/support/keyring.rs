//! The real Secret Service as libsecret (not ccsetup) sees it, and ccsetup
//! runs on the keyring, for tests inside a private session
//! (`secret_service_session`).

use std::path::Path;
use std::process::{Command, Stdio};

use ccsetup::sandbox::test_browser::Decision;

use super::e2e::TestEnv;

/// What libsecret finds under service `ccsetup`, user `user`.
pub fn lookup(user: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "ccsetup", "username", user])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// Every keyring user name under service `ccsetup`, sorted.
pub fn all_users() -> Vec<String> {
    let out = Command::new("secret-tool")
        .args(["search", "--all", "service", "ccsetup"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    // secret-tool prints the attributes on stderr.
    let mut users: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("attribute.username = "))
        .map(str::to_string)
        .collect();
    users.sort();
    users
}

/// `ccsetup <args>` of `env` on the keyring, in `config_dir` (`None`: the
/// platform's default config dir).
pub fn keyring_cmd(env: &TestEnv, config_dir: Option<&Path>, args: &[&str]) -> Command {
    let mut cmd = env.ccsetup(args);
    cmd.env_remove("CCSETUP_STORE");
    match config_dir {
        Some(dir) => cmd.env("CCSETUP_CONFIG_DIR", dir),
        None => cmd.env_remove("CCSETUP_CONFIG_DIR"),
    };
    cmd
}

/// `init --skip-stackone` on the keyring in `config_dir`; the refresh token
/// it stored.
pub fn keyring_init(env: &TestEnv, config_dir: Option<&Path>) -> String {
    let mut cmd = env.init_cmd(&["--skip-stackone"]);
    cmd.env_remove("CCSETUP_STORE");
    match config_dir {
        Some(dir) => cmd.env("CCSETUP_CONFIG_DIR", dir),
        None => cmd.env_remove("CCSETUP_CONFIG_DIR"),
    };
    env.run(cmd, Decision::Approve).assert_code(0);
    env.last_issued_refresh_token()
}
