//! Inline ignores: a comment on a secret's line (or the line before) that says "known, leave
//! it". leakhound's own pragmas are always understood; those of gitleaks, Betterleaks and
//! detect-secrets are honoured too unless switched off, so a team can switch tools without
//! touching its code.

use memchr::memmem;

/// Which pragmas count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pragmas {
    /// Honour any inline ignore at all (`--no-inline-ignores` turns this off for an audit).
    pub enabled: bool,
    /// Honour the pragmas of other scanners as well as `leakhound:allow`.
    pub other_tools: bool,
}

impl Default for Pragmas {
    fn default() -> Self {
        Pragmas {
            enabled: true,
            other_tools: true,
        }
    }
}

const OWN_SAME_LINE: &str = "leakhound:allow";
const OWN_NEXT_LINE: &str = "leakhound:allow-next-line";
/// gitleaks, Betterleaks and detect-secrets, in that order.
const OTHER_SAME_LINE: &[&str] = &[
    "gitleaks:allow",
    "betterleaks:allow",
    "pragma: allowlist secret",
];
/// detect-secrets' form for the line above a secret.
const OTHER_NEXT_LINE: &[&str] = &["pragma: allowlist nextline secret"];

impl Pragmas {
    /// Whether a pragma covers the secret at `start..end` of `data`: on any line the secret
    /// touches, or an allow-next-line pragma on the line before it.
    pub fn allows(&self, data: &[u8], start: usize, end: usize) -> bool {
        if !self.enabled {
            return false;
        }
        let first_line_start = memchr::memrchr(b'\n', &data[..start]).map_or(0, |i| i + 1);
        let last_line_end = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i);
        if self.same_line(&data[first_line_start..last_line_end]) {
            return true;
        }
        if first_line_start == 0 {
            return false;
        }
        let previous_end = first_line_start - 1;
        let previous_start = memchr::memrchr(b'\n', &data[..previous_end]).map_or(0, |i| i + 1);
        self.next_line(&data[previous_start..previous_end])
    }

    fn same_line(&self, line: &[u8]) -> bool {
        // `leakhound:allow-next-line` also contains `leakhound:allow`; on its own line it
        // speaks about the next line, not this one.
        let own = memmem::find_iter(line, OWN_SAME_LINE)
            .any(|at| !line[at..].starts_with(OWN_NEXT_LINE.as_bytes()));
        own || (self.other_tools && contains_any(line, OTHER_SAME_LINE))
    }

    fn next_line(&self, line: &[u8]) -> bool {
        contains_any(line, &[OWN_NEXT_LINE])
            || (self.other_tools && contains_any(line, OTHER_NEXT_LINE))
    }
}

fn contains_any(line: &[u8], needles: &[&str]) -> bool {
    needles
        .iter()
        .any(|needle| memmem::find(line, needle.as_bytes()).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(pragmas: Pragmas, text: &str, secret: &str) -> bool {
        let start = text.find(secret).unwrap();
        pragmas.allows(text.as_bytes(), start, start + secret.len())
    }

    #[test]
    fn same_line_pragmas() {
        let on = Pragmas::default();
        for line in [
            "key = \"SECRET\" # leakhound:allow",
            "key = \"SECRET\" // gitleaks:allow",
            "key = \"SECRET\" # betterleaks:allow",
            "key = \"SECRET\"  # pragma: allowlist secret",
        ] {
            assert!(allowed(on, &format!("a\n{line}\nb"), "SECRET"), "{line}");
        }
        assert!(!allowed(
            on,
            "a\nkey = \"SECRET\"\n# leakhound:allow\n",
            "SECRET"
        ));
    }

    #[test]
    fn next_line_pragmas() {
        let on = Pragmas::default();
        assert!(allowed(
            on,
            "# leakhound:allow-next-line\nkey = SECRET\n",
            "SECRET"
        ));
        assert!(allowed(
            on,
            "# pragma: allowlist nextline secret\nkey = SECRET",
            "SECRET"
        ));
        // Two lines above is too far; a next-line pragma does not cover its own line.
        assert!(!allowed(
            on,
            "# leakhound:allow-next-line\n\nkey = SECRET\n",
            "SECRET"
        ));
        assert!(!allowed(
            on,
            "key = SECRET # leakhound:allow-next-line\n",
            "SECRET"
        ));
        // Same-line pragmas on the line before do not reach down.
        assert!(!allowed(on, "# leakhound:allow\nkey = SECRET\n", "SECRET"));
    }

    #[test]
    fn switches() {
        let own_only = Pragmas {
            enabled: true,
            other_tools: false,
        };
        assert!(!allowed(
            own_only,
            "key = SECRET # gitleaks:allow",
            "SECRET"
        ));
        assert!(allowed(
            own_only,
            "key = SECRET # leakhound:allow",
            "SECRET"
        ));
        let off = Pragmas {
            enabled: false,
            other_tools: true,
        };
        assert!(!allowed(off, "key = SECRET # leakhound:allow", "SECRET"));
    }

    #[test]
    fn multi_line_secret_with_pragma_on_its_last_line() {
        let text = "-----BEGIN KEY-----\nAAAA\n-----END KEY----- # leakhound:allow\n";
        let start = 0;
        let end = text.find(" #").unwrap();
        assert!(Pragmas::default().allows(text.as_bytes(), start, end));
    }
}
