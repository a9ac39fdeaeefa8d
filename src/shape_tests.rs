//! The shape rules of `init` and its neighbours (issue 21), checked on the
//! source text like `layering_tests`: file and function sizes, the one
//! reader of the plan's sources, where storage and portal wording live.

use crate::layering_tests::sources;

/// The non-test sources whose path starts with `prefix`, as (path, code
/// without comment lines).
fn files_under(prefix: &str) -> Vec<(String, String)> {
    sources()
        .into_iter()
        .filter(|(file, _)| file.starts_with(prefix) && !file.ends_with("tests.rs"))
        .collect()
}

/// The number of lines of `src/<file>` as written (comments included).
fn line_count(file: &str) -> usize {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(file);
    std::fs::read_to_string(path).unwrap().lines().count()
}

/// Every function in `code` longer than `max` lines (signature to closing
/// brace), as "name: n lines".
fn long_functions(code: &str, max: usize) -> Vec<String> {
    let lines: Vec<&str> = code.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(at) = line.find("fn ") else { continue };
        let before = line[..at].trim();
        let is_item = before
            .split_whitespace()
            .all(|w| ["pub", "pub(crate)", "pub(super)", "async", "const"].contains(&w));
        if !is_item {
            continue;
        }
        let mut depth = 0i32;
        let mut opened = false;
        for (end, body_line) in lines.iter().enumerate().skip(start) {
            for c in body_line.chars() {
                match c {
                    '{' => (depth, opened) = (depth + 1, true),
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if (opened && depth == 0) || (!opened && body_line.trim_end().ends_with(';')) {
                let length = end - start + 1;
                if opened && length > max {
                    let name: String = line[at + 3..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    found.push(format!("{name}: {length} lines"));
                }
                break;
            }
        }
    }
    found
}

/// Where `needle` occurs in the files under `prefix`, but for `allowed`.
fn occurrences(prefix: &str, needle: &str, allowed: &[&str]) -> Vec<String> {
    files_under(prefix)
        .into_iter()
        .filter(|(file, code)| code.contains(needle) && !allowed.contains(&file.as_str()))
        .map(|(file, _)| format!("{file}: {needle}"))
        .collect()
}

#[test]
fn init_is_small_files_of_short_functions() {
    let mut broken = Vec::new();
    let files = files_under("commands/init/");
    assert!(files.len() > 3, "init is split into commands/init/");
    for (file, code) in &files {
        let max = if file.ends_with("/mod.rs") { 150 } else { 350 };
        let lines = line_count(file);
        if lines > max {
            broken.push(format!("{file}: {lines} lines (at most {max})"));
        }
        for long in long_functions(code, 60) {
            broken.push(format!("{file}: {long} (at most 60)"));
        }
    }
    let setup = line_count("workflow/setup.rs");
    if setup > 250 {
        broken.push(format!("workflow/setup.rs: {setup} lines (at most 250)"));
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn only_the_plan_reads_args_the_saved_setup_and_the_terminal() {
    let plan = ["commands/init/plan.rs"];
    let mut broken = Vec::new();
    for needle in [
        "is_interactive()",
        "&InitArgs",
        "args.",
        ".yes",
        ".dry_run",
        "Option<&ProfileConfig>",
        "config::load",
    ] {
        broken.extend(occurrences("commands/init/", needle, &plan));
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn storage_belongs_to_the_workflow() {
    let mut broken = Vec::new();
    for needle in ["SecretKind::", ".lock()", "prompt_for("] {
        broken.extend(occurrences("commands/init/", needle, &[]));
    }
    // Asking for a secret again has one home: workflow::secrets::ask_again.
    broken.extend(occurrences("", "prompt_for(", &["workflow/secrets.rs"]));
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn portal_wording_lives_in_constant_contact_and_the_portal_guide() {
    let mut broken = Vec::new();
    for needle in [
        "Rotating Refresh Tokens",
        "STACKONE_REDIRECT_URI",
        "stackone.com/connect/oauth2",
        "Generate Client Secret",
        "My Applications",
        "New Application",
    ] {
        broken.extend(occurrences("commands/", needle, &[]));
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn one_open_in_browser_on_the_terminal() {
    let found: Vec<String> = files_under("")
        .into_iter()
        .filter(|(file, code)| !file.starts_with("sandbox/") && code.contains("fn open_in_browser"))
        .map(|(file, _)| file)
        .collect();
    assert_eq!(found, ["workflow/mod.rs"]);
}

#[test]
fn test_support_is_not_shipped() {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    assert!(
        lib.contains("#[cfg(test)]\npub mod testing;"),
        "src/testing.rs is compiled into tests only"
    );
}

#[test]
fn the_checkers_catch_what_they_look_for() {
    let long = format!("fn f() {{\n{}}}\n", "    x();\n".repeat(60));
    assert_eq!(long_functions(&long, 60), ["f: 62 lines"]);
    assert!(long_functions("pub(super) async fn g() {\n}\n", 60).is_empty());
    assert!(long_functions("fn h();\nfn k() {\n}\n", 1).len() == 1);
}
