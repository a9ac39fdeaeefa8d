//! Inputs found by the fuzzers (`fuzz/`), kept as regression tests with
//! the behaviour they pinned down.

use ccsetup::oauth::{PasteRejection, parse_pasted_redirect};

const STATE: &str = "q8Xo2H0yq3Lr4kq5xQ1wZg";

/// fuzz/paste, crash-ff823079…: a paste with CRs inside the address and NULs
/// inside the code. The URL standard drops ASCII tab/CR/LF anywhere in the
/// input, so this is the redirect URI; the fuzz target's own check ("the
/// text names /callback") was too literal and was fixed. The parser's
/// verdict is right: same address, our state, an opaque code that the token
/// endpoint will judge (NULs included: codes are not interpreted here).
#[test]
fn paste_with_line_breaks_inside_the_address_is_the_same_redirect() {
    let found =
        "  \"http://127.0.0.1:8917\r\r\r/\rcallback?code=a\0\0bc&state=q8Xo2H0yq3Lr4kq5xQ1wZg\"  ";
    let code = parse_pasted_redirect(found, "http://127.0.0.1:8917/callback", STATE)
        .expect("the URL standard strips CR inside the address");
    assert_eq!(code.secret(), "a\0\0bc");
    // A terminal that wrapped the pasted line with a tab or CR: still ours.
    let wrapped = "http://localhost:8917/call\tback?code=xyz&st\rate=q8Xo2H0yq3Lr4kq5xQ1wZg";
    let code = parse_pasted_redirect(wrapped, "http://localhost:8917/callback", STATE).unwrap();
    assert_eq!(code.secret(), "xyz");
    // Stripping never turns another address or state into ours.
    let other_port = "http://localhost:89\r18/callback?code=xyz&state=q8Xo2H0yq3Lr4kq5xQ1wZg";
    assert!(matches!(
        parse_pasted_redirect(other_port, "http://localhost:8917/callback", STATE),
        Err(PasteRejection::WrongAddress { .. })
    ));
    let other_state = "http://localhost:8917/callback?code=xyz&state=q8Xo2H0yq3Lr4kq5xQ1wZ\tX";
    assert_eq!(
        parse_pasted_redirect(other_state, "http://localhost:8917/callback", STATE).unwrap_err(),
        PasteRejection::WrongState
    );
}
