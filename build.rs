//! Compiles `rules/*.yaml` into the binary: each file is parsed here, at build time, and
//! written out as a static Rust table (`BUILTIN_RULES`), so `leakhound` needs no data files at
//! run time and pays no YAML parsing at start-up. A mistake in a rule file fails the build
//! with its file and line; the test suite then checks every rule's examples.

use std::{env, fmt::Write as _, fs, path::Path};

#[path = "src/rules/raw.rs"]
#[allow(dead_code)]
mod raw;

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").unwrap();
    let rules_dir = Path::new(&root).join("rules");
    println!("cargo:rerun-if-changed={}", rules_dir.display());
    println!("cargo:rerun-if-changed=src/rules/raw.rs");
    let mut files: Vec<_> = fs::read_dir(&rules_dir)
        .expect("rules/ directory")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    let mut code = String::from("static BUILTIN_RULES: &[BuiltinRule] = &[\n");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = format!("rules/{}", path.file_name().unwrap().to_string_lossy());
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let file: raw::RuleFile = serde_saphyr::from_str(&text).unwrap_or_else(|err| {
            let line = err.location().map_or(0, |l| l.line());
            panic!("{name}:{line}: {}", err.without_snippet())
        });
        for rule in file.rules {
            write_rule(&mut code, &name, rule);
        }
    }
    code.push_str("];\n");
    let out = Path::new(&env::var("OUT_DIR").unwrap()).join("builtin_rules.rs");
    fs::write(out, code).unwrap();
}

/// One `BuiltinRule { .. }` literal. `{:?}` of a string is a valid Rust string literal.
fn write_rule(code: &mut String, file: &str, rule: raw::RawRule) {
    let line = rule.id.referenced.line();
    // Built-in rules stay on the fast path: keywords, windows near them, no path filter.
    if rule.keywords.is_empty()
        || rule.whole_blob
        || rule.path.is_some()
        || rule.secret_group.is_some()
        || !rule.tags.is_empty()
    {
        panic!(
            "{file}:{line}: built-in rules need keywords and may not set whole_blob, path, \
             secret_group or tags"
        );
    }
    let list = |items: &[String]| format!("&{items:?}");
    let option = |value: Option<String>| value.map_or("None".to_string(), |v| format!("Some({v})"));
    writeln!(
        code,
        "    BuiltinRule {{ file: {file:?}, line: {line}, id: {id:?}, name: {name:?}, \
         provider: {provider:?}, keywords: {keywords}, pattern: {pattern:?}, \
         min_entropy: {min_entropy}, confidence: Confidence::{confidence:?}, \
         min_char_classes: {min_char_classes}, checksum: {checksum}, window: {window}, \
         examples: {examples}, negative_examples: {negative_examples}, references: {references}, \
         pairs_with: {pairs_with}, validate: {validate} }},",
        id = rule.id.value,
        name = rule.name,
        provider = rule.provider,
        keywords = list(&rule.keywords),
        pattern = rule.pattern.value,
        // `{:?}` keeps a decimal point, so the literal is an f64.
        min_entropy = option(rule.min_entropy.map(|v| format!("{v:?}"))),
        confidence = rule.confidence,
        min_char_classes = option(rule.min_char_classes.map(|v| v.to_string())),
        checksum = option(rule.checksum.map(|c| format!("Checksum::{c:?}"))),
        window = option(rule.window.map(|v| v.to_string())),
        examples = list(&rule.examples),
        negative_examples = list(&rule.negative_examples),
        references = list(&rule.references),
        pairs_with = list(&rule.pairs_with),
        validate = match &rule.validate {
            Some(v) => {
                if let Err(message) = v.check() {
                    panic!(
                        "{file}:{}: rule `{}`: {message}",
                        rule.id.referenced.line(),
                        rule.id.value
                    );
                }
                format!("Some(|| {})", v.to_rust())
            }
            None => "None".to_string(),
        },
    )
    .unwrap();
}
