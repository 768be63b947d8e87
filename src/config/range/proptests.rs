//! Expansion and folding, by property.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

fn expand_all(items: &[String]) -> BTreeSet<String> {
    items
        .iter()
        .flat_map(|item| expand(item).unwrap_or_else(|e| panic!("`{item}`: {e}")))
        .collect()
}

/// Host-like names: a prefix, an optional number (maybe zero-padded), a suffix.
fn name() -> impl Strategy<Value = String> {
    (
        "[a-zé中]{0,3}[-.]?",
        prop::option::of((0u64..200, 0usize..4)),
        "([-.][a-z]{1,3})?",
    )
        .prop_map(|(prefix, number, suffix)| match number {
            Some((n, width)) => format!("{prefix}{n:0width$}{suffix}"),
            None => format!("{prefix}{suffix}"),
        })
        .prop_filter("a name", |n| !n.is_empty())
}

/// Patterns with one or two bracket groups of ranges and single numbers.
fn pattern() -> impl Strategy<Value = String> {
    let element = (0u64..60, 0u64..8, 0usize..4, 1u64..4).prop_map(|(start, len, width, step)| {
        match (len, step) {
            (0, _) => format!("{start:0width$}"),
            (_, 1) => format!("{start:0width$}-{:0width$}", start + len),
            _ => format!("{start:0width$}-{:0width$}/{step}", start + len),
        }
    });
    let group = prop::collection::vec(element, 1..4).prop_map(|e| format!("[{}]", e.join(",")));
    (
        "[a-z]{1,3}",
        group.clone(),
        "(-[a-z]{1,2})?",
        prop::option::of(group),
    )
        .prop_map(|(prefix, g1, mid, g2)| format!("{prefix}{g1}{mid}{}", g2.unwrap_or_default()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn folding_names_expands_back_to_the_same_set(names in prop::collection::vec(name(), 0..40)) {
        let folded = fold(&names);
        let want: BTreeSet<String> = names.iter().cloned().collect();
        prop_assert_eq!(expand_all(&folded), want);
        // Never more items than names; the order of the input does not matter.
        prop_assert!(folded.len() <= names.len());
        let mut reversed = names.clone();
        reversed.reverse();
        prop_assert_eq!(fold(&reversed), folded);
    }

    #[test]
    fn expanding_then_folding_round_trips(p in pattern()) {
        let names = expand(&p).unwrap();
        let set: BTreeSet<String> = names.iter().cloned().collect();
        let folded = fold(&names);
        prop_assert_eq!(expand_all(&folded), set.clone());
        prop_assert_eq!(fold(&folded.iter().flat_map(|f| expand(f).unwrap()).collect::<Vec<_>>()), folded);
    }

    #[test]
    fn expand_never_panics(s in "[a-z0-9\\[\\],/-]{0,24}|\\PC{0,24}") {
        if let Ok(names) = expand(&s) {
            prop_assert!(!names.is_empty() && names.len() as u64 <= MAX_EXPANSION);
        }
    }
}
