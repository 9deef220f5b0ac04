//! The keyword prefilter: one Aho-Corasick pass selects the rules that can match and where.
//!
//! Every rule declares literal keywords that any real match contains or sits next to (`ghp_`,
//! `hf_`, `-----BEGIN`). All keywords of all rules go into one case-insensitive automaton; a
//! scan walks the blob once, and each keyword hit opens a window, from the start of the hit's
//! line to `rule.window` bytes after it, in which that rule's regex will run.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use crate::rules::{Rule, DEFAULT_WINDOW};

/// How far back from a keyword hit a match may start: the hit's line start, but no further
/// than this, so a hit in a minified one-line file opens a small window.
const MAX_LOOKBACK: usize = 256;
/// How far past the window end we extend to reach the end of the line, so a token is not cut.
const MAX_LINE_EXTENSION: usize = 256;

/// A byte range of a blob in which one rule's regex runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window {
    pub start: usize,
    pub end: usize,
}

pub struct Prefilter {
    automaton: AhoCorasick,
    /// For each distinct keyword (automaton pattern id), the rules that declared it.
    keyword_rules: Vec<Vec<usize>>,
    /// Per rule: whether a keyword hit opens the whole blob (gitleaks-style rules).
    whole_blob: Vec<bool>,
    /// Rules without keywords: they run over every non-empty blob.
    keywordless: Vec<usize>,
}

impl Prefilter {
    /// `small_input`: the scan will see a few KiB (a pre-commit diff), so build the automaton
    /// that is quick to construct (a contiguous NFA, about 1 ms for 500 keywords) rather than
    /// the one that is quick to run (a DFA, several ms to build).
    pub fn new(rules: &[Rule], small_input: bool) -> Prefilter {
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        for (rule_index, rule) in rules.iter().enumerate() {
            for keyword in &rule.keywords {
                let keyword = keyword.to_ascii_lowercase();
                match keywords.iter().position(|k| *k == keyword) {
                    Some(i) if !keyword_rules[i].contains(&rule_index) => {
                        keyword_rules[i].push(rule_index)
                    }
                    Some(_) => {}
                    None => {
                        keywords.push(keyword);
                        keyword_rules.push(vec![rule_index]);
                    }
                }
            }
        }
        let whole_blob = rules.iter().map(Rule::scans_whole_blob).collect();
        let keywordless = (0..rules.len())
            .filter(|&i| rules[i].keywords.is_empty())
            .collect();
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(if small_input {
                AhoCorasickKind::ContiguousNFA
            } else {
                AhoCorasickKind::DFA
            }))
            .build(&keywords)
            .expect("keywords are plain literals");
        Prefilter {
            automaton,
            keyword_rules,
            whole_blob,
            keywordless,
        }
    }

    /// The rules whose keywords occur in `data`, each with its merged, sorted windows, then
    /// the rules without keywords, each with the whole blob.
    pub fn candidate_windows(
        &self,
        data: &[u8],
        window_of: impl Fn(usize) -> Option<usize>,
    ) -> Vec<(usize, Vec<Window>)> {
        let mut hits: Vec<(usize, Window)> = Vec::new();
        for hit in self.automaton.find_overlapping_iter(data) {
            for &rule in &self.keyword_rules[hit.pattern().as_usize()] {
                let window = if self.whole_blob[rule] {
                    Window {
                        start: 0,
                        end: data.len(),
                    }
                } else {
                    window_around(data, hit.start(), hit.end(), window_of(rule))
                };
                hits.push((rule, window));
            }
        }
        let whole = || {
            vec![Window {
                start: 0,
                end: data.len(),
            }]
        };
        if hits.is_empty() {
            return match data.is_empty() {
                true => Vec::new(),
                false => self.keywordless.iter().map(|&r| (r, whole())).collect(),
            };
        }
        hits.sort_unstable();
        let mut out: Vec<(usize, Vec<Window>)> = Vec::new();
        for (rule, window) in hits {
            match out.last_mut() {
                Some((last_rule, windows)) if *last_rule == rule => {
                    let last = windows.last_mut().expect("never empty");
                    if window.start <= last.end {
                        last.end = last.end.max(window.end);
                    } else {
                        windows.push(window);
                    }
                }
                _ => out.push((rule, vec![window])),
            }
        }
        out.extend(self.keywordless.iter().map(|&rule| (rule, whole())));
        out
    }
}

/// The window of one keyword hit: from the start of its line (at most [`MAX_LOOKBACK`] bytes
/// back) to the end of its line (at most [`DEFAULT_WINDOW`] bytes on), or, for a multi-line
/// rule, to `after` bytes past the hit and then the end of that line.
fn window_around(data: &[u8], hit_start: usize, hit_end: usize, after: Option<usize>) -> Window {
    let back = hit_start.saturating_sub(MAX_LOOKBACK);
    let start = memchr::memrchr(b'\n', &data[back..hit_start]).map_or(back, |i| back + i + 1);
    let (from, reach) = match after {
        None => (hit_end, DEFAULT_WINDOW),
        Some(after) => ((hit_end + after).min(data.len()), MAX_LINE_EXTENSION),
    };
    let reach = (from + reach).min(data.len());
    let end = memchr::memchr(b'\n', &data[from..reach]).map_or(reach, |i| from + i);
    Window { start, end }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_spans_line_start_to_after() {
        let data = b"first line\nkey = ghp_abc and more\nlast line\nafter";
        // A single-line rule: the hit's line.
        let w = window_around(data, 17, 21, None);
        assert_eq!(&data[w.start..w.end], b"key = ghp_abc and more");
        // A multi-line rule: 21 + 16 = 37 lies on the next line, extended to its end.
        let w = window_around(data, 17, 21, Some(16));
        assert_eq!(&data[w.start..w.end], b"key = ghp_abc and more\nlast line");
    }
}
