//! `leakhound rules check`: every rule's examples must be found, and its negative examples must
//! not be, by the real scanner with the whole rule set loaded (prefilter, filters and all). The
//! test suite runs this same function over `rules/`, so a rule cannot ship broken.

use std::fmt;

use super::{Rule, RuleSet};
use crate::engine::{compile_pattern, Scanner};

/// One way a rule failed its check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCheckFailure {
    pub rule_id: String,
    pub origin: String,
    pub message: String,
}

impl fmt::Display for RuleCheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: rule `{}`: {}",
            self.origin, self.rule_id, self.message
        )
    }
}

/// Checks every rule in `rules`; an empty result means all passed.
pub fn check_rules(rules: &RuleSet) -> Vec<RuleCheckFailure> {
    let scanner = Scanner::new(rules);
    let mut failures = Vec::new();
    for (index, rule) in rules.rules().iter().enumerate() {
        let mut fail = |message: String| {
            failures.push(RuleCheckFailure {
                rule_id: rule.id.clone(),
                origin: rule.origin.to_string(),
                message,
            })
        };
        match compile_pattern(&rule.pattern) {
            // `secret_group: 0` takes the whole match when there is no group (gitleaks).
            Ok(regex) if regex.captures_len() < 2 && rule.secret_group != Some(0) => {
                fail("pattern has no capture group for the secret".into());
                continue;
            }
            Ok(_) => {}
            Err(err) => {
                fail(format!("pattern does not compile: {err}"));
                continue;
            }
        }
        if rule.examples.is_empty() {
            fail("no examples: every rule needs at least one input it must find".into());
        }
        if rule.negative_examples.is_empty() {
            fail(
                "no negative_examples: every rule needs at least one decoy it must not find".into(),
            );
        }
        for (n, example) in rule.examples.iter().enumerate() {
            if !finds(&scanner, index, example) {
                fail(format!(
                    "example {} is not found: {}",
                    n + 1,
                    preview(example)
                ));
            }
        }
        for (n, example) in rule.negative_examples.iter().enumerate() {
            if finds(&scanner, index, example) {
                fail(format!(
                    "negative example {} is found: {}",
                    n + 1,
                    preview(example)
                ));
            }
        }
        check_keywords_reachable(rule, &mut fail);
    }
    failures
}

fn finds(scanner: &Scanner, rule_index: usize, text: &str) -> bool {
    scanner
        .scan(text.as_bytes())
        .iter()
        .any(|m| m.rule == rule_index)
}

/// Every example must contain one of the rule's keywords, or the prefilter could never let it
/// through; this names the keyword problem instead of a bare "not found".
fn check_keywords_reachable(rule: &Rule, fail: &mut impl FnMut(String)) {
    for (n, example) in rule.examples.iter().enumerate() {
        let lower = example.to_ascii_lowercase();
        if !rule
            .keywords
            .iter()
            .any(|k| lower.contains(&k.to_ascii_lowercase()))
        {
            fail(format!(
                "example {} contains none of the keywords {:?}",
                n + 1,
                rule.keywords
            ));
        }
    }
}

fn preview(text: &str) -> String {
    let one_line = text.replace('\n', "\\n");
    if one_line.chars().count() > 120 {
        format!("{}…", one_line.chars().take(120).collect::<String>())
    } else {
        one_line
    }
}
