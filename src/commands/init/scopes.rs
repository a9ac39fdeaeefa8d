//! Step 3's lists: the scopes (a picker that warns about what a missing
//! scope costs) and the StackOne actions.

use crate::constant_contact::{self as cc, KNOWN_SCOPES};
use crate::error::Result;

use super::Wizard;

/// Where the scopes came from: the fix a warning names depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeSource {
    Flag,
    Picker,
}

impl Wizard<'_> {
    /// The scope picker, from `current`, until the user keeps a choice.
    pub(super) fn pick_scopes(&mut self, current: &[String]) -> Result<Vec<String>> {
        let items: Vec<String> = KNOWN_SCOPES.iter().map(|s| s.to_string()).collect();
        let mut ticked: Vec<bool> = KNOWN_SCOPES
            .iter()
            .map(|s| current.iter().any(|c| c == s))
            .collect();
        let ctx = &mut *self.ctx;
        loop {
            let picked = ctx.prompter.multi_select(
                "Scopes (Space ticks or unticks, Enter accepts)",
                &items,
                &ticked,
            )?;
            if picked.is_empty() {
                ctx.io
                    .warn("pick at least one scope: Space ticks the one under the cursor");
                continue;
            }
            let chosen: Vec<&str> = picked.iter().map(|&i| items[i].as_str()).collect();
            let scopes = cc::parse_scopes(&chosen)?;
            let lacking = lacking_scope_warnings(&scopes, ScopeSource::Picker);
            if lacking.is_empty() {
                return Ok(scopes);
            }
            for warning in &lacking {
                ctx.io.warn(warning);
            }
            if ctx.prompter.confirm("Keep these scopes anyway?", false)? {
                return Ok(scopes);
            }
            ticked = KNOWN_SCOPES
                .iter()
                .map(|s| scopes.iter().any(|c| c == s))
                .collect();
        }
    }

    /// Warns about scopes given without the picker (which warned already).
    pub(super) fn warn_about_scopes(&mut self, scopes: &[String]) {
        let picked = self.plan.scopes.is_none() && self.plan.asks(true);
        if picked {
            return;
        }
        for warning in lacking_scope_warnings(scopes, ScopeSource::Flag) {
            if self.plan.skip_authorize && warning.contains("offline_access") {
                continue;
            }
            self.ctx.io.warn(warning);
        }
    }

    pub(super) fn actions(&mut self) -> Result<Vec<String>> {
        if let Some(list) = &self.plan.actions {
            return Ok(split_actions(list));
        }
        let current = self.plan.default_actions();
        if !self.plan.asks(true) || self.plan.skip_stackone {
            return Ok(current);
        }
        let current = current.join(",");
        let text = self.ctx.prompter.input(
            "StackOne actions to enable (optional, comma-separated, named as under Actions in \
             StackOne's Connector Profile form; Enter for none)",
            (!current.is_empty()).then_some(current.as_str()),
            &validate_actions,
        )?;
        Ok(split_actions(&[text]))
    }
}

/// What a missing `offline_access` or `account_read` costs, and the fix.
fn lacking_scope_warnings(scopes: &[String], source: ScopeSource) -> Vec<String> {
    let fix = |scope: &str| match source {
        ScopeSource::Flag => format!("add {scope} to --scopes (CCSETUP_SCOPES)"),
        ScopeSource::Picker => format!("tick {scope} in the list"),
    };
    let mut warnings = Vec::new();
    if !cc::grants_refresh_token(scopes) {
        warnings.push(format!(
            "without offline_access Constant Contact issues no refresh token, so `ccsetup token` \
             cannot renew access after 24 h: {}",
            fix("offline_access")
        ));
    }
    if !cc::grants_account_read(scopes) {
        warnings.push(format!(
            "without account_read the account check after authorization is skipped: {}",
            fix("account_read")
        ));
    }
    warnings
}

/// Splits a comma-separated action list, dropping empty items.
fn split_actions<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    items
        .iter()
        .flat_map(|item| item.as_ref().split(','))
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

/// Action ids have no spaces; a space means a missing comma.
fn validate_actions(text: &str) -> std::result::Result<(), String> {
    match split_actions(&[text])
        .iter()
        .find(|a| a.contains(char::is_whitespace))
    {
        Some(bad) => Err(format!(
            "\"{bad}\" has a space: separate actions with commas"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_split_on_commas_and_drop_blanks() {
        assert_eq!(
            split_actions(&[" a , ,b", "c"]),
            vec!["a".to_string(), "b".into(), "c".into()]
        );
        assert!(split_actions::<&str>(&[""]).is_empty());
    }

    #[test]
    fn an_action_with_a_space_is_refused_with_the_reason() {
        assert!(validate_actions("").is_ok());
        assert!(validate_actions("list_contacts, get_contact").is_ok());
        let why = validate_actions("list_contacts get_contact").unwrap_err();
        assert!(why.contains("commas"), "{why}");
    }
}
