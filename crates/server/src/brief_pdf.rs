//! A meeting brief as a PDF: A4 pages, DejaVu Sans embedded (subset; Cyrillic and the currency
//! signs included), the brief's markdown laid out as headings, list items and paragraphs,
//! wrapped at word boundaries across lines and pages. Made with `krilla`.

use krilla::color::rgb;
use krilla::geom::Point;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};
use krilla::Document;
use rustybuzz::ttf_parser;

/// DejaVu Sans (license: `fonts/LICENSE-DejaVu.txt`).
static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.5;
const LEADING: f32 = 1.4;
/// Where a list item's marker starts, from the margin.
const MARKER_X: f32 = 2.0;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the embedded font cannot be read")]
    Font,
    #[error("the PDF could not be written: {0}")]
    Write(String),
}

/// A font for both drawing (krilla) and measuring (its advances).
struct Face {
    font: Font,
    parsed: ttf_parser::Face<'static>,
}

impl Face {
    fn load(data: &'static [u8]) -> Result<Self, PdfError> {
        let font = Font::new(data.into(), 0).ok_or(PdfError::Font)?;
        let parsed = ttf_parser::Face::parse(data, 0).map_err(|_| PdfError::Font)?;
        Ok(Face { font, parsed })
    }

    /// The width of `text` at `size` points (advances, no kerning: wraps a little early at
    /// worst).
    fn width(&self, text: &str, size: f32) -> f32 {
        let upem = f32::from(self.parsed.units_per_em());
        let units: u32 = text
            .chars()
            .map(|c| {
                self.parsed
                    .glyph_index(c)
                    .and_then(|g| self.parsed.glyph_hor_advance(g))
                    .map_or(u32::from(self.parsed.units_per_em()) / 2, u32::from)
            })
            .sum();
        units as f32 / upem * size
    }
}

