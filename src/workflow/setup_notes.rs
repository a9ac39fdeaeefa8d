//! What running `init` again will and will not redo, said when a signal
//! stops it (docs/contract.md: interrupts leave nothing half-written).

/// Until step 5 stores anything.
pub const BEFORE_STORING: &str = "nothing was stored: running `ccsetup init` again starts at step 1 \
     (the application you made in the portal stays; a consent given in the browser is not reused)";

/// From step 5 on: the secrets and settings are stored.
pub const AFTER_STORING: &str = "the Client Secret, tokens and settings are stored: running \
     `ccsetup init` again finds them and offers to re-create the StackOne Connector Profile \
     without a new consent";
