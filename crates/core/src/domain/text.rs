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

/// Whether `text` holds a character no person's text should: a control character other than a
/// line break or a tab, or a bidirectional override (which can make text read otherwise than
/// it is stored).
pub fn has_hidden_controls(text: &str) -> bool {
    let bidi = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    text.chars()
        .any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || bidi(c))
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

/// A phone number's digits in one form, whatever the spelling: `+7 916 123-45-67`,
/// `8 (916) 123 45 67` and `89161234567` all give `79161234567` (a Russian number's trunk
/// prefix `8` is the country code `7`; ten digits starting with `9` are a Russian mobile without
/// either). Other numbers keep their digits. `None` when there are no digits.
pub fn phone_key(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    Some(match digits.len() {
        11 if digits.starts_with('8') => format!("7{}", &digits[1..]),
        10 if digits.starts_with('9') => format!("7{digits}"),
        _ => digits,
    })
}

/// Whether a search reads as (part of) a phone number: only digits and `+ - ( )` and spaces,
/// with at least three digits.
fn looks_like_phone(query: &str) -> bool {
    let digits = query.chars().filter(char::is_ascii_digit).count();
    digits >= 3
        && query
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace() || "+-()".contains(c))
}

/// What a phone-like search may match in the stored digits (see [`phone_key`]): its digits as
/// typed, and, when it starts with the trunk prefix `8` (`8 (916…`), the same with `7`. Empty
/// for a search that is not a phone number.
pub fn phone_search_keys(query: &str) -> Vec<String> {
    if !looks_like_phone(query) {
        return Vec::new();
    }
    let digits: String = query.chars().filter(char::is_ascii_digit).collect();
    let mut keys = vec![digits.clone()];
    if let Some(rest) = digits.strip_prefix('8') {
        if query.trim_start().starts_with('8') && digits.len() >= 4 {
            keys.push(format!("7{rest}"));
        }
    }
    if let Some(key) = phone_key(&digits).filter(|k| !keys.contains(k)) {
        keys.push(key);
    }
    keys
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
    #[test]
    fn phone_spellings_share_one_key() {
        for spelling in [
            "+7 916 123-45-67",
            "8 (916) 123 45 67",
            "89161234567",
            "9161234567",
        ] {
            assert_eq!(
                phone_key(spelling).as_deref(),
                Some("79161234567"),
                "{spelling}"
            );
        }
        assert_eq!(
            phone_key("+44 20 7946 0958").as_deref(),
            Some("442079460958")
        );
        assert_eq!(phone_key("no digits"), None);
    }

    #[test]
    fn phone_searches_match_the_key_in_any_spelling() {
        let key = "79161234567";
        for query in [
            "+7 916 123-45-67",
            "8 (916) 123 45 67",
            "89161234567",
            "916 123",
            "123-45-67",
        ] {
            let keys = phone_search_keys(query);
            assert!(
                keys.iter().any(|k| key.contains(k.as_str())),
                "{query}: {keys:?}"
            );
        }
        assert!(phone_search_keys("Иванов").is_empty());
        assert!(
            phone_search_keys("12").is_empty(),
            "too short to be a phone"
        );
        assert!(phone_search_keys("a@b.ru").is_empty());
    }
}
