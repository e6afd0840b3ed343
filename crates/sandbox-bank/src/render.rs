//! The wire format of `../shared/openbanking-ru.md`, from the sandbox's own serde types (no code
//! shared with the connectors). Each bank has its dialect (`Quirks`): string or number
//! amounts, times with or without `Z` and fraction, its own status words, extra fields. Every
//! variation is a function of the row, so the same seed renders byte-identical pages.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::Datelike;
use serde::{Serialize, Serializer};

use crate::catalog::{kind, Group, Party, MERCHANTS, MERCHANT_BASE, PRODUCTS, TRANSFERS};
use crate::history::{Tx, CARD};
use crate::state::CustomRow;
use crate::world::{from_unix, Account, AccountKind, BankWorld, Lender, World};

/// A field that may be absent, `null`, or a value (banks do all three).
pub(crate) enum Tri<T> {
    Absent,
    Null,
    Value(T),
}

impl<T> Tri<T> {
    fn is_absent(&self) -> bool {
        matches!(self, Tri::Absent)
    }
}

impl<T: Serialize> Serialize for Tri<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Tri::Value(v) => v.serialize(s),
            _ => s.serialize_none(),
        }
    }
}

/// An amount as a decimal string, or (some banks) a JSON number.
pub(crate) struct Amount {
    minor: i64,
    as_number: bool,
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let amount = rust_decimal::Decimal::new(self.minor, 2);
        if self.as_number {
            // A JSON number, as some banks send amounts: the exact decimal written out (trailing
            // zeros dropped), never through a float.
            let raw = serde_json::value::RawValue::from_string(amount.normalize().to_string())
                .map_err(serde::ser::Error::custom)?;
            raw.serialize(s)
        } else {
            s.collect_str(&amount)
        }
    }
}

#[derive(Serialize)]
struct MoneyOut<'a> {
    amount: Amount,
    currency: &'a str,
}

#[derive(Serialize)]
struct CodeOut {
    code: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MerchantOut<'a> {
    merchant_id: Option<String>,
    name: Cow<'a, str>,
    mcc_code: Cow<'a, str>,
    category: Option<&'static str>,
    city: &'a str,
    country: &'a str,
    address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logo_url: Option<String>,
}

#[derive(Serialize)]
struct LocationOut<'a> {
    city: &'a str,
    country: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CardOut<'a> {
    card_id: &'a str,
    card_number: &'a str,
    card_type: &'a str,
    card_name: &'a str,
}

/// Fields no connector knows: they must be ignored.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Noise {
    risk_score: f32,
    tags: [&'static str; 2],
    nested: NoiseNested,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NoiseNested {
    source: &'static str,
    version: u32,
}

fn noise() -> Noise {
    Noise {
        risk_score: 0.125,
        tags: ["sandbox", "noise"],
        nested: NoiseNested {
            source: "sandbox-bank",
            version: 2,
        },
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TxOut<'a> {
    account_id: &'a str,
    transaction_id: String,
    amount: MoneyOut<'a>,
    credit_debit_indicator: &'static str,
    status: &'static str,
    booking_date_time: String,
    value_date_time: String,
    transaction_information: Cow<'a, str>,
    bank_transaction_code: CodeOut,
    #[serde(skip_serializing_if = "Tri::is_absent")]
    merchant: Tri<MerchantOut<'a>>,
    #[serde(skip_serializing_if = "Tri::is_absent")]
    transaction_location: Tri<LocationOut<'a>>,
    #[serde(skip_serializing_if = "Tri::is_absent")]
    card: Tri<CardOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counterparty: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statement_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bank_fee: Option<MoneyOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_noise: Option<Noise>,
}

/// Renders one bank's JSON.
pub(crate) struct Renderer<'a> {
    pub world: &'a World,
    pub bank: &'a BankWorld,
    pub noise: bool,
}

const MONTHS: [&str; 12] = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
];

