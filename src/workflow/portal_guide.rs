//! The terminal side of the Constant Contact portal walk (`init` step 2):
//! the screens of [`PortalSteps`] one at a time, waiting for the user after
//! each, or printed at once as a checklist when nobody is there to wait.

use super::Terminal;
use crate::constant_contact::portal::PortalSteps;
use crate::error::Result;
use crate::ui::IoStreams;

/// The first screen: the portal's address, opened in the browser when
/// `open_browser` (a dry run opens nothing).
pub fn open_portal(term: &mut Terminal<'_>, portal_url: &str, open_browser: bool) {
    term.io.info(PortalSteps::sign_in(portal_url));
    if open_browser {
        term.open_in_browser(portal_url);
    }
}

/// The application's screens, each followed by "is it done?" when
/// `confirms` (else shown without stopping).
pub fn walk(term: &mut Terminal<'_>, steps: &PortalSteps<'_>, confirms: bool) -> Result<()> {
    term.io.info(steps.create_application());
    wait_until_done(term, "Is the application created?", confirms)?;
    term.io.info(steps.add_redirect_uris());
    if confirms {
        let [stackone, local] = steps.redirect_uris();
        offer_to_clipboard(
            term,
            &[
                ("StackOne's redirect URI", stackone),
                ("this machine's redirect URI", local),
            ],
        )?;
    }
    wait_until_done(term, "Are both redirect URIs saved?", confirms)
}

/// The printed guide: what the application must have.
pub fn print_checklist(io: &mut IoStreams, steps: &PortalSteps<'_>, client_id: &str) {
    io.info(steps.checklist(client_id));
}

/// Offers each value (shown above) to the clipboard, where there is one;
/// the question names it, so it stays one line.
fn offer_to_clipboard(term: &mut Terminal<'_>, values: &[(&str, &str)]) -> Result<()> {
    if !crate::clipboard::available() {
        return Ok(());
    }
    for (name, value) in values {
        if term
            .prompter
            .confirm(&format!("Copy {name} to the clipboard?"), true)?
        {
            match crate::clipboard::copy(value) {
                Ok(_) => term.io.success("Copied: paste it into the portal."),
                Err(why) => term.io.warn(format!("could not copy: {why}")),
            }
        }
    }
    Ok(())
}

/// Asks until the user says the step is done (skipped unless `confirms`).
/// The default is "no": an Enter pressed unread must not skip a step.
fn wait_until_done(term: &mut Terminal<'_>, question: &str, confirms: bool) -> Result<()> {
    if !confirms {
        return Ok(());
    }
    while !term.prompter.confirm(question, false)? {
        term.io.info(
            "Take your time: the steps are above. Nothing is saved yet, so Ctrl-C is safe too.",
        );
    }
    Ok(())
}
