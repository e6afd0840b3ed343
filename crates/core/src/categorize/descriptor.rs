//! Statement lines as card acquirers and banks print them, split into their parts before any
//! layer looks: `UBER *TRIP HELP.UBER.COM NLD`, `YANDEX*5814*EDA MOSCOW RUS`,
//! `Оплата товаров и услуг. PYATEROCHKA 6312 Samara RUS`, Alfa-Bank's `Операция по карте:
//! 4279++++3321, место совершения: RU/KAZAN/BAHETLE-6, MCC: 5411`.
//!
//! The acquirer's part of a line is the place after `место совершения:` when the bank prints
//! one, otherwise the line's Latin tail: the words after the last one with a letter outside ASCII
//! (the bank's own words, "Оплата товаров и услуг.", come before it). In that part, from the end:
//! an ISO 3166 country code; a city (the words after the last store, terminal or reference
//! number, or else the one word before the country code); card masks (`4276****1234`, `*4821`,
//! `4279++++3321`) and reference numbers; what is left, from the first word, is the name. A name
//! with a star is `BRAND*SUBBRAND` or `BRAND*MCC*SUBBRAND`; an `MCC: 5411` anywhere in the line
//! is read too.
//!
//! Every part is a slice of the line: parsing allocates nothing.

use std::sync::LazyLock;

use memchr::memchr2_iter;
use memchr::memmem::Finder;

/// The parts of one statement line. Parts the line does not have are empty or `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Descriptor<'a> {
    /// The merchant as the acquirer printed it, without city, country, masks and numbers after
    /// it (`UBER *TRIP HELP.UBER.COM`, `KRASNYJ YAR`); empty when the line has no acquirer part.
    pub name: &'a str,
    /// The name before its first star (`YANDEX`), or the whole name.
    pub brand: &'a str,
    /// The name after its star (and after the MCC between two stars): `EDA`, `TRIP HELP.UBER.COM`.
    pub sub_brand: Option<&'a str>,
    /// The merchant category code the line carries (`YANDEX*5814*EDA`, `MCC: 5411`).
    pub mcc: Option<u16>,
    pub city: Option<&'a str>,
    /// The country code as printed (`RUS`, `GBR`, `RU`).
    pub country: Option<&'a str>,
    /// The first card mask (`4276****1234`, `*4821`).
    pub card: Option<&'a str>,
    /// The last store, terminal or reference number of the acquirer's part.
    pub reference: Option<&'a str>,
}

/// ISO 3166-1 alpha-3 codes acquirers print at the end of a line (sorted: binary search).
const COUNTRIES: &[&str] = &[
    "ABW", "AIA", "ALB", "AND", "ARE", "ARG", "ARM", "AUS", "AUT", "AZE", "BEL", "BGR", "BHR",
    "BIH", "BLR", "BRA", "CAN", "CHE", "CHL", "CHN", "COL", "CUB", "CYP", "CZE", "DEU", "DNK",
    "DOM", "DZA", "EGY", "ESP", "EST", "FIN", "FRA", "GBR", "GEO", "GRC", "HKG", "HRV", "HUN",
    "IDN", "IND", "IRL", "ISL", "ISR", "ITA", "JOR", "JPN", "KAZ", "KGZ", "KHM", "KOR", "LKA",
    "LTU", "LUX", "LVA", "MAC", "MAR", "MDA", "MDV", "MEX", "MKD", "MLT", "MNE", "MNG", "MUS",
    "MYS", "NLD", "NOR", "NZL", "OMN", "PAN", "PER", "PHL", "POL", "PRT", "QAT", "ROU", "RUS",
    "SAU", "SGP", "SRB", "SVK", "SVN", "SWE", "SYC", "THA", "TJK", "TKM", "TUN", "TUR", "TWN",
    "TZA", "UKR", "URY", "USA", "UZB", "VNM", "ZAF",
];