impl<'a> Renderer<'a> {
    /// A time in the bank's style; `fraction` rows carry their microseconds.
    pub fn time(&self, secs: i64, micros: u32) -> String {
        let q = &self.bank.config.quirks;
        let t = from_unix(secs, 0);
        let base = t.format("%Y-%m-%dT%H:%M:%S");
        let zone = if q.naive_times { "" } else { "Z" };
        if q.fractional_times {
            format!("{base}.{micros:06}{zone}")
        } else {
            format!("{base}{zone}")
        }
    }

    fn tx_id(id: u64) -> String {
        format!("tx-{id:012x}")
    }

    pub fn transaction_id(id: u64) -> String {
        Self::tx_id(id)
    }

    fn holder(&self, account: &'a Account) -> &'a str {
        &self.world.persons[account.owner].name
    }

    fn lender(&self, account: &Account) -> Cow<'a, str> {
        match self.world.persons[account.owner]
            .plan
            .loan
            .as_ref()
            .map(|l| &l.lender)
        {
            Some(Lender::Bank(b)) => Cow::Borrowed(self.world.banks[*b].config.name.as_str()),
            Some(Lender::Other(name)) => Cow::Borrowed(name),
            None => Cow::Borrowed("Кредитор"),
        }
    }

    fn row(
        &self,
        account: &'a Account,
        t: &Tx,
        custom: Option<&'a HashMap<u64, CustomRow>>,
    ) -> TxOut<'a> {
        let q = &self.bank.config.quirks;
        let person = &self.world.persons[account.owner];
        let credit = t.credit();
        let status = match (t.pending(), q.standard_status_words) {
            (true, true) => "Pending",
            (false, true) => "Booked",
            (true, false) => "pending",
            (false, false) => "completed",
        };
        let as_number = q.numeric_amounts && t.id % 7 == 3;
        let money = |minor: i64, as_number: bool| MoneyOut {
            amount: Amount { minor, as_number },
            currency: account.currency,
        };
        let card = account.card.as_ref().filter(|_| t.flags & CARD != 0);
        let card_out = |c: &'a crate::world::Card| CardOut {
            card_id: &c.id,
            card_number: &c.masked,
            card_type: c.kind,
            card_name: c.name,
        };
        let mut out = TxOut {
            account_id: &account.id,
            transaction_id: Self::tx_id(t.id),
            amount: money(t.amount, as_number),
            credit_debit_indicator: if credit { "Credit" } else { "Debit" },
            status,
            booking_date_time: self.time(t.at, t.micros),
            value_date_time: self.time(t.at - i64::from(t.value_offset), t.micros),
            transaction_information: Cow::Borrowed(""),
            bank_transaction_code: CodeOut {
                code: "PointOfSale",
            },
            merchant: Tri::Absent,
            transaction_location: Tri::Absent,
            card: Tri::Absent,
            counterparty: None,
            statement_reference: None,
            bank_fee: None,
            sandbox_noise: self.noise.then(noise),
        };
        if self.bank.config.standard_extras() {
            out.statement_reference = Some(format!("ST{:010}", t.id % 10_000_000_000));
        }
        if q.numeric_amounts && t.flags & CARD != 0 {
            out.bank_fee = Some(money(0, false));
        }
        if t.template == kind::CUSTOM {
            let c = custom.and_then(|c| c.get(&t.id));
            out.transaction_information = Cow::Borrowed(c.map_or("", |c| c.description.as_str()));
            out.bank_transaction_code.code = if credit {
                "ReceivedCreditTransfer"
            } else {
                "IssuedDebitTransfer"
            };
            if let Some((name, mcc)) = c.and_then(|c| c.merchant.as_ref()) {
                out.bank_transaction_code.code = "PointOfSale";
                out.merchant = Tri::Value(MerchantOut {
                    merchant_id: None,
                    name: Cow::Borrowed(name.as_str()),
                    mcc_code: Cow::Borrowed(mcc.as_str()),
                    category: None,
                    city: person.city,
                    country: "RUS",
                    address: None,
                    logo_url: None,
                });
                out.card = card.map_or(Tri::Null, |c| Tri::Value(card_out(c)));
            }
            out.counterparty = c.and_then(|c| c.counterparty.as_deref()).map(Cow::Borrowed);
            return out;
        }
        if t.template >= MERCHANT_BASE {
            let index = usize::from(t.template - MERCHANT_BASE);
            let m = &MERCHANTS[index.min(MERCHANTS.len() - 1)];
            let (city, country) = m.place.unwrap_or((person.city, "RUS"));
            let name: Cow<'a, str> = if m.group == Group::Atm {
                Cow::Owned(format!("{} {}", m.name, self.bank.config.name))
            } else {
                Cow::Borrowed(m.name)
            };
            let refund = t.flags & crate::history::REFUND != 0;
            out.transaction_information = if refund {
                Cow::Owned(format!("Возврат: {name}"))
            } else {
                Cow::Owned(match m.group {
                    Group::Atm => "Снятие наличных".to_owned(),
                    Group::Utilities => format!("Оплата ЖКУ: {name}"),
                    Group::Telecom | Group::Internet => format!("Оплата услуг: {name}"),
                    Group::Subscription => format!("Подписка: {name}"),
                    Group::Taxes => format!("Налоги: {name}"),
                    Group::Abroad => format!("Оплата: {name}, {city}"),
                    _ => format!("Оплата: {name}"),
                })
            };
            out.bank_transaction_code.code = match (m.group, refund) {
                (Group::Atm, _) => "CashWithdrawal",
                (_, true) => "ReceivedCreditTransfer",
                _ => "PointOfSale",
            };
            out.counterparty = Some(name.clone());
            out.merchant = Tri::Value(MerchantOut {
                merchant_id: Some(format!("mer-{:03}", index + 1)),
                name,
                mcc_code: Cow::Borrowed(m.mcc),
                category: Some(m.category),
                city,
                country,
                address: None,
                logo_url: self
                    .noise
                    .then(|| format!("https://cdn.example/m/{}.png", index + 1)),
            });
            out.transaction_location = Tri::Value(LocationOut { city, country });
            out.card = card.map_or(Tri::Null, |c| Tri::Value(card_out(c)));
            return out;
        }
        let k = &TRANSFERS[usize::from(t.template).min(TRANSFERS.len() - 1)];
        out.bank_transaction_code.code = k.code;
        out.transaction_information = match t.template {
            kind::LOAN_PAYMENT => Cow::Owned(format!(
                "{} по договору № {}",
                k.description,
                person
                    .plan
                    .loan
                    .as_ref()
                    .map_or("—", |l| l.contract.as_str())
            )),
            kind::SALARY => {
                // Paid in the first half of a month for the month before.
                let month = from_unix(t.at, 0).month0() as usize;
                Cow::Owned(format!(
                    "{} за {}",
                    k.description,
                    MONTHS[(month + 11) % 12]
                ))
            }
            kind::OWN_OUT
            | kind::TO_SAVINGS
            | kind::FROM_SAVINGS
            | kind::FROM_SAVINGS_IN
            | kind::OWN_IN
            | kind::SAVINGS_TOP_UP
            | kind::CARD_REPAYMENT
            | kind::DEPOSIT_OPENED
            | kind::DEPOSIT_FUNDING => self.own_transfer_text(person, t, k.description),
            _ => Cow::Borrowed(k.description),
        };
        out.counterparty = Some(match k.party {
            Party::Employer => Cow::Borrowed(person.employer),
            Party::Person => Cow::Borrowed(
                self.bank.people[usize::from(t.party) % self.bank.people.len().max(1)].as_str(),
            ),
            Party::Customer => Cow::Borrowed(
                crate::names::CUSTOMERS[usize::from(t.party) % crate::names::CUSTOMERS.len()],
            ),
            Party::Lender => self.lender(account),
            Party::Bank => Cow::Borrowed(self.bank.config.name.as_str()),
            Party::Holder => Cow::Borrowed(self.holder(account)),
            Party::Fixed(name) => Cow::Borrowed(name),
        });
        // Transfers: some banks send `null` objects, others leave them out.
        if t.id.is_multiple_of(3) {
            out.merchant = Tri::Null;
            out.card = Tri::Null;
            out.transaction_location = Tri::Null;
        }
        out
    }

    /// The texts bank-in-a-box writes on transfers between a client's accounts (§12): the
    /// payer's row names the other account's number (and bank, between banks); the payee's
    /// row names only the paying bank when the money came from another bank.
    fn own_transfer_text(
        &self,
        person: &crate::world::Person,
        t: &Tx,
        description: &'static str,
    ) -> Cow<'a, str> {
        let Some((other_bank, other)) = crate::history::own_account(self.world, person, t.party)
        else {
            return Cow::Borrowed(description);
        };
        let here = other_bank.index == self.bank.index;
        let number = &other.number;
        Cow::Owned(match (t.template, t.credit(), here) {
            (kind::DEPOSIT_OPENED, ..) => format!("{description} {number}"),
            (kind::DEPOSIT_FUNDING, ..) => format!("{description} {number}"),
            (_, false, true) => format!("Перевод на счет {number}: {description}"),
            (_, false, false) => format!(
                "Межбанковский перевод в {} на счет {number}: {description}",
                other_bank.config.code
            ),
            (_, true, true) => format!("Перевод от счета {number}: {description}"),
            (_, true, false) => {
                format!(
                    "Входящий перевод из {}: {description}",
                    other_bank.config.code
                )
            }
        })
    }

    /// The client's cards (§11): `data.cards` next to `data.total`, newest first. With
    /// `full_numbers` (a misbehaving bank) `cardNumber` carries a whole card number.
    pub fn cards(
        &self,
        accounts: &[usize],
        balances: &[i64],
        only: Option<&str>,
        full_numbers: bool,
    ) -> Option<Vec<u8>> {
        let mut list: Vec<CardListOut<'_>> = Vec::new();
        for (&i, &balance) in accounts.iter().zip(balances) {
            let a = &self.bank.accounts[i];
            let Some(c) = a.card.as_ref() else { continue };
            if only.is_some_and(|id| id != c.id) {
                continue;
            }
            let last4 = c.masked.trim_start_matches('*');
            let number = if full_numbers {
                format!("2200{:08}{last4}", a.seq * 7_919 % 100_000_000)
            } else {
                format!("**** **** **** {last4}")
            };
            list.push(CardListOut {
                card_id: &c.id,
                card_number: number,
                card_number_full: None,
                card_type: c.kind,
                card_name: c.name,
                holder_name: self.holder(a).to_uppercase(),
                expiry_month: c.expiry.0,
                expiry_year: c.expiry.1,
                account_number: &a.number,
                account_balance: Amount {
                    minor: balance,
                    as_number: false,
                },
                status: c.status,
                daily_limit: Amount {
                    minor: c.daily_limit,
                    as_number: false,
                },
                monthly_limit: Amount {
                    minor: c.monthly_limit,
                    as_number: false,
                },
                issued_at: format!("{}T09:00:00.000000Z", a.opened.format("%Y-%m-%d")),
                sandbox_noise: self.noise.then(noise),
            });
        }
        list.reverse();
        if only.is_some() {
            let one = list.into_iter().next()?;
            return serde_json::to_vec(&serde_json::json!({"data": one, "meta": {}})).ok();
        }
        let total = list.len();
        serde_json::to_vec(
            &serde_json::json!({"data": {"cards": list, "total": total}, "meta": {}}),
        )
        .ok()
    }

    /// The client's agreements (§10): a bare list, snake_case, amounts as JSON numbers, times
    /// without a zone. `closed`: whether each account is closed. A detail (`only`) adds the
    /// rate and the account's balance.
    pub fn agreements(
        &self,
        accounts: &[(usize, bool, i64)],
        only: Option<&str>,
    ) -> Option<Vec<u8>> {
        let naive = |secs: i64| {
            from_unix(secs, 0)
                .format("%Y-%m-%dT%H:%M:%S%.6f")
                .to_string()
        };
        let detail = only.is_some();
        let mut list: Vec<AgreementOut<'_>> = Vec::new();
        for &(i, closed, balance) in accounts {
            let a = &self.bank.accounts[i];
            let Some(g) = a.agreement.as_ref() else {
                continue;
            };
            if only.is_some_and(|id| id != g.id) {
                continue;
            }
            list.push(AgreementOut {
                agreement_id: &g.id,
                product_id: &g.product_id,
                product_name: g.product_name,
                product_type: g.kind,
                amount: Amount {
                    minor: g.amount,
                    as_number: true,
                },
                status: if closed { "closed" } else { "active" },
                start_date: naive(g.start),
                end_date: g.end.map(naive),
                account_number: &a.number,
                interest_rate: match (detail, g.rate) {
                    (false, _) => Tri::Absent,
                    (true, Some(r)) => Tri::Value(Amount {
                        minor: r,
                        as_number: true,
                    }),
                    (true, None) => Tri::Null,
                },
                account_balance: if detail {
                    Tri::Value(Amount {
                        minor: balance,
                        as_number: true,
                    })
                } else {
                    Tri::Absent
                },
                sandbox_noise: self.noise.then(noise),
            });
        }
        // Newest first.
        list.sort_by(|x, y| y.start_date.cmp(&x.start_date));
        if detail {
            let one = list.into_iter().next()?;
            return serde_json::to_vec(&AgreementEnvelope { data: one }).ok();
        }
        let total = list.len();
        serde_json::to_vec(&AgreementsEnvelope {
            data: list,
            meta: TotalMeta { total },
        })
        .ok()
    }

    /// A page of transactions as the bank sends it.
    #[allow(clippy::too_many_arguments)]
    pub fn transactions_page(
        &self,
        account: &'a Account,
        rows: &[Tx],
        custom: Option<&'a HashMap<u64, CustomRow>>,
        page: u64,
        limit: u64,
        total: u64,
    ) -> Vec<u8> {
        let pages = total.div_ceil(limit).max(1);
        let path = format!("/accounts/{}/transactions", account.id);
        let data: Vec<TxOut<'_>> = rows.iter().map(|t| self.row(account, t, custom)).collect();
        let body = Envelope {
            data: TransactionList { transaction: data },
            links: Links {
                self_: format!("{path}?page={page}&limit={limit}"),
                next: (page < pages).then(|| format!("{path}?page={}&limit={limit}", page + 1)),
                prev: (page > 1 && page <= pages + 1)
                    .then(|| format!("{path}?page={}&limit={limit}", page - 1)),
            },
            meta: PageMeta {
                total_pages: pages,
                total_records: total,
                current_page: page,
                page_size: limit,
            },
            sandbox_noise: self.noise.then(noise),
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }

    pub fn accounts(&self, accounts: &[usize]) -> Vec<u8> {
        let q = &self.bank.config.quirks;
        let list: Vec<AccountOut<'_>> = accounts
            .iter()
            .map(|&i| {
                let a = &self.bank.accounts[i];
                AccountOut {
                    account_id: &a.id,
                    status: "Enabled",
                    currency: a.currency,
                    account_type: "Personal",
                    account_sub_type: a.subtype,
                    nickname: &a.nickname,
                    opening_date: a.opened.format("%Y-%m-%d").to_string(),
                    account: [AccountDetail {
                        scheme_name: "RU.CBR.PAN",
                        identification: &a.number,
                        name: self.holder(a),
                    }],
                    product_kind: q.numeric_amounts.then_some(match a.kind {
                        AccountKind::Checking => "current",
                        AccountKind::Savings => "savings",
                        AccountKind::CreditCard => "credit_card",
                        AccountKind::Currency => "currency",
                        AccountKind::Loan => "loan",
                        AccountKind::Deposit => "deposit",
                    }),
                    sandbox_noise: self.noise.then(noise),
                }
            })
            .collect();
        serde_json::to_vec(&AccountsEnvelope {
            data: AccountList { account: list },
            links: SelfLink { self_: "/accounts" },
            meta: SimpleMeta { total_pages: 1 },
        })
        .unwrap_or_default()
    }

    /// Available includes pending rows; booked does not.
    pub fn balances(&self, account: &Account, available: i64, pending: i64, at: i64) -> Vec<u8> {
        let booked = available - pending;
        let entry = |kind: &'static str, minor: i64| BalanceOut {
            account_id: &account.id,
            kind,
            date_time: self.time(at, 0),
            amount: MoneyOut {
                amount: Amount {
                    minor: minor.abs(),
                    as_number: false,
                },
                currency: account.currency,
            },
            credit_debit_indicator: if minor < 0 { "Debit" } else { "Credit" },
            credit_line: (account.kind == AccountKind::CreditCard).then(|| {
                vec![CreditLine {
                    included: true,
                    kind: "Available",
                    amount: MoneyOut {
                        amount: Amount {
                            minor: (30_000_000 + minor).max(0),
                            as_number: false,
                        },
                        currency: account.currency,
                    },
                }]
            }),
        };
        serde_json::to_vec(&BalancesEnvelope {
            data: BalanceList {
                balance: vec![
                    entry("InterimAvailable", available),
                    entry("InterimBooked", booked),
                ],
            },
            sandbox_noise: self.noise.then(noise),
        })
        .unwrap_or_default()
    }

    /// The catalogue, or one product (`detail`: absent numbers are the string `"None"`).
    pub fn products(&self, filter: Option<&str>, only: Option<&str>) -> Option<Vec<u8>> {
        let detail = only.is_some();
        let none = |v: Option<String>| match (v, detail) {
            (Some(v), _) => Tri::Value(v),
            (None, true) => Tri::Value("None".to_owned()),
            (None, false) => Tri::Null,
        };
        let list: Vec<ProductOut<'_>> = self
            .bank
            .products
            .iter()
            .filter(|p| only.is_none_or(|id| p.id == id))
            .filter(|p| filter.is_none_or(|f| PRODUCTS[p.template].kind == f))
            .map(|p| {
                let t = &PRODUCTS[p.template];
                ProductOut {
                    product_id: &p.id,
                    product_type: t.kind,
                    product_name: t.name,
                    description: t.description,
                    interest_rate: none(p.rate.map(|r| {
                        let text = format!("{}.{:02}", r / 100, r % 100);
                        text.trim_end_matches('0').trim_end_matches('.').to_owned()
                    })),
                    min_amount: none(t.min_amount.map(|v| v.to_string())),
                    max_amount: none(t.max_amount.map(|v| v.to_string())),
                    term_months: match (t.term_months, detail) {
                        (Some(m), _) => Tri::Value(TermOut::Number(m)),
                        (None, true) => Tri::Value(TermOut::Text("None")),
                        (None, false) => Tri::Null,
                    },
                }
            })
            .collect();
        if detail {
            let one = list.into_iter().next()?;
            return serde_json::to_vec(&ProductEnvelope { data: one }).ok();
        }
        serde_json::to_vec(&ProductsEnvelope {
            data: ProductList { product: list },
        })
        .ok()
    }
}

