//! `--format csv`: one row per finding location, for spreadsheets and ticket imports.
//!
//! RFC 4180: a header row, CRLF line ends, and a field quoted (with `"` doubled) when it holds
//! a comma, a quote or a line break. Columns: `rule_id, provider, confidence, path, line,
//! column, commit, author, date, secret, fingerprint`; `secret` is masked unless
//! `--show-secrets`; `fingerprint` is the location's, usable in `.leakhoundignore`.

use std::io::{self, Write};

use super::{mask_secret, ReportOptions};
use crate::pipeline::ScanOutput;

const HEADER: [&str; 11] = [
    "rule_id",
    "provider",
    "confidence",
    "path",
    "line",
    "column",
    "commit",
    "author",
    "date",
    "secret",
    "fingerprint",
];

pub fn write(out: &mut dyn Write, output: &ScanOutput, options: ReportOptions) -> io::Result<()> {
    write_row(out, &HEADER)?;
    for finding in &output.findings {
        let secret = if options.show_secrets {
            finding.secret.clone()
        } else {
            mask_secret(&finding.secret)
        };
        for location in &finding.locations {
            let commit = location
                .provenance
                .git()
                .and_then(|git| git.commit.as_ref());
            let (line, column) = (location.line.to_string(), location.column.to_string());
            write_row(
                out,
                &[
                    &finding.rule_id,
                    &finding.provider,
                    finding.confidence.as_str(),
                    location.provenance.path(),
                    &line,
                    &column,
                    commit.map_or("", |c| c.id.as_str()),
                    commit.map_or("", |c| c.author_name.as_str()),
                    commit.map_or("", |c| c.author_date.as_str()),
                    &secret,
                    &location.fingerprint,
                ],
            )?;
        }
    }
    Ok(())
}

fn write_row(out: &mut dyn Write, fields: &[&str]) -> io::Result<()> {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(quote(field).as_bytes())?;
    }
    out.write_all(b"\r\n")
}

/// A field as RFC 4180 writes it. A field a spreadsheet would run as a formula (`=`, `+`, `-`,
/// `@`, tab or CR first) gets a leading `'`: paths and commit messages come from scanned
/// repositories, and a report must not execute `=HYPERLINK(…)` in the responder's spreadsheet.
fn quote(field: &str) -> std::borrow::Cow<'_, str> {
    let field: std::borrow::Cow<'_, str> = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}").into()
    } else {
        field.into()
    };
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\"")).into()
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(quote("plain"), "plain");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quote("two\nlines"), "\"two\nlines\"");
        assert_eq!(quote("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(quote("@cmd"), "'@cmd");
        let mut out = Vec::new();
        write_row(&mut out, &["x", "y,z", ""]).unwrap();
        assert_eq!(out, b"x,\"y,z\",\r\n");
    }
}
