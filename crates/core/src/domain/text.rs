//! Text helpers shared by search and display.

/// Lower-cases, folds `ё` to `е` and collapses white space, so that search matches regardless of
/// case in any script (SQLite's `lower()` only folds ASCII).
pub fn normalize_for_search(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    for ch in text.chars() {
        if ch.is_whitespace() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
            continue;
        }
        last_space = false;
        for lower in ch.to_lowercase() {
            out.push(if lower == 'ё' { 'е' } else { lower });
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Escapes LIKE wildcards so a search for `50%` finds the text `50%`.
pub fn like_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for ch in needle.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// Shows only the last four characters of an account or card number: `•••• 4312`.
pub fn mask_number(number: &str) -> String {
    let digits: Vec<char> = number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("•••• {tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_cyrillic_and_spaces() {
        assert_eq!(
            normalize_for_search("  Пятёрочка   МОСКВА "),
            "пятерочка москва"
        );
        assert_eq!(normalize_for_search("OZON"), "ozon");
    }

    #[test]
    fn masks_to_last_four() {
        assert_eq!(mask_number("40817810099910004312"), "•••• 4312");
        assert_eq!(mask_number("****4821"), "•••• 4821");
        assert_eq!(mask_number("12"), "•••• 12");
    }
}