impl crate::config::BankConfig {
    /// Banks that speak the standard's words also send its statement references.
    fn standard_extras(&self) -> bool {
        self.quirks.standard_status_words
    }
}

#[derive(Serialize)]
struct AgreementOut<'a> {
    agreement_id: &'a str,
    product_id: &'a str,
    product_name: &'a str,
    product_type: &'a str,
    amount: Amount,
    status: &'static str,
    start_date: String,
    end_date: Option<String>,
    account_number: &'a str,
    #[serde(skip_serializing_if = "Tri::is_absent")]
    interest_rate: Tri<Amount>,
    #[serde(skip_serializing_if = "Tri::is_absent")]
    account_balance: Tri<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_noise: Option<Noise>,
}

#[derive(Serialize)]
struct AgreementsEnvelope<'a> {
    data: Vec<AgreementOut<'a>>,
    meta: TotalMeta,
}

#[derive(Serialize)]
struct AgreementEnvelope<'a> {
    data: AgreementOut<'a>,
}

#[derive(Serialize)]
struct TotalMeta {
    total: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CardListOut<'a> {
    card_id: &'a str,
    card_number: String,
    card_number_full: Option<&'a str>,
    card_type: &'a str,
    card_name: &'a str,
    holder_name: String,
    expiry_month: u32,
    expiry_year: i32,
    account_number: &'a str,
    account_balance: Amount,
    status: &'a str,
    daily_limit: Amount,
    monthly_limit: Amount,
    issued_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_noise: Option<Noise>,
}

