//! File formats of the exports: CSV (streamed page by page) and XLSX (real number and date
//! cells). The rows come from core; this module only formats.
//!
//! CSV: UTF-8 with a byte-order mark, `;` as the separator and `,` as the decimal separator,
//! which is what Excel in a Russian locale opens without an import dialog; times are UTC as
//! `YYYY-MM-DD HH:MM:SS`. A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return is prefixed with `'` so that a spreadsheet never runs it as a formula.

use chrono::{DateTime, Datelike, Timelike, Utc};
use crm_core::domain::{Direction, Money};
use crm_core::export::{ExportRow, PortfolioReport};
use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError};

/// Column titles of a transactions export (both formats).
pub const TRANSACTION_COLUMNS: [&str; 11] = [
    "Дата (UTC)",
    "Счёт",
    "Банк",
    "Направление",
    "Сумма",
    "Валюта",
    "Категория",
    "Источник категории",
    "Продавец",
    "MCC",
    "Описание",
];

/// The most rows one worksheet can hold (Excel's limit, less the header).
pub const XLSX_MAX_ROWS: u64 = 1_048_575;

pub fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Credit => "Поступление",
        Direction::Debit => "Списание",
    }
}

/// Neutralises spreadsheet formulas in untrusted text.
pub fn csv_safe(text: &str) -> std::borrow::Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

fn decimal_comma(m: &Money) -> String {
    m.amount().to_string().replace('.', ",")
}

pub const BOM: &[u8] = b"\xEF\xBB\xBF";

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(64 * 1024))
}

/// The BOM and the header line.
pub fn csv_header() -> std::io::Result<Vec<u8>> {
    let mut w = csv_writer();
    w.write_record(TRANSACTION_COLUMNS)?;
    let mut out = BOM.to_vec();
    out.extend(w.into_inner().map_err(|e| e.into_error())?);
    Ok(out)
}

