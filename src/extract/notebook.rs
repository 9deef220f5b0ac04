//! Jupyter notebooks (`.ipynb`, nbformat 4 and the older `worksheets` layout of 3). The raw
//! JSON is not scanned: a cell's lines are JSON strings there, escaped and glued together, and
//! image outputs are long base64 runs that only make noise. Instead each cell's source is a
//! derived blob `cell N` (1-based, all cell types counted), so a finding's line is the line
//! within the cell, and each output's text is `cell N, output M`: stream `text`, the
//! `text/plain` representation (or, without one, the other text types: HTML, Markdown, JSON),
//! error tracebacks. Images and other binary outputs are skipped. Notebook-level metadata is
//! one more blob. JSON that is not a notebook is left to be scanned as plain text.

use serde_json::{Map, Value};

use super::{Derived, Emit, ExtractError};

/// Output representations scanned when an output has no `text/plain`.
const TEXT_TYPES: &[&str] = &[
    "text/html",
    "text/markdown",
    "text/latex",
    "application/json",
    "application/javascript",
];

pub fn extract(data: &[u8], out: &mut dyn Emit) -> Result<(), ExtractError> {
    let notebook: Value = serde_json::from_slice(data).map_err(|_| ExtractError::NotThisFormat)?;
    let cells = cells(&notebook).ok_or(ExtractError::NotThisFormat)?;
    for (index, cell) in cells.into_iter().enumerate() {
        emit_cell(cell, index + 1, out)?;
    }
    if let Some(Value::Object(metadata)) = notebook.get("metadata") {
        if !metadata.is_empty() {
            let text = serde_json::to_vec_pretty(metadata).unwrap_or_default();
            out.emit(Derived::part("notebook metadata", text))?;
        }
    }
    Ok(())
}

/// The cells, in order: `cells` (nbformat 4) or `worksheets[].cells` (nbformat 3).
fn cells(notebook: &Value) -> Option<Vec<&Map<String, Value>>> {
    let lists: Vec<&Vec<Value>> = match (notebook.get("cells"), notebook.get("worksheets")) {
        (Some(Value::Array(cells)), _) => vec![cells],
        (_, Some(Value::Array(sheets))) => sheets
            .iter()
            .filter_map(|s| s.get("cells")?.as_array())
            .collect(),
        _ => return None,
    };
    Some(
        lists
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .collect(),
    )
}

fn emit_cell(
    cell: &Map<String, Value>,
    number: usize,
    out: &mut dyn Emit,
) -> Result<(), ExtractError> {
    let source = cell.get("source").or_else(|| cell.get("input"));
    if let Some(text) = source.and_then(joined) {
        out.emit(Derived::part(format!("cell {number}"), text))?;
    }
    let outputs = cell.get("outputs").and_then(Value::as_array);
    for (index, output) in outputs.into_iter().flatten().enumerate() {
        if let Some(text) = output_text(output) {
            let detail = format!("cell {number}, output {}", index + 1);
            out.emit(Derived::part(detail, text))?;
        }
    }
    Ok(())
}

/// The scannable text of one output, or `None` for image-only and empty outputs.
fn output_text(output: &Value) -> Option<Vec<u8>> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    // Stream output (and nbformat 3's text representation).
    parts.extend(output.get("text").and_then(joined));
    if let Some(Value::Object(data)) = output.get("data") {
        parts.extend(rich_text(data));
    }
    if let Some(Value::Array(lines)) = output.get("traceback") {
        let lines: Vec<&str> = lines.iter().filter_map(Value::as_str).collect();
        parts.push(lines.join("\n").into_bytes());
    } else if let Some(Value::String(value)) = output.get("evalue") {
        parts.push(value.clone().into_bytes());
    }
    let text = parts.join(&b'\n');
    (!text.is_empty()).then_some(text)
}

/// `text/plain`, or without it the other text representations; never images.
fn rich_text(data: &Map<String, Value>) -> Vec<Vec<u8>> {
    if let Some(text) = data.get("text/plain").and_then(joined) {
        return vec![text];
    }
    TEXT_TYPES
        .iter()
        .filter_map(|mime| data.get(*mime))
        .filter_map(|value| match value {
            Value::Object(_) => serde_json::to_vec_pretty(value).ok(),
            other => joined(other),
        })
        .collect()
}

/// A notebook string: one string, or a list of lines (each keeping its `\n`).
fn joined(value: &Value) -> Option<Vec<u8>> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Array(lines) => lines.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    (!text.is_empty()).then(|| text.into_bytes())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::extract::Collect;
    use crate::source::Inner;

    pub(crate) fn notebook(secret: &str) -> String {
        serde_json::json!({
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": { "kernelspec": { "name": "python3" } },
            "cells": [
                { "cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"] },
                {
                    "cell_type": "code", "metadata": {}, "execution_count": 1,
                    "source": ["import os\n", "print(\"hello\")\n", format!("token = \"{secret}\"\n")],
                    "outputs": [
                        { "output_type": "stream", "name": "stdout", "text": ["hello\n"] },
                        {
                            "output_type": "display_data", "metadata": {},
                            "data": { "image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==" }
                        },
                        {
                            "output_type": "execute_result", "execution_count": 1, "metadata": {},
                            "data": { "text/plain": ["'result'"], "text/html": ["<b>result</b>"] }
                        }
                    ]
                }
            ]
        })
        .to_string()
    }

    #[test]
    fn cells_and_text_outputs_as_lines() {
        let mut out = Collect::default();
        extract(notebook("s3cr3t").as_bytes(), &mut out).unwrap();
        let details: Vec<Inner> = out.derived.iter().map(|d| d.inner.clone()).collect();
        let part = |s: &str| Inner::Part(s.into());
        assert_eq!(
            details,
            [
                part("cell 1"),
                part("cell 2"),
                part("cell 2, output 1"),
                part("cell 2, output 3"),
                part("notebook metadata"),
            ]
        );
        assert_eq!(
            out.texts()[1],
            "import os\nprint(\"hello\")\ntoken = \"s3cr3t\"\n"
        );
        assert_eq!(out.texts()[3], "'result'");
    }

    #[test]
    fn nbformat3_and_tracebacks() {
        let nb = serde_json::json!({
            "worksheets": [{ "cells": [{
                "cell_type": "code", "input": "x = 1",
                "outputs": [{ "output_type": "pyerr", "traceback": ["Traceback", "KeyError: 'k'"] }]
            }]}]
        });
        let mut out = Collect::default();
        extract(nb.to_string().as_bytes(), &mut out).unwrap();
        assert_eq!(out.texts(), ["x = 1", "Traceback\nKeyError: 'k'"]);
    }

    #[test]
    fn not_a_notebook() {
        for data in [&b"{not json"[..], b"[1, 2]", b"{\"cells\": 3}"] {
            let err = extract(data, &mut Collect::default()).unwrap_err();
            assert!(matches!(err, ExtractError::NotThisFormat));
        }
    }
}