/// Splits `line` into its parts (see the module documentation).
pub fn parse(line: &str) -> Descriptor<'_> {
    let mut d = Descriptor {
        card: first_card_mask(line),
        mcc: labelled_mcc(line),
        ..Descriptor::default()
    };
    match place_of_purchase(line) {
        Some(place) => {
            // RU/KAZAN/BAHETLE-6: country, city, name.
            let mut parts = place.splitn(3, '/');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(country), Some(city), Some(name)) => {
                    d.country = Some(country.trim()).filter(|c| !c.is_empty());
                    d.city = Some(city.trim()).filter(|c| !c.is_empty());
                    d.name = name.trim();
                }
                _ => d.name = place,
            }
        }
        None => acquirer_part(latin_tail(line), &mut d),
    }
    split_brand(&mut d);
    d
}

fn is_separator(c: char) -> bool {
    c.is_ascii_whitespace() || c == ','
}

/// The text after "место совершения:" up to the next comma (Alfa-Bank's card lines).
fn place_of_purchase(line: &str) -> Option<&str> {
    static LABEL: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("совершения:"));
    let at = LABEL.find(line.as_bytes())? + LABEL.needle().len();
    let rest = &line[at..];
    let end = rest.find(',').unwrap_or(rest.len());
    Some(rest[..end].trim()).filter(|p| !p.is_empty())
}

/// The four digits after an "MCC" label (`MCC: 5411`, `MCC5411`).
fn labelled_mcc(line: &str) -> Option<u16> {
    static LABEL: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("MCC"));
    let at = LABEL.find(line.as_bytes())? + 3;
    let rest = line[at..].trim_start_matches([':', ' ']);
    four_digits(rest)
}

/// The card mask of the line (the first with a star or a plus, else one with an ellipsis:
/// `40817810...1234`), looked for only around those characters.
fn first_card_mask(line: &str) -> Option<&str> {
    static ELLIPSIS: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("..."));
    let bytes = line.as_bytes();
    let candidates = memchr2_iter(b'*', b'+', bytes).chain(ELLIPSIS.find_iter(bytes));
    let mut checked_to = 0;
    for at in candidates {
        if at < checked_to {
            continue;
        }
        let start = line[..at]
            .rfind(|c: char| is_separator(c))
            .map_or(0, |s| s + 1);
        let end = line[at..]
            .find(|c: char| is_separator(c))
            .map_or(line.len(), |e| at + e);
        let token = &line[start..end];
        if is_card_mask(token) {
            return Some(token);
        }
        checked_to = end;
    }
    None
}

/// A code of exactly four digits at the start of `s` (not followed by a fifth).
fn four_digits(s: &str) -> Option<u16> {
    let b = s.as_bytes();
    if b.len() >= 4
        && b[..4].iter().all(u8::is_ascii_digit)
        && b.get(4).is_none_or(|c| !c.is_ascii_digit())
    {
        s[..4].parse().ok()
    } else {
        None
    }
}

/// The words after the last word with a letter outside ASCII.
fn latin_tail(line: &str) -> &str {
    let start = match line.char_indices().rev().find(|(_, c)| !c.is_ascii()) {
        Some((last, _)) => line[last..]
            .find(|c: char| c.is_ascii_whitespace())
            .map_or(line.len(), |off| last + off),
        None => 0,
    };
    line[start..].trim()
}

/// `4276****1234`, `*4821`, `4279++++3321`, `40817810...1234`: digits and mask characters only,
/// with at least four digits and two mask characters (or one leading star).
fn is_card_mask(token: &str) -> bool {
    let mut digits = 0;
    let mut masks = 0;
    for c in token.chars() {
        match c {
            '0'..='9' => digits += 1,
            '*' | '+' => masks += 1,
            '.' => {}
            _ => return false,
        }
    }
    digits >= 4 && (masks >= 2 || token.starts_with('*') || token.contains("..."))
}

/// A number of digits and punctuation only (`6312`, `+79161112233`, `№112`).
fn is_number(token: &str) -> bool {
    token.bytes().filter(u8::is_ascii_digit).count() >= 2 && !token.chars().any(char::is_alphabetic)
}

/// A store, terminal, order or phone number: at least two digits and nothing but digits and
/// punctuation, or a code of at least three digits and two letters (`2K4LM12`).
fn is_reference(token: &str) -> bool {
    let digits = token.bytes().filter(u8::is_ascii_digit).count();
    let letters = token.chars().filter(|c| c.is_alphabetic()).count();
    is_number(token) || (digits >= 3 && letters >= 2 && token.len() <= 12)
}