#[derive(Serialize)]
struct Envelope<T> {
    data: T,
    links: Links,
    meta: PageMeta,
    #[serde(rename = "sandboxNoise", skip_serializing_if = "Option::is_none")]
    sandbox_noise: Option<Noise>,
}

#[derive(Serialize)]
struct TransactionList<'a> {
    transaction: Vec<TxOut<'a>>,
}

#[derive(Serialize)]
struct Links {
    #[serde(rename = "self")]
    self_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageMeta {
    total_pages: u64,
    total_records: u64,
    current_page: u64,
    page_size: u64,
}

#[derive(Serialize)]
struct AccountsEnvelope<'a> {
    data: AccountList<'a>,
    links: SelfLink,
    meta: SimpleMeta,
}

#[derive(Serialize)]
struct SelfLink {
    #[serde(rename = "self")]
    self_: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SimpleMeta {
    total_pages: u64,
}

#[derive(Serialize)]
struct AccountList<'a> {
    account: Vec<AccountOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountOut<'a> {
    account_id: &'a str,
    status: &'static str,
    currency: &'a str,
    account_type: &'static str,
    account_sub_type: &'static str,
    nickname: &'a str,
    opening_date: String,
    account: [AccountDetail<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    product_kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_noise: Option<Noise>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountDetail<'a> {
    scheme_name: &'static str,
    identification: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BalancesEnvelope<'a> {
    data: BalanceList<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox_noise: Option<Noise>,
}

#[derive(Serialize)]
struct BalanceList<'a> {
    balance: Vec<BalanceOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BalanceOut<'a> {
    account_id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    date_time: String,
    amount: MoneyOut<'a>,
    credit_debit_indicator: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    credit_line: Option<Vec<CreditLine<'a>>>,
}

