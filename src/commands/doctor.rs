//! `ccsetup doctor`: is this machine ready? Each check is ok, warning or
//! failing, and says how to fix what is not ok.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use crate::cli::{DEFAULT_REDIRECT_PORT, DoctorArgs};
use crate::config;
use crate::context::Context;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Ok,
    Warning,
    Failing,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Failing => "failing",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub name: &'static str,
    pub status: Level,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn finding(
    name: &'static str,
    status: Level,
    detail: impl Into<String>,
    fix: Option<&str>,
) -> Finding {
    Finding {
        name,
        status,
        detail: detail.into(),
        fix: fix.map(str::to_string),
    }
}

/// Clock skew beyond which tokens may look expired or not yet valid.
const SKEW_WARN_SECS: i64 = 60;
const SKEW_FAIL_SECS: i64 = 300;

pub async fn run(ctx: &mut Context, args: DoctorArgs) -> Result<()> {
    let profile_config = config::load(&ctx.config_dir)?
        .profiles
        .get(&ctx.profile)
        .cloned();
    let port = args
        .redirect_port
        .or(profile_config.as_ref().map(|p| p.redirect_port))
        .unwrap_or(DEFAULT_REDIRECT_PORT);

    let mut findings = vec![check_port(port)];
    if let Some(p) = &profile_config {
        findings.push(if p.redirect_port == port {
            finding("redirect_port_match", Level::Ok, format!("the app was set up with port {port}"), None)
        } else {
            finding(
                "redirect_port_match",
                Level::Warning,
                format!("checking port {port}, but profile \"{}\" was set up with {}", ctx.profile, p.redirect_port),
                Some("use the registered port, or add http://localhost:<port>/callback to the app's redirect URIs"),
            )
        });
    }
    // A `$BROWSER` that cannot open anything is known without running it.
    #[cfg(unix)]
    let browser_env_problem = ctx
        .browser
        .can_launch()
        .ok()
        .and_then(|()| std::env::var("BROWSER").ok())
        .filter(|b| !b.trim().is_empty())
        .and_then(|b| crate::browser::browser_env::problem(&b));
    #[cfg(not(unix))]
    let browser_env_problem: Option<String> = None;
    findings.push(
        match browser_env_problem.map_or(ctx.browser.can_launch(), Err) {
            Ok(()) => finding("browser", Level::Ok, "a browser can be launched", None),
            Err(why) => finding(
                "browser",
                Level::Warning,
                why,
                Some(
                    "use --no-browser: ccsetup prints the URL and accepts the pasted redirect URL",
                ),
            ),
        },
    );
    // The store probe and the network checks are independent: they run at
    // once (each is a round trip to somewhere), reported in a fixed order.
    let http = ctx.http()?;
    let endpoints = &ctx.endpoints;
    let registration = async {
        match &profile_config {
            Some(p) => Some(check_registration(&http, endpoints, p).await),
            None => None,
        }
    };
    let (store, clock, authorize, token, api, stackone, registration) = tokio::join!(
        check_store(ctx, profile_config.as_ref().map(|p| p.secret_store)),
        check_clock(&http, &endpoints.cc_token),
        check_endpoint(&http, "endpoint_cc_authorize", &endpoints.cc_authorize),
        check_endpoint(&http, "endpoint_cc_token", &endpoints.cc_token),
        check_endpoint(&http, "endpoint_cc_api", &endpoints.cc_api),
        check_endpoint(&http, "endpoint_stackone_api", &endpoints.stackone_api),
        registration,
    );
    findings.extend([store, clock, authorize, token, api, stackone]);
    findings.extend(registration);
    findings.push(check_overrides(&ctx.endpoints));
    findings.push(finding(
        "proxy",
        Level::Ok,
        crate::http::ProxySettings::from_env().describe(),
        None,
    ));

    let ok = findings.iter().all(|f| f.status != Level::Failing);
    if ctx.io.json {
        ctx.io
            .print_json(&json!({ "profile": ctx.profile, "ok": ok, "checks": findings }))?;
    } else {
        let rows = findings.iter().map(|f| crate::render::CheckRow {
            name: f.name,
            status: f.status.as_str(),
            detail: &f.detail,
            fix: f.fix.as_deref(),
        });
        ctx.io.println(crate::render::check_table(rows, ""));
    }
    if ok {
        Ok(())
    } else {
        Err(Error::failure("doctor found failing checks (see above)"))
    }
}

/// The port must be bindable on every loopback address the listener uses.
fn check_port(port: u16) -> Finding {
    let v4 = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    if let Err(e) = v4 {
        return finding(
            "redirect_port",
            Level::Failing,
            format!("127.0.0.1:{port} cannot be bound: {e}"),
            Some(
                "stop what holds the port, or pick another with --redirect-port and register that redirect URI",
            ),
        );
    }
    drop(v4);
    let v6_note = match TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))) {
        Ok(_) => " and [::1]",
        Err(_) => " ([::1] unavailable; IPv4 only)",
    };
    if let Some(range) = windows_excluded_range(port) {
        return finding(
            "redirect_port",
            Level::Failing,
            format!("port {port} is in a Windows excluded port range ({range})"),
            Some("pick a port outside `netsh int ipv4 show excludedportrange protocol=tcp`"),
        );
    }
    finding(
        "redirect_port",
        Level::Ok,
        format!("port {port} is free on 127.0.0.1{v6_note}"),
        None,
    )
}

