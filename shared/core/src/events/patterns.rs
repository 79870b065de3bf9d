//! Event type patterns: a type name, `family.*` or `*`.

/// `*` matches everything; `family.*` matches every type under `family.` (any depth);
/// anything else matches only itself.
pub fn pattern_matches(pattern: &str, event_type: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(prefix) => event_type.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.') && rest.len() > 1),
        None => pattern == event_type,
    }
}

/// Every subscription that matches `event_type`: the exact type, each `prefix.*` and `*`.
/// Stores index subscriptions by pattern, so the dispatcher looks up exactly these keys.
pub fn patterns_matching(event_type: &str) -> Vec<String> {
    let mut patterns = vec![event_type.to_owned(), "*".to_owned()];
    for (i, _) in event_type.match_indices('.') {
        patterns.push(format!("{}.*", &event_type[..i]));
    }
    patterns
}