#[derive(Serialize)]
struct CreditLine<'a> {
    included: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    amount: MoneyOut<'a>,
}

#[derive(Serialize)]
struct ProductsEnvelope<'a> {
    data: ProductList<'a>,
}

#[derive(Serialize)]
struct ProductEnvelope<'a> {
    data: ProductOut<'a>,
}

#[derive(Serialize)]
struct ProductList<'a> {
    product: Vec<ProductOut<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum TermOut {
    Number(u32),
    Text(&'static str),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProductOut<'a> {
    product_id: &'a str,
    product_type: &'static str,
    product_name: &'static str,
    description: &'static str,
    interest_rate: Tri<String>,
    min_amount: Tri<String>,
    max_amount: Tri<String>,
    term_months: Tri<TermOut>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_render_exactly() {
        let text =
            |minor, as_number| serde_json::to_string(&Amount { minor, as_number }).expect("json");
        assert_eq!(text(124_900, false), "\"1249.00\"");
        assert_eq!(text(5, false), "\"0.05\"");
        assert_eq!(text(124_950, true), "1249.5");
        assert_eq!(text(12_345_678_901, true), "123456789.01");
        // Beyond what a float holds exactly, and negative amounts.
        assert_eq!(text(9_007_199_254_740_993, true), "90071992547409.93");
        assert_eq!(text(-150, true), "-1.5");
        assert_eq!(text(-150, false), "\"-1.50\"");
    }
}