fn is_country(token: &str) -> bool {
    token.len() == 3
        && token.bytes().all(|b| b.is_ascii_uppercase())
        && COUNTRIES.binary_search(&token).is_ok()
}

/// A word that can be a city: letters (and hyphens), no dots, slashes or stars.
fn is_city_word(token: &str) -> bool {
    token.chars().all(|c| c.is_alphabetic() || c == '-') && token.chars().any(char::is_alphabetic)
}

/// Reads name, reference, city and country from the acquirer's part of a line.
fn acquirer_part<'a>(part: &'a str, d: &mut Descriptor<'a>) {
    // Word spans (start, end) in `part`; a line has a few dozen words at most.
    const MAX: usize = 24;
    let mut words = [(0usize, 0usize); MAX];
    let mut n = 0;
    let mut start = None;
    for (i, c) in part
        .char_indices()
        .chain(std::iter::once((part.len(), ' ')))
    {
        match (is_separator(c), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                if n == MAX {
                    // Keep the end of a long line: that is where city and country are.
                    words.copy_within(1.., 0);
                    n -= 1;
                }
                words[n] = (s, i);
                n += 1;
                start = None;
            }
            _ => {}
        }
    }
    let word = |i: usize| &part[words[i].0..words[i].1];
    if n == 0 {
        return;
    }
    let mut end = n;
    if end > 1 && is_country(word(end - 1)) {
        d.country = Some(word(end - 1));
        end -= 1;
    }
    // The name is the first word and those after it up to the first number or card mask.
    let first_number = (1..end).find(|&i| is_reference(word(i)) || is_card_mask(word(i)));
    let name_end = match first_number {
        Some(i) => {
            let last_number = (i..end)
                .rev()
                .find(|&j| is_reference(word(j)) || is_card_mask(word(j)))
                .unwrap_or(i);
            d.reference = (i..=last_number).rev().map(word).find(|w| is_reference(w));
            let city_words = last_number + 1..end;
            if !city_words.is_empty() && city_words.clone().all(|j| is_city_word(word(j))) {
                d.city = Some(&part[words[last_number + 1].0..words[end - 1].1]);
            }
            i
        }
        None if d.country.is_some() && end >= 2 && is_city_word(word(end - 1)) => {
            d.city = Some(word(end - 1));
            end - 1
        }
        None => end,
    };
    let mut name_start = 0;
    // A card mask or a number before the name (`*2290 BATON`) is no part of it.
    while name_start < name_end && (is_card_mask(word(name_start)) || is_number(word(name_start))) {
        name_start += 1;
    }
    if name_start < name_end {
        d.name = &part[words[name_start].0..words[name_end - 1].1];
    }
}

