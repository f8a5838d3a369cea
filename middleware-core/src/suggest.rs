//! "Did you mean ...?": the names closest to a misspelt one, for the errors that name an unknown
//! middleware or setting. A leaf module: the registry and the settings both use it.

/// Up to three candidates closest to `name`: by edit distance, case-insensitively, and by the
/// last dotted component, so `SecurityMidleware` suggests both spellings of SecurityMiddleware.
pub(crate) fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<String> {
    let lower = name.to_ascii_lowercase();
    let tail = |s: &str| s.rsplit('.').next().unwrap_or(s).to_ascii_lowercase();
    // Ranked by the better of the two distances, then by the full-name distance, so the
    // spelling closest to what was written comes first.
    let mut scored: Vec<(usize, usize, &str)> = candidates
        .map(|c| {
            let full = edit_distance(&lower, &c.to_ascii_lowercase());
            let short = edit_distance(&tail(&lower), &tail(c));
            (full.min(short), full, c)
        })
        .filter(|(d, _, c)| *d <= (c.len().max(name.len()) / 3).max(2))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.2 == b.2);
    scored
        .into_iter()
        .take(3)
        .map(|(_, _, c)| c.to_owned())
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_and_dotted_tails() {
        let names = [
            "SecurityMiddleware",
            "django.middleware.security.SecurityMiddleware",
            "SessionMiddleware",
        ];
        let c = closest("SecurityMidleware", names.iter().copied());
        assert!(c.contains(&"SecurityMiddleware".to_owned()), "{c:?}");
        let c = closest(
            "django.middleware.security.SecuritMiddleware",
            names.iter().copied(),
        );
        assert_eq!(c[0], "django.middleware.security.SecurityMiddleware");
        assert!(closest("Totally", names.iter().copied()).is_empty());
    }
}
