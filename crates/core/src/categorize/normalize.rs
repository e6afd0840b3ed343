//! The matching key every layer compares: one spelling for the many ways a bank writes a name.
//!
//! - lower case, `ё`→`е`, every run of other characters (punctuation, `*`, `.`) as one space,
//!   padded with a space at both ends so patterns can demand word boundaries;
//! - apostrophes join (`О'КЕЙ` = `ОКЕЙ`, `Л'Этуаль` = `Летуаль`);
//! - Cyrillic is transliterated to Latin and Latin spellings are folded to the same letters
//!   (`x`→`ks`, `y`/`j`/`й`→`i`, `w`→`v`, `c`→`k` but `ch` stays, `kh`→`h`, `ph`→`f`), so
//!   `Пятёрочка`, `PYATEROCHKA` and `Pyaterochka` are the same key `piaterochka`;
//! - a Latin look-alike inside a Cyrillic word is read as the Cyrillic letter (`Такcи` with a
//!   Latin `c` is `такси`);
//! - doubled letters collapse (`Вкусвилл` = `Вкусвил`, `Пятерочкаа` = `Пятерочка`).
//!
//! The key is lossy on purpose: it only has to put the same name on the same key.

/// Writes the key of `text` into `out` (cleared first). Allocates only when `out` must grow.
pub fn key_into(text: &str, out: &mut String) {
    out.clear();
    out.push(' ');
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Find the next word: a run of alphanumerics (apostrophes inside are skipped).
        let Some(ch) = text[i..].chars().next() else {
            break;
        };
        if !is_word_char(ch) {
            i += ch.len_utf8();
            continue;
        }
        let start = i;
        let mut cyrillic = false;
        let mut end = i;
        for (off, c) in text[start..].char_indices() {
            if is_word_char(c) || (is_apostrophe(c) && off > 0) {
                cyrillic |= is_cyrillic(c);
                end = start + off + c.len_utf8();
            } else {
                break;
            }
        }
        emit_word(&text[start..end], cyrillic, out);
        out.push(' ');
        i = end;
    }
}

/// The key of `text` as a new string (for building patterns; the hot path uses [`key_into`]).
pub fn key(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    key_into(text, &mut out);
    out
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | '`' | 'ʼ' | '‘')
}

fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else if ('\u{0410}'..='\u{044F}').contains(&c) || c == 'ё' || c == 'Ё' {
        true
    } else {
        c.is_alphanumeric()
    }
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}')
}

fn lower(c: char) -> char {
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else if ('а'..='я').contains(&c) {
        c
    } else if ('А'..='Я').contains(&c) {
        char::from_u32(c as u32 + 32).unwrap_or(c)
    } else if c == 'Ё' {
        'ё'
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

/// Appends letters of one word, collapsing doubled letters and folding digraphs.
struct Emitter<'a> {
    out: &'a mut String,
    last: u8,
}

impl Emitter<'_> {
    fn letter(&mut self, b: u8) {
        if b == self.last && b.is_ascii_alphabetic() {
            return;
        }
        if b == b'h' {
            match self.last {
                b'k' => {
                    self.out.pop();
                    self.out.push('h');
                    self.last = b'h';
                    return;
                }
                b'p' => {
                    self.out.pop();
                    self.out.push('f');
                    self.last = b'f';
                    return;
                }
                _ => {}
            }
        }
        self.out.push(b as char);
        self.last = b;
    }

    fn letters(&mut self, s: &str) {
        for b in s.bytes() {
            self.letter(b);
        }
    }

    fn other(&mut self, c: char) {
        self.out.push(c);
        self.last = 0;
    }
}