/// `BRAND*SUBBRAND` or `BRAND*MCC*SUBBRAND`.
fn split_brand(d: &mut Descriptor<'_>) {
    let name = d.name;
    d.brand = name;
    let Some(star) = name.find('*') else {
        return;
    };
    let brand = name[..star].trim();
    if brand.is_empty() {
        return;
    }
    d.brand = brand;
    let mut rest = &name[star + 1..];
    if let Some(mcc) = four_digits(rest).filter(|_| rest.as_bytes().get(4) == Some(&b'*')) {
        d.mcc = Some(mcc);
        rest = &rest[5..];
    }
    d.sub_brand =
        Some(rest.trim_matches(|c: char| c == '*' || c.is_whitespace())).filter(|s| !s.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acquirer_strings_with_city_and_country() {
        let d = parse("DELIVEROO LONDON GBR");
        assert_eq!(
            (d.name, d.city, d.country),
            ("DELIVEROO", Some("LONDON"), Some("GBR"))
        );
        let d = parse("LIDL SAGT DANKE BERLIN DEU");
        assert_eq!((d.name, d.city), ("LIDL SAGT DANKE", Some("BERLIN")));
        let d = parse("Оплата товаров и услуг. PYATEROCHKA 6312 Samara RUS");
        assert_eq!(
            (d.name, d.reference, d.city, d.country),
            ("PYATEROCHKA", Some("6312"), Some("Samara"), Some("RUS"))
        );
        let d = parse("Покупка. KRASNYJ YAR 214 KRASNOYARSK RUS");
        assert_eq!(
            (d.name, d.reference, d.city),
            ("KRASNYJ YAR", Some("214"), Some("KRASNOYARSK"))
        );
        // A store number glued to the first word stays with the name.
        let d = parse("LENTA-0112 NOVOSIBIRSK RUS");
        assert_eq!((d.name, d.city), ("LENTA-0112", Some("NOVOSIBIRSK")));
        let d = parse("Оплата товаров и услуг. ROSNEFT AZS 1122 SANKT-PETERBURG RUS");
        assert_eq!((d.name, d.city), ("ROSNEFT AZS", Some("SANKT-PETERBURG")));
        // No country: nothing is taken for a city.
        let d = parse("BATON NOVOSIBIRSK");
        assert_eq!((d.name, d.city), ("BATON NOVOSIBIRSK", None));
    }

    #[test]
    fn stars_split_brand_sub_brand_and_mcc() {
        let d = parse("YANDEX*5814*EDA MOSCOW RUS");
        assert_eq!(
            (d.brand, d.sub_brand, d.mcc, d.city),
            ("YANDEX", Some("EDA"), Some(5814), Some("MOSCOW"))
        );
        let d = parse("UBER *TRIP HELP.UBER.COM NLD");
        assert_eq!(
            (d.name, d.brand, d.sub_brand, d.city, d.country),
            (
                "UBER *TRIP HELP.UBER.COM",
                "UBER",
                Some("TRIP HELP.UBER.COM"),
                None,
                Some("NLD")
            )
        );
        let d = parse("MTS*KION MOSCOW RUS");
        assert_eq!((d.brand, d.sub_brand, d.mcc), ("MTS", Some("KION"), None));
        let d = parse("UBER * EATS PENDING AMSTERDAM NLD");
        assert_eq!((d.brand, d.sub_brand), ("UBER", Some("EATS PENDING")));
        // Not an MCC: five digits, or no star after them.
        assert_eq!(parse("SHOP*12345*X").mcc, None);
        assert_eq!(parse("SHOP*1234 X").mcc, None);
        assert_eq!(parse("*4821").brand, "");
    }

    #[test]
    fn card_masks_references_and_the_banks_own_words() {
        let d = parse("Перевод с карты на карту 4276****1234 А. ПЕТРОВ");
        assert_eq!((d.card, d.name), (Some("4276****1234"), ""));
        let d = parse("Покупка по карте *2290 BATON NOVOSIBIRSK");
        assert_eq!((d.card, d.name), (Some("*2290"), "BATON NOVOSIBIRSK"));
        let d = parse("Card2Card 5469****2210");
        assert_eq!((d.name, d.card), ("Card2Card", Some("5469****2210")));
        let d = parse("SPOTIFY P2A3B4C5D6 STOCKHOLM SWE");
        assert_eq!(
            (d.name, d.reference, d.city),
            ("SPOTIFY", Some("P2A3B4C5D6"), Some("STOCKHOLM"))
        );
        assert_eq!(parse("Оплата Ozon Fresh заказ 4811203").name, "");
        assert_eq!(parse("12.10.2024 SHOP").card, None);
        assert_eq!(parse("Оплата: Пятёрочка"), Descriptor::default());
        assert_eq!(parse(""), Descriptor::default());
        // A brand with digits is a name, not a reference.
        assert_eq!(
            parse("A101 YENI MAGAZACILIK ANTALYA TUR").name,
            "A101 YENI MAGAZACILIK"
        );
    }

    #[test]
    fn alfa_bank_place_of_purchase_and_labelled_mcc() {
        let d = parse(
            "Операция по карте: 4279++++3321, место совершения: RU/EKATERINBURG/MONETKA 12, MCC: 5411",
        );
        assert_eq!(
            (d.card, d.country, d.city, d.name, d.mcc),
            (
                Some("4279++++3321"),
                Some("RU"),
                Some("EKATERINBURG"),
                "MONETKA 12",
                Some(5411)
            )
        );
        let d = parse("Операция по карте: 5536++++0913, место совершения: RU/KAZAN/BAHETLE-6");
        assert_eq!((d.name, d.mcc), ("BAHETLE-6", None));
        assert_eq!(parse("TERMINAL MCC5812 X").mcc, Some(5812));
    }
}
