//! Renderings that several commands and workflows print: one place each,
//! so `init`, `rotate` and the re-run menu say the same thing the same way.

use serde_json::{Value, json};

use crate::constant_contact::AccountSummary;
use crate::stackone::ProfileOutcome;

/// "StackOne Connector Profile "name" (id): created."
pub fn stackone_outcome_line(outcome: &ProfileOutcome) -> String {
    format!(
        "StackOne Connector Profile \"{}\" ({}): {}.",
        outcome.name,
        outcome.id,
        outcome.action.as_str()
    )
}

/// `stackone` of the `--json` results; `None` is a skipped StackOne step.
pub fn stackone_json(outcome: Option<&ProfileOutcome>) -> Value {
    match outcome {
        Some(o) => {
            let mut v = json!({ "connector_profile_id": o.id, "name": o.name, "action": o.action.as_str() });
            // A dashboard create or edit: how far it is proven (docs/contract.md "StackOne API").
            if let Some(verified) = o.verified {
                v["verified"] = json!(verified);
            }
            v
        }
        None => json!({ "connector_profile_id": null, "name": null, "action": "skipped" }),
    }
}

/// `account` of the `--json` results.
pub fn account_json(account: Option<&AccountSummary>) -> Value {
    account
        .map(|a| json!({ "organization_name": a.organization_name, "email": a.contact_email }))
        .unwrap_or(Value::Null)
}

/// Ends `rotate` (and the re-run menu's rotation entries): under `--json`,
/// the report with the profile's name.
pub fn print_rotation_report(
    io: &mut crate::ui::IoStreams,
    profile: &str,
    mut report: serde_json::Map<String, Value>,
) -> crate::error::Result<()> {
    if io.json {
        report.insert("profile".into(), json!(profile));
        io.print_json(&Value::Object(report))?;
    }
    Ok(())
}

/// Text that came from a remote service, safe for a terminal and clipped:
/// the one rule, [`crate::text::sanitize_remote`] (escape sequences dropped
/// whole, bidi and zero-width characters dropped, echoed secrets redacted).
pub fn remote_text(text: &str) -> String {
    crate::text::sanitize_remote_clipped(text, 300)
}

/// One row of the table that `status` and `doctor` print.
pub struct CheckRow<'a> {
    pub name: &'a str,
    pub status: &'a str,
    pub detail: &'a str,
    pub fix: Option<&'a str>,
}

/// The check table: names padded to one width, one row each, and a `fix:`
/// line under a row that has one.
pub fn check_table<'a>(rows: impl IntoIterator<Item = CheckRow<'a>>, indent: &str) -> String {
    let rows: Vec<CheckRow<'a>> = rows.into_iter().collect();
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for r in &rows {
        text.push_str(&format!(
            "{indent}{:width$}  {:7}  {}\n",
            r.name, r.status, r.detail
        ));
        if let Some(fix) = r.fix {
            text.push_str(&format!("{indent}{:width$}           fix: {fix}\n", ""));
        }
    }
    text.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_table_aligns_and_adds_fixes() {
        let text = check_table(
            [
                CheckRow {
                    name: "a",
                    status: "ok",
                    detail: "fine",
                    fix: None,
                },
                CheckRow {
                    name: "longer",
                    status: "failing",
                    detail: "bad",
                    fix: Some("do x"),
                },
            ],
            "  ",
        );
        assert_eq!(
            text,
            "  a       ok       fine\n  longer  failing  bad\n                   fix: do x"
        );
    }
}