/// `text` cut into lines no wider than `max` points: at spaces, and inside a word only when the
/// word alone is wider than a line.
fn wrap(face: &Face, text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if face.width(&candidate, size) <= max {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        // A word wider than the line is cut where it fills one.
        let mut piece = String::new();
        for ch in word.chars() {
            piece.push(ch);
            if face.width(&piece, size) > max && piece.chars().count() > 1 {
                piece.pop();
                lines.push(std::mem::take(&mut piece));
                piece.push(ch);
            }
        }
        current = piece;
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Inline markdown marks the model may add (`**bold**`, `` `code` ``) are dropped.
fn plain(text: &str) -> String {
    text.replace("**", "").replace("__", "").replace('`', "")
}

/// One block of the brief: its size, weight, indent, and the prefix of its first line.
struct Block {
    text: String,
    size: f32,
    bold: bool,
    indent: f32,
    marker: Option<String>,
    space_before: f32,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    for raw in markdown.lines() {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        let block = |text: &str, size, bold, indent, marker: Option<String>, space_before| Block {
            text: plain(text.trim()),
            size,
            bold,
            indent,
            marker,
            space_before,
        };
        let numbered = line
            .split_once(". ")
            .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        out.push(if let Some(t) = line.strip_prefix("# ") {
            block(t, 17.0, true, 0.0, None, 0.0)
        } else if let Some(t) = line.strip_prefix("## ") {
            block(t, 12.5, true, 0.0, None, 10.0)
        } else if let Some(t) = line.strip_prefix("### ") {
            block(t, 11.0, true, 0.0, None, 6.0)
        } else if let Some(t) = line
            .trim_start()
            .strip_prefix("- ")
            .or_else(|| line.trim_start().strip_prefix("* "))
        {
            block(t, BODY, false, 14.0, Some("•".into()), 2.0)
        } else if let Some((n, t)) = numbered {
            block(t, BODY, false, 18.0, Some(format!("{n}.")), 2.0)
        } else {
            block(line, BODY, false, 0.0, None, 4.0)
        });
    }
    out
}

/// One line of text where it goes.
struct Placed {
    page: usize,
    x: f32,
    baseline: f32,
    bold: bool,
    size: f32,
    text: String,
}

/// Every line of the blocks on A4 pages, wrapped to the text width; and how many pages.
fn layout(all: &[Block], regular: &Face, bold: &Face) -> (Vec<Placed>, usize) {
    let width = PAGE_W - 2.0 * MARGIN;
    let mut placed = Vec::new();
    let (mut page, mut y) = (0usize, MARGIN);
    for b in all {
        let face = if b.bold { bold } else { regular };
        let line_h = b.size * LEADING;
        y += b.space_before;
        // A marker wider than the indent ("10.") pushes the text right of it.
        let indent = b.marker.as_ref().map_or(b.indent, |m| {
            b.indent.max(MARKER_X + regular.width(m, b.size) + 4.0)
        });
        for (i, text) in wrap(face, &b.text, b.size, width - indent)
            .into_iter()
            .enumerate()
        {
            if y + line_h > PAGE_H - MARGIN {
                page += 1;
                y = MARGIN;
            }
            let baseline = y + b.size;
            if let Some(marker) = b.marker.as_ref().filter(|_| i == 0) {
                placed.push(Placed {
                    page,
                    x: MARGIN + MARKER_X,
                    baseline,
                    bold: false,
                    size: b.size,
                    text: marker.clone(),
                });
            }
            placed.push(Placed {
                page,
                x: MARGIN + indent,
                baseline,
                bold: b.bold,
                size: b.size,
                text,
            });
            y += line_h;
        }
    }
    (placed, page + 1)
}

/// The brief as PDF bytes: `title` and `subtitle` (the client and the date) above the text.
pub fn render(
    title: &str,
    subtitle: &str,
    markdown: &str,
    lang: &str,
) -> Result<Vec<u8>, PdfError> {
    let regular = Face::load(REGULAR)?;
    let bold = Face::load(BOLD)?;
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(format!("{title} — {subtitle}"))
            .language(lang.to_owned()),
    );
    let settings = || PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(PdfError::Font);
    let mut all = vec![
        Block {
            text: title.to_owned(),
            size: 11.0,
            bold: true,
            indent: 0.0,
            marker: None,
            space_before: 0.0,
        },
        Block {
            text: subtitle.to_owned(),
            size: 9.0,
            bold: false,
            indent: 0.0,
            marker: None,
            space_before: 0.0,
        },
    ];
    all.extend(blocks(markdown));

    let (placed, pages) = layout(&all, &regular, &bold);

    let ink = Fill {
        paint: rgb::Color::new(30, 30, 30).into(),
        ..Fill::default()
    };
    for p in 0..pages {
        let mut pg = doc.start_page_with(settings()?);
        let mut surface = pg.surface();
        surface.set_fill(Some(ink.clone()));
        for line in placed.iter().filter(|l| l.page == p) {
            let face = if line.bold { &bold } else { &regular };
            surface.draw_text(
                Point::from_xy(line.x, line.baseline),
                face.font.clone(),
                line.size,
                &line.text,
                false,
                TextDirection::Auto,
            );
        }
        surface.finish();
        pg.finish();
    }
    doc.finish().map_err(|e| PdfError::Write(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_wraps_within_the_line_and_breaks_long_words() {
        let face = Face::load(REGULAR).expect("font");
        let text = "Расходы выросли на 50% (45 000 ₽ против 30 000 ₽): спросить, что изменилось. "
            .repeat(5);
        let lines = wrap(&face, &text, BODY, 200.0);
        assert!(lines.len() > 5, "{lines:?}");
        assert!(lines.iter().all(|l| face.width(l, BODY) <= 200.0));
        let joined = lines.join(" ");
        assert_eq!(
            joined.split_whitespace().count(),
            text.split_whitespace().count()
        );
        let long = "а".repeat(200);
        let cut = wrap(&face, &long, BODY, 100.0);
        assert!(cut.len() > 1 && cut.iter().all(|l| face.width(l, BODY) <= 100.0));
        assert_eq!(cut.concat(), long);
    }

    #[test]
    fn list_text_starts_right_of_its_marker_and_stays_within_the_margins() {
        let (regular, bold) = (
            Face::load(REGULAR).expect("font"),
            Face::load(BOLD).expect("font"),
        );
        let md: String = (1..=30)
            .map(|n| format!("{n}. Пункт {n}: {}\n", "слово ".repeat(40)))
            .collect();
        let (placed, pages) = layout(&blocks(&md), &regular, &bold);
        assert!(pages >= 2, "{pages}");
        let marker = placed
            .iter()
            .find(|l| l.text == "10.")
            .expect("the tenth marker");
        let text = placed
            .iter()
            .find(|l| l.page == marker.page && l.baseline == marker.baseline && l.text != "10.")
            .expect("its first line");
        assert!(
            text.x > marker.x + regular.width("10.", marker.size),
            "{} vs {}",
            text.x,
            marker.x
        );
        for l in &placed {
            let face = if l.bold { &bold } else { &regular };
            assert!(
                l.x + face.width(&l.text, l.size) <= PAGE_W - MARGIN + 0.01,
                "{}",
                l.text
            );
            assert!(
                l.baseline <= PAGE_H - MARGIN && l.baseline > MARGIN,
                "{}",
                l.baseline
            );
        }
    }

    #[test]
    fn a_long_brief_takes_several_pages_with_the_font_embedded() {
        let mut md = String::from("# Бриф к встрече\n## Что изменилось\n");
        for n in 0..150 {
            md.push_str(&format!("- Пункт {n}: остаток 1\u{a0}200,50\u{a0}₽\n"));
        }
        let pdf = render("Иванов Иван", "07.12.2026", &md, "ru").expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("DejaVuSans"), "the font is named in the PDF");
        let pages = text.matches("/MediaBox").count();
        assert!(pages >= 3, "{pages} pages");
    }
}