fn emit_word(word: &str, cyrillic: bool, out: &mut String) {
    let mut e = Emitter { out, last: 0 };
    let mut chars = word.chars().peekable();
    while let Some(raw) = chars.next() {
        if is_apostrophe(raw) {
            continue;
        }
        let c = lower(raw);
        match c {
            '0'..='9' => {
                e.out.push(c);
                e.last = c as u8;
            }
            'a'..='z' if cyrillic => {
                // A Latin look-alike in a Cyrillic word stands for the Cyrillic letter.
                let s = match c {
                    'c' => "s",
                    'p' => "r",
                    'x' => "h",
                    'y' => "u",
                    'h' => "n",
                    'b' => "v",
                    _ => "",
                };
                if s.is_empty() {
                    latin(c, chars.peek().copied(), &mut e);
                } else {
                    e.letters(s);
                }
            }
            'a'..='z' => latin(c, chars.peek().copied(), &mut e),
            'а'..='я' | 'ё' | 'і' | 'ї' | 'є' | 'ў' => e.letters(cyr(c)),
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => e.letter(b'a'),
            'è' | 'é' | 'ê' | 'ë' => e.letter(b'e'),
            'ì' | 'í' | 'î' | 'ï' => e.letter(b'i'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => e.letter(b'o'),
            'ù' | 'ú' | 'û' | 'ü' => e.letter(b'u'),
            'ç' => e.letter(b'k'),
            'ñ' => e.letter(b'n'),
            other if other.is_ascii_digit() || !other.is_alphanumeric() => {}
            other => e.other(other),
        }
    }
}

fn latin(c: char, next: Option<char>, e: &mut Emitter<'_>) {
    match c {
        'x' => e.letters("ks"),
        'y' | 'j' => e.letter(b'i'),
        'w' => e.letter(b'v'),
        'q' => e.letter(b'k'),
        'c' => {
            if next.map(lower) == Some('h') {
                e.letter(b'c')
            } else {
                e.letter(b'k')
            }
        }
        other => e.letter(other as u8),
    }
}

fn cyr(c: char) -> &'static str {
    match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'е' | 'ё' | 'э' | 'є' => "e",
        'ж' => "zh",
        'з' => "z",
        'и' | 'й' | 'ы' | 'і' | 'ї' => "i",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' | 'ў' => "u",
        'ф' => "f",
        'х' => "h",
        'ц' => "ts",
        'ч' => "ch",
        'ш' | 'щ' => "sh",
        'ъ' | 'ь' => "",
        'ю' => "iu",
        'я' => "ia",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_spellings_meet() {
        assert_eq!(key("Пятёрочка"), " piaterochka ");
        assert_eq!(key("PYATEROCHKA"), " piaterochka ");
        assert_eq!(key("Пятерочкаа"), " piaterochka ");
        assert_eq!(key("Яндекс Такси"), key("YANDEX*TAXI"));
        assert_eq!(key("Вкусвилл"), key("VKUSVILL"));
        assert_eq!(key("ЛУКОЙЛ"), key("Lukoil"));
        assert_eq!(key("Дикси"), key("DIXY"));
        assert_eq!(key("Шоколадница"), key("SHOKOLADNITSA"));
        assert_eq!(key("Hoff"), key("Хофф"));
    }

    #[test]
    fn punctuation_apostrophes_and_homoglyphs() {
        assert_eq!(key("Оплата: Пятёрочка!"), " oplata piaterochka ");
        assert_eq!(key("!!"), " ");
        assert_eq!(key(""), " ");
        assert_eq!(key("О'КЕЙ"), key("ОКЕЙ"));
        assert_eq!(key("Л'Этуаль"), key("Летуаль"));
        // A Latin "c" and "a" typed inside Cyrillic words.
        assert_eq!(key("Такcи"), key("Такси"));
        assert_eq!(key("Тaкси"), key("Такси"));
        assert_eq!(key("Tele2 36,6"), " tele2 36 6 ");
        assert_eq!(key("1188"), " 1188 ");
    }

    #[test]
    fn reuses_the_buffer() {
        let mut out = String::with_capacity(64);
        key_into("Оплата МТС", &mut out);
        assert_eq!(out, " oplata mts ");
        let cap = out.capacity();
        key_into("Билайн", &mut out);
        assert_eq!(out, " bilain ");
        assert_eq!(out.capacity(), cap);
    }
}