#[cfg(windows)]
fn windows_excluded_range(port: u16) -> Option<String> {
    let out = std::process::Command::new("netsh")
        .args(["int", "ipv4", "show", "excludedportrange", "protocol=tcp"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|line| {
            let mut nums = line
                .split_whitespace()
                .filter_map(|w| w.parse::<u16>().ok());
            let (start, end) = (nums.next()?, nums.next()?);
            (start..=end)
                .contains(&port)
                .then(|| format!("{start}-{end}"))
        })
}

#[cfg(not(windows))]
fn windows_excluded_range(_port: u16) -> Option<String> {
    None
}

async fn check_store(ctx: &Context, configured: Option<crate::store::StoreChoice>) -> Finding {
    let started = Instant::now();
    let result = match ctx.session(configured) {
        Ok(session) => session.probe().await.map(|_| session.store().describe()),
        Err(e) => Err(e),
    };
    match result {
        Ok(desc) => finding(
            "secret_store",
            Level::Ok,
            format!(
                "{desc} answered a write/read/delete probe in {} ms",
                started.elapsed().as_millis()
            ),
            None,
        ),
        Err(e) => finding(
            "secret_store",
            Level::Failing,
            e.message().to_string(),
            Some(
                e.hint()
                    .unwrap_or("use --store file to keep secrets in a 0600 file instead"),
            ),
        ),
    }
}

/// Flags endpoints pointed elsewhere than the real services (docs/contract.md
/// "Endpoints"): secrets go wherever they point.
fn check_overrides(endpoints: &crate::endpoints::Endpoints) -> Finding {
    let overridden = endpoints.overridden();
    if overridden.is_empty() {
        return finding(
            "endpoints",
            Level::Ok,
            "the real Constant Contact and StackOne endpoints",
            None,
        );
    }
    let list: Vec<String> = overridden
        .iter()
        .map(|(name, url)| format!("{name}={}", crate::text::sanitize_local(url)))
        .collect();
    finding(
        "endpoints",
        Level::Warning,
        format!("overridden: {}", list.join(", ")),
        Some(
            "secrets are sent to these URLs: unset the CCSETUP_*_URL variables unless you meant them",
        ),
    )
}

/// Compares our clock with the `Date` header of the token endpoint.
async fn check_clock(http: &reqwest::Client, token_url: &url::Url) -> Finding {
    let sent = time::OffsetDateTime::now_utc();
    let resp = http
        .head(token_url.clone())
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    let Ok(resp) = resp else {
        return finding(
            "clock",
            Level::Warning,
            "could not reach the token endpoint to compare clocks",
            None,
        );
    };
    let Some(date) = resp
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| {
            time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc2822).ok()
        })
    else {
        return finding(
            "clock",
            Level::Warning,
            "the token endpoint sent no usable Date header",
            None,
        );
    };
    let skew = (sent - date).whole_seconds();
    let level = match skew.abs() {
        s if s > SKEW_FAIL_SECS => Level::Failing,
        s if s > SKEW_WARN_SECS => Level::Warning,
        _ => Level::Ok,
    };
    finding(
        "clock",
        level,
        format!("this clock is {skew:+} s from the token endpoint's"),
        (level != Level::Ok).then_some("enable time synchronisation (NTP) on this machine"),
    )
}

/// Any HTTP answer counts: we only want to know it resolves and answers.
async fn check_endpoint(http: &reqwest::Client, name: &'static str, url: &url::Url) -> Finding {
    let started = Instant::now();
    match http
        .head(url.clone())
        .timeout(Duration::from_secs(10))
        .send()
        .await
    {
        Ok(resp) => finding(
            name,
            Level::Ok,
            format!(
                "{url} answered {} in {} ms",
                resp.status().as_u16(),
                started.elapsed().as_millis()
            ),
            None,
        ),
        Err(e) => {
            let why = if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                "could not connect (DNS, firewall or proxy?)".to_string()
            } else {
                "failed".to_string()
            };
            finding(
                name,
                Level::Failing,
                format!("{url} {why}"),
                Some(
                    "check the network, proxy settings (HTTPS_PROXY) or the CCSETUP_*_URL overrides",
                ),
            )
        }
    }
}

/// The profile's app registration (docs/contract.md `init` step 3), probed without
/// signing in.
async fn check_registration(
    http: &reqwest::Client,
    endpoints: &crate::endpoints::Endpoints,
    settings: &config::ProfileConfig,
) -> Finding {
    use crate::workflow::authorize::{CheckLevel, saved_registration_check};
    let remote = crate::workflow::Remote { http, endpoints };
    let (level, detail, fix) = saved_registration_check(remote, settings).await;
    let level = match level {
        CheckLevel::Ok => Level::Ok,
        CheckLevel::Warning => Level::Warning,
        CheckLevel::Failing => Level::Failing,
    };
    finding("app_registration", level, detail, fix.as_deref())
}