/// One page of rows as CSV lines.
pub fn csv_rows(rows: &[ExportRow]) -> std::io::Result<Vec<u8>> {
    let mut w = csv_writer();
    for r in rows {
        let merchant = r.merchant.as_deref().unwrap_or("");
        let mcc = r.mcc.as_deref().unwrap_or("");
        w.write_record([
            r.booked_at.format("%Y-%m-%d %H:%M:%S").to_string().as_str(),
            &csv_safe(&r.account),
            &csv_safe(&r.bank),
            direction_name(r.direction),
            &decimal_comma(&r.amount),
            r.amount.currency.as_str(),
            r.category.names().0,
            r.category_source.as_str(),
            &csv_safe(merchant),
            &csv_safe(mcc),
            &csv_safe(&r.description),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error())
}

fn excel_time(at: &DateTime<Utc>) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(at.year() as u16, at.month() as u8, at.day() as u8)?.and_hms(
        at.hour() as u16,
        at.minute() as u8,
        f64::from(at.second()),
    )
}

fn money_number(m: &Money) -> f64 {
    excel_money(m.minor)
}

/// An amount for an Excel number cell. Excel stores every number as an IEEE double, so this is
/// the one place money becomes a float: the exact decimal (minor units / 100) converted to the
/// nearest double, which Excel shows with two decimals.
fn excel_money(minor: i64) -> f64 {
    crm_core::domain::format::to_f64(crm_core::domain::minor_to_decimal(minor))
}

pub struct Formats {
    header: Format,
    date: Format,
    money: Format,
}

impl Default for Formats {
    fn default() -> Self {
        Formats {
            header: Format::new().set_bold().set_align(FormatAlign::Center),
            date: Format::new().set_num_format("dd.mm.yyyy hh:mm"),
            money: Format::new().set_num_format("#,##0.00"),
        }
    }
}

/// A transactions workbook being filled page by page (constant-memory worksheet: rows are
/// flushed to a temporary file as they are written).
pub struct TransactionsXlsx {
    workbook: Workbook,
    formats: Formats,
    next_row: u32,
}

impl TransactionsXlsx {
    pub fn new(title: &str) -> Result<Self, XlsxError> {
        let mut workbook = Workbook::new();
        let formats = Formats::default();
        let sheet = workbook.add_worksheet_with_constant_memory();
        sheet.set_name("Операции")?;
        for (col, width) in [18, 14, 16, 13, 14, 8, 22, 12, 28, 6, 60]
            .iter()
            .enumerate()
        {
            sheet.set_column_width(col as u16, *width)?;
        }
        for (col, title) in TRANSACTION_COLUMNS.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *title, &formats.header)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        workbook.set_properties(&rust_xlsxwriter::DocProperties::new().set_title(title));
        Ok(TransactionsXlsx {
            workbook,
            formats,
            next_row: 1,
        })
    }

    pub fn rows_written(&self) -> u64 {
        u64::from(self.next_row - 1)
    }

    pub fn write(&mut self, rows: &[ExportRow]) -> Result<(), XlsxError> {
        let f = &self.formats;
        let sheet: &mut Worksheet = self.workbook.worksheet_from_index(0)?;
        for r in rows {
            let row = self.next_row;
            sheet.write_datetime_with_format(row, 0, excel_time(&r.booked_at)?, &f.date)?;
            sheet.write_string(row, 1, &r.account)?;
            sheet.write_string(row, 2, &r.bank)?;
            sheet.write_string(row, 3, direction_name(r.direction))?;
            sheet.write_number_with_format(row, 4, money_number(&r.amount), &f.money)?;
            sheet.write_string(row, 5, r.amount.currency.as_str())?;
            sheet.write_string(row, 6, r.category.names().0)?;
            sheet.write_string(row, 7, r.category_source.as_str())?;
            if let Some(m) = &r.merchant {
                sheet.write_string(row, 8, m)?;
            }
            if let Some(m) = &r.mcc {
                sheet.write_string(row, 9, m)?;
            }
            sheet.write_string(row, 10, &r.description)?;
            self.next_row += 1;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Vec<u8>, XlsxError> {
        self.workbook.save_to_buffer()
    }
}

/// The portfolio report: clients, categories, banks.
pub fn portfolio_xlsx(report: &PortfolioReport) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let f = Formats::default();
    let amount_of = |list: &[Money], currency: &str| {
        list.iter()
            .filter(|m| m.currency.as_str() == currency)
            .map(|m| m.minor)
            .sum::<i64>()
    };

    let sheet = workbook.add_worksheet();
    sheet.set_name("Клиенты")?;
    let mut headers: Vec<String> = [
        "ID",
        "Клиент",
        "Статус",
        "Рейтинг",
        "Балл",
        "Банки",
        "Транзакций",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for c in &report.currencies {
        headers.push(format!("Баланс {}", c.as_str()));
        headers.push(format!("Доходы {}", c.as_str()));
        headers.push(format!("Расходы {}", c.as_str()));
    }
    for (col, title) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, title, &f.header)?;
    }
    sheet.set_column_width(1, 28)?;
    sheet.set_column_width(5, 24)?;
    for (i, c) in report.clients.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_number(row, 0, c.client.id as f64)?;
        sheet.write_string(row, 1, &c.client.display_name)?;
        sheet.write_string(row, 2, c.client.status.as_str())?;
        if let Some(g) = c.grade {
            sheet.write_string(row, 3, g.as_str())?;
        }
        if let Some(s) = c.score {
            sheet.write_number(row, 4, f64::from(s))?;
        }
        sheet.write_string(row, 5, c.banks.join(", "))?;
        sheet.write_number(row, 6, c.transactions as f64)?;
        for (k, cur) in report.currencies.iter().enumerate() {
            let col = 7 + 3 * k as u16;
            for (offset, list) in [&c.balances, &c.income, &c.expense].iter().enumerate() {
                let minor = amount_of(list, cur.as_str());
                sheet.write_number_with_format(
                    row,
                    col + offset as u16,
                    excel_money(minor),
                    &f.money,
                )?;
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;

    let sheet = workbook.add_worksheet();
    sheet.set_name("Категории")?;
    for (col, title) in [
        "Категория",
        "Код",
        "Направление",
        "Валюта",
        "Операций",
        "Сумма",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string_with_format(0, col as u16, *title, &f.header)?;
    }
    sheet.set_column_width(0, 26)?;
    sheet.set_column_width(1, 16)?;
    for (i, t) in report.categories.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, t.category.names().0)?;
        sheet.write_string(row, 1, t.category.as_str())?;
        sheet.write_string(row, 2, direction_name(t.category.direction()))?;
        sheet.write_string(row, 3, t.currency.as_str())?;
        sheet.write_number(row, 4, t.count as f64)?;
        sheet.write_number_with_format(row, 5, money_number(&t.amount), &f.money)?;
    }

    let sheet = workbook.add_worksheet();
    sheet.set_name("Банки")?;
    let mut headers: Vec<String> = ["Банк", "Клиентов", "Счетов", "Транзакций"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for c in &report.currencies {
        headers.push(format!("Баланс {}", c.as_str()));
    }
    for (col, title) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, title, &f.header)?;
    }
    sheet.set_column_width(0, 20)?;
    for (i, b) in report.banks.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_string(row, 0, &b.bank)?;
        sheet.write_number(row, 1, b.clients as f64)?;
        sheet.write_number(row, 2, b.accounts as f64)?;
        sheet.write_number(row, 3, b.transactions as f64)?;
        for (k, cur) in report.currencies.iter().enumerate() {
            let minor = amount_of(&b.balances, cur.as_str());
            sheet.write_number_with_format(row, 4 + k as u16, excel_money(minor), &f.money)?;
        }
    }
    let generated = excel_time(&report.generated_at)?;
    let sheet = workbook.add_worksheet();
    sheet.set_name("Отчёт")?;
    sheet.write_string_with_format(0, 0, "Сформирован (UTC)", &f.header)?;
    sheet.write_datetime_with_format(0, 1, generated, &f.date)?;
    sheet.set_column_width(0, 20)?;
    sheet.set_column_width(1, 18)?;
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("+7 999"), "'+7 999");
        assert_eq!(csv_safe("-1"), "'-1");
        assert_eq!(csv_safe("@SUM"), "'@SUM");
        assert_eq!(csv_safe("Оплата"), "Оплата");
        assert_eq!(csv_safe(""), "");
    }
}
