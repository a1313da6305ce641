//! The module layers, top to bottom, as `docs/architecture.md` draws them.
//! A module may use the modules of any layer below its own, never one of its
//! own layer or above, so the graph has no cycle. The test reads every
//! `crate::` path in `src/` (outside comments and test modules) and fails
//! on an edge that points up or sideways.

const LAYERS: &[&[&str]] = &[
    // The crate root wires the instance together.
    &["lib"],
    // The web layer, and tools that see the whole server.
    &["backend", "jobs", "fuzz", "index_use", "sealed_texts"],
    &["http", "admin"],
    // The capability modules.
    &["broadcasts"],
    &["messenger", "privacy"],
    &["accounts"],
    &["policies"],
    &["sessions", "mail"],
    // What every capability works with.
    &["context"],
    &["crypto"],
    &["db"],
    &["config", "data_dir", "tls", "clock", "allocator"],
    &["error"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Whether `from` using `to` breaks the layers. A module missing from
/// `LAYERS` always does, until it is placed.
fn breaks_layers(from: &str, to: &str) -> bool {
    match (layer_of(from), layer_of(to)) {
        _ if from == to => false,
        (Some(from), Some(to)) => from >= to,
        _ => true,
    }
}

/// The top-level module a file belongs to: `messenger/leads.rs` is `messenger`.
fn module_of(relative: &std::path::Path) -> String {
    let first = relative.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// The code of a file without comments and without its test module.
fn code_of(source: &str) -> String {
    let source = source.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    source.lines().map(|line| line.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// Every top-level module named after `crate::`, including each item of a
/// `use crate::{a, b::c}` group.
fn used_modules(code: &str) -> Vec<String> {
    let mut used = Vec::new();
    for (start, _) in code.match_indices("crate::") {
        let rest = &code[start + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let body = &group[..group.find('}').unwrap_or(group.len())];
            used.extend(body.split(',').filter_map(|item| leading_name(item.trim())));
        } else if let Some(name) = leading_name(rest) {
            used.push(name);
        }
    }
    used
}

fn leading_name(text: &str) -> Option<String> {
    let name: String = text.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

fn rust_files(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// Every edge `(from module, to module, file)` that breaks the layers.
fn violations() -> Vec<(String, String, String)> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src/").to_path_buf();
        let from = module_of(&relative);
        // The binary uses the library as `server::`; this file names modules in its own tests.
        if from == "main" || from == "layers" {
            continue;
        }
        let source = std::fs::read_to_string(&file).expect("a source file is readable");
        for to in used_modules(&code_of(&source)) {
            if breaks_layers(&from, &to) {
                found.push((from.clone(), to, relative.display().to_string()));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn every_module_uses_only_the_layers_below_its_own() {
    let broken = violations();
    assert!(broken.is_empty(), "these uses point up or sideways (fix the code, or place the module in LAYERS): {broken:#?}");
}

#[test]
fn the_check_sees_a_grouped_use_and_ignores_comments_and_tests() {
    let code = code_of("use crate::{db::ids, messenger::leads};\n// crate::admin\nlet x = crate::mail::x;\n#[cfg(test)]\nmod tests { crate::backend }");
    assert_eq!(used_modules(&code), ["db", "messenger", "mail"]);
}

#[test]
fn a_use_may_point_down_only() {
    assert!(!breaks_layers("broadcasts", "messenger"), "down");
    assert!(breaks_layers("messenger", "broadcasts"), "up");
    assert!(breaks_layers("messenger", "privacy"), "sideways");
    assert!(!breaks_layers("messenger", "messenger"), "within a module");
    assert!(breaks_layers("newcomer", "db"), "a module not yet placed");
}
