//! What may leave the server for an external model. A [`Redactor`] knows the client's personal
//! data (name, e-mail, phone, account numbers, bank client ids) and removes it from any text;
//! patterns catch what it cannot know (card and account numbers, phones and e-mails of others in
//! bank descriptions). Account and card numbers are removed always; names and contacts unless the
//! operator set `AI_SEND_PII=true`.

use super::data::ClientData;
use crate::clients::Client;
use crate::error::CoreResult;

pub const HIDDEN_NUMBER: &str = "[number hidden]";
pub const HIDDEN_CONTACT: &str = "[contact hidden]";
pub const HIDDEN_NAME: &str = "[client]";

/// Runs of at least this many digits in untrusted text (descriptions, questions) are hidden:
/// phones (10–11), cards (13–19), accounts (20).
const UNTRUSTED_DIGITS: usize = 10;
/// In every outgoing text, runs this long are hidden (cards, accounts) — long enough that no
/// amount or date of our own is touched.
const ANY_TEXT_DIGITS: usize = 13;

#[derive(Clone, Debug, Default)]
pub struct Redactor {
    send_pii: bool,
    /// Lower-cased exact strings, longest first.
    needles: Vec<(Vec<char>, &'static str)>,
    /// Digit strings (account numbers, the phone's last ten digits) hidden wherever their digits
    /// appear, however they are formatted.
    digit_needles: Vec<String>,
    /// Lower-cased stems of the client's name parts: `петров` hides `Петрову`, `Петровым`.
    name_stems: Vec<String>,
}

fn fold(c: char) -> char {
    let lower = c.to_lowercase().next().unwrap_or(c);
    if lower == 'ё' {
        'е'
    } else {
        lower
    }
}

fn digits_of(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// The stem of a name part that its Russian case forms share.
fn stem(part: &str) -> Option<String> {
    let lower: String = part.chars().map(fold).collect();
    let n = lower.chars().count();
    if n < 3 {
        return None;
    }
    let last = lower.chars().last()?;
    if n > 4 && "аяйьоеиыу".contains(last) {
        Some(lower.chars().take(n - 1).collect())
    } else {
        Some(lower)
    }
}

impl Redactor {
    /// A redactor that knows no client: patterns only.
    pub fn new(send_pii: bool) -> Self {
        Redactor {
            send_pii,
            ..Default::default()
        }
    }

    /// Knows the client's own data, as given.
    pub fn for_client_data(
        client: &Client,
        account_numbers: &[String],
        bank_client_ids: &[String],
        send_pii: bool,
    ) -> Self {
        let mut r = Redactor::new(send_pii);
        for number in account_numbers {
            let digits = digits_of(number);
            if digits.len() >= 6 {
                r.digit_needles.push(digits);
            }
            r.add(number, HIDDEN_NUMBER);
        }
        for id in bank_client_ids {
            r.add(id, HIDDEN_NUMBER);
        }
        if !send_pii {
            r.add(&client.display_name, HIDDEN_NAME);
            for part in client.display_name.split_whitespace() {
                if let Some(s) = stem(part.trim_matches(|c: char| !c.is_alphanumeric())) {
                    r.name_stems.push(s);
                }
            }
            if let Some(email) = &client.email {
                r.add(email, HIDDEN_CONTACT);
            }
            if let Some(phone) = &client.phone {
                r.add(phone, HIDDEN_CONTACT);
                let digits = digits_of(phone);
                let tail: String = digits
                    .chars()
                    .skip(digits.len().saturating_sub(10))
                    .collect();
                if tail.len() >= 7 {
                    r.digit_needles.push(tail);
                }
            }
        }
        r.needles.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        r
    }

    /// Reads the client's account numbers and bank client ids from the database.
    pub async fn for_client(
        core: &dyn ClientData,
        client: &Client,
        send_pii: bool,
    ) -> CoreResult<Self> {
        let (numbers, ids) = core.identifiers(client.id).await?;
        Ok(Self::for_client_data(client, &numbers, &ids, send_pii))
    }

    pub fn sends_pii(&self) -> bool {
        self.send_pii
    }

    fn add(&mut self, text: &str, replacement: &'static str) {
        let folded: Vec<char> = text.trim().chars().map(fold).collect();
        if folded.len() >= 3 {
            self.needles.push((folded, replacement));
        }
    }

    /// For text we did not write (bank descriptions, merchant names, the manager's question,
    /// earlier answers): everything personal, by knowledge and by pattern.
    pub fn scrub(&self, text: &str) -> String {
        let text = self.known(text);
        let text = self.digit_runs(&text, UNTRUSTED_DIGITS);
        let text = if self.send_pii { text } else { emails(&text) };
        self.names(&text)
    }

    /// The last pass over every text that leaves the server, ours included.
    pub fn guard(&self, text: &str) -> String {
        let text = self.known(text);
        let text = self.digit_runs(&text, ANY_TEXT_DIGITS);
        let text = if self.send_pii { text } else { emails(&text) };
        self.names(&text)
    }

    fn known(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (needle, replacement) in &self.needles {
            out = replace_folded(&out, needle, replacement);
        }
        out
    }

    fn digit_runs(&self, text: &str, min_digits: usize) -> String {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        let mut copied_to = 0;
        while i < chars.len() {
            let (start, c) = chars[i];
            let starts_run = c.is_ascii_digit()
                || (c == '+' && chars.get(i + 1).is_some_and(|(_, n)| n.is_ascii_digit()));
            if !starts_run {
                i += 1;
                continue;
            }
            let mut j = i;
            let mut last_digit = i;
            let mut digits = String::new();
            while j < chars.len() {
                let ch = chars[j].1;
                if ch.is_ascii_digit() {
                    digits.push(ch);
                    last_digit = j;
                } else if !(" -()\u{a0}".contains(ch) || (ch == '+' && j == i)) {
                    break;
                }
                j += 1;
            }
            let known = self
                .digit_needles
                .iter()
                .any(|n| digits.contains(n.as_str()));
            if digits.len() >= min_digits || known {
                let end = chars
                    .get(last_digit + 1)
                    .map(|(b, _)| *b)
                    .unwrap_or(text.len());
                out.push_str(&text[copied_to..start]);
                out.push_str(HIDDEN_NUMBER);
                copied_to = end;
            }
            i = last_digit + 1;
        }
        out.push_str(&text[copied_to..]);
        out
    }

    fn names(&self, text: &str) -> String {
        if self.name_stems.is_empty() {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            if word.is_empty() {
                return;
            }
            let folded: String = word.chars().map(fold).collect();
            let len = folded.chars().count();
            let hit = self
                .name_stems
                .iter()
                .any(|s| folded.starts_with(s.as_str()) && len <= s.chars().count() + 4);
            if hit {
                out.push_str(HIDDEN_NAME);
            } else {
                out.push_str(word);
            }
            word.clear();
        };
        for c in text.chars() {
            if c.is_alphabetic() {
                word.push(c);
            } else {
                flush(&mut word, &mut out);
                out.push(c);
            }
        }
        flush(&mut word, &mut out);
        out
    }
}

fn replace_folded(text: &str, needle: &[char], replacement: &str) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let folded: Vec<char> = chars.iter().map(|(_, c)| fold(*c)).collect();
    if needle.is_empty() || folded.len() < needle.len() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut copied_to = 0;
    while i + needle.len() <= folded.len() {
        if folded[i..i + needle.len()] == *needle {
            let start = chars[i].0;
            let end = chars
                .get(i + needle.len())
                .map(|(b, _)| *b)
                .unwrap_or(text.len());
            out.push_str(&text[copied_to..start]);
            out.push_str(replacement);
            copied_to = end;
            i += needle.len();
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied_to..]);
    out
}

/// Hides anything shaped like an e-mail address.
fn emails(text: &str) -> String {
    if !text.contains('@') {
        return text.to_owned();
    }
    let local = |c: char| c.is_alphanumeric() || "._%+-".contains(c);
    let domain = |c: char| c.is_alphanumeric() || ".-".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        let before = &rest[..at];
        let after = &rest[at + 1..];
        let l_start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| local(*c))
            .last()
            .map(|(i, _)| i)
            .unwrap_or(before.len());
        let d_len: usize = after
            .chars()
            .take_while(|c| domain(*c))
            .map(char::len_utf8)
            .sum();
        let dom = after[..d_len].trim_end_matches('.');
        if l_start < before.len() && dom.contains('.') {
            out.push_str(&before[..l_start]);
            out.push_str(HIDDEN_CONTACT);
            rest = &after[dom.len()..];
        } else {
            out.push_str(&rest[..at + 1]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ClientStatus;
    use chrono::Utc;

    fn client() -> Client {
        Client {
            id: 1,
            display_name: "Иван Петров".into(),
            email: Some("ivan.petrov@example.ru".into()),
            phone: Some("+7 (916) 123-45-67".into()),
            status: ClientStatus::Active,
            sort_name: "иван петров".into(),
            owner_id: None,
            team_id: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            last_activity_at: None,
        }
    }

    fn redactor(send_pii: bool) -> Redactor {
        Redactor::for_client_data(
            &client(),
            &["40817810099910004312".into()],
            &["team200-7".into()],
            send_pii,
        )
    }

    #[test]
    fn names_in_any_case_form_are_hidden() {
        let r = redactor(false);
        assert_eq!(
            r.scrub("Перевод Петрову Ивану"),
            "Перевод [client] [client]"
        );
        assert_eq!(r.scrub("ИВАН ПЕТРОВ, счёт"), "[client], счёт");
        assert_eq!(r.scrub("Кофе Хауз"), "Кофе Хауз");
        // Name parts inside other words are not names.
        assert_eq!(r.scrub("Ивантеевка"), "Ивантеевка");
    }

    #[test]
    fn numbers_and_contacts_are_hidden_however_written() {
        let r = redactor(false);
        let s = r.scrub(
            "карта 4276 1234 5678 9012, счёт 40817810099910004312, тел. 8-916-123-45-67, \
             mail IVAN.PETROV@example.ru, other a.b@c.org, id team200-7",
        );
        for leaked in [
            "4276",
            "40817810099910004312",
            "916",
            "petrov",
            "a.b@c.org",
            "team200-7",
        ] {
            assert!(!s.to_lowercase().contains(leaked), "{leaked} leaked: {s}");
        }
        // Amounts and dates of our own survive the last pass.
        let ours = "- 2025-06-10 DEBIT 1250.00 RUB; total 1234567890.00; 2025-03-15..2025-06-12";
        assert_eq!(r.guard(ours), ours);
        // The account number is caught even with spaces in the last pass.
        assert!(!r.guard("40817 81009 99100 04312").contains("04312"));
    }

    #[test]
    fn send_pii_keeps_names_and_contacts_but_never_numbers() {
        let r = redactor(true);
        let s =
            r.scrub("Петров, ivan.petrov@example.ru, 4276 1234 5678 9012, 40817810099910004312");
        assert!(
            s.contains("Петров") && s.contains("ivan.petrov@example.ru"),
            "{s}"
        );
        assert!(
            !s.contains("4276") && !s.contains("40817810099910004312"),
            "{s}"
        );
    }

    #[test]
    fn emails_without_a_domain_are_left() {
        assert_eq!(emails("price @ 5"), "price @ 5");
        assert_eq!(emails("x@y"), "x@y");
        assert_eq!(emails("write to a@b.ru."), "write to [contact hidden].");
    }
}
