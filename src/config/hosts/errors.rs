//! Errors that point at the place in the file: line and column, and the key meant.

use super::*;

/// Where in the document an offset falls, for error messages.
pub(super) struct Place {
    table: String,
    key: Option<String>,
    valid_keys: &'static [&'static str],
}

pub(super) fn locate(doc: &DeTable<'_>, offset: usize) -> Option<Place> {
    let inside = |span: Range<usize>| span.start <= offset && offset < span.end.max(span.start + 1);
    let key_in = |table: &DeTable<'_>| {
        table
            .iter()
            .find(|(k, v)| inside(k.span()) || inside(v.span()))
            .map(|(k, _)| k.get_ref().to_string())
    };
    for (key, value) in doc.iter() {
        let (name, span) = (key.get_ref().as_ref(), value.span());
        match (name, value.get_ref()) {
            ("defaults", DeValue::Table(table)) => {
                if let Some(k) = key_in(table) {
                    return Some(Place {
                        table: "[defaults]".into(),
                        key: Some(k),
                        valid_keys: DEFAULTS_KEYS,
                    });
                }
            }
            ("hosts", DeValue::Array(entries)) => {
                for (i, entry) in entries.iter().enumerate() {
                    if let DeValue::Table(table) = entry.get_ref() {
                        let key = key_in(table);
                        if key.is_some() || inside(entry.span()) {
                            return Some(Place {
                                table: format!("[[hosts]] #{}", i + 1),
                                key,
                                valid_keys: HOST_KEYS,
                            });
                        }
                    }
                }
            }
            _ => {}
        }
        if inside(key.span()) || inside(span) {
            return Some(Place {
                table: "the top level".into(),
                key: Some(name.to_owned()),
                valid_keys: TOP_KEYS,
            });
        }
    }
    None
}

pub(super) fn serde_error(
    e: &toml::de::Error,
    doc: &DeTable<'_>,
    text: &str,
    path: &Path,
) -> ConfigError {
    let offset = e.span().map_or(0, |s| s.start);
    let place = locate(doc, offset);
    let msg = e.message().trim_end();
    let message = if let Some(rest) = msg.strip_prefix("unknown field `") {
        let key = rest.split('`').next().unwrap_or(rest);
        let (table, valid) = place.as_ref().map_or(("this table", &[][..]), |p| {
            (p.table.as_str(), p.valid_keys)
        });
        match suggest(key, valid) {
            Some(s) => format!("unknown key `{key}` in {table}; did you mean `{s}`?"),
            None if valid.is_empty() => format!("unknown key `{key}` in {table}"),
            None => format!(
                "unknown key `{key}` in {table}; expected one of: {}",
                valid.join(", ")
            ),
        }
    } else if let Some(rest) = msg.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or(rest);
        match &place {
            Some(p) => format!("missing required key `{key}` in {}", p.table),
            None => format!("missing required key `{key}`"),
        }
    } else {
        // serde speaks of sequences and maps; users wrote arrays and tables.
        let msg = msg
            .replace("a sequence", "an array")
            .replace("a map", "a table");
        match place {
            Some(Place {
                table,
                key: Some(key),
                ..
            }) => format!("bad value for `{key}` in {table}: {msg}"),
            Some(Place { table, .. }) => format!("{table}: {msg}"),
            None => msg,
        }
    };
    ConfigError::at(path, text, offset, message)
}

/// The valid key closest to `key`, if close enough to be a likely typo.
pub(super) fn suggest(key: &str, valid: &[&'static str]) -> Option<&'static str> {
    let norm = key.to_ascii_lowercase().replace('-', "_");
    // A prefix (`identity` for `identity_file`) is a stronger hint than any
    // distance.
    if norm.len() >= 3
        && let Some(k) = valid.iter().find(|k| k.starts_with(&norm))
    {
        return Some(k);
    }
    // The reverse (`hostname` for `host`); the longest match is the most
    // specific.
    if let Some(k) = valid
        .iter()
        .filter(|k| k.len() >= 4 && norm.starts_with(**k))
        .max_by_key(|k| k.len())
    {
        return Some(k);
    }
    let limit = match norm.chars().count() {
        0..=3 => 1,
        4..=7 => 2,
        _ => 3,
    };
    valid
        .iter()
        .map(|k| (edit_distance(&norm, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}
