//! The multi-bank picture from the home bank's side: products held at other banks
//! (`Client.heldAway`), the home bank's share of wallet (`Client.shareOfWallet`, `bookWallet`)
//! and consolidation offers (`Client.consolidationOffers`).

use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use crm_core::domain::{
    Confidence as CoreConfidence, HeldAwayKind as CoreKind, HeldAwaySource as CoreSource,
    Lang as CoreLang,
};
use crm_core::wallet as w;
use rust_decimal::Decimal;

use super::analytics::{Figure, Product};
use super::objects::{bank_of, Bank, MoneyObject};

/// What a product held at another bank is.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "CoreKind")]
pub enum HeldAwayKind {
    Deposit,
    Savings,
    Loan,
    CreditLine,
    CreditCard,
}

/// Where the knowledge of a held-away product comes from.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "CoreSource")]
pub enum HeldAwaySource {
    /// The bank lists it (an agreement, or a savings, deposit, loan or credit-card account).
    Listed,
    /// Only the client's payments show it (monthly repayments to a lender, transfers naming it).
    Flows,
    /// Listed, and the payments into it are seen too.
    Both,
}

/// How sure an inference is: `HIGH` when a bank lists the product, `MEDIUM` for three or
/// more months of steady payments only, `LOW` for fewer or unsteady ones.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "CoreConfidence")]
pub enum Confidence {
    High,
    Medium,
    Low,
}

/// What an amount of a held-away product is.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "w::AmountBasis")]
pub enum AmountBasis {
    /// The balance of its account today.
    Balance,
    /// The agreement's principal at opening (its account is not stored).
    Principal,
}

/// A product the client holds outside the home bank (`HOME_BANK`), with its evidence.
pub struct HeldAwayProduct(pub w::HeldAwayProduct);

#[Object]
impl HeldAwayProduct {
    /// Stable within the client: `account:<id>`, `agreement:<id>` or `lender:<kind>:<name>`.
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn kind(&self) -> HeldAwayKind {
        self.0.kind.into()
    }
    /// The bank when the deployment knows it; `null` for a lender only the payments name.
    async fn bank(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Bank>> {
        self.0
            .bank_code
            .as_deref()
            .map(|c| bank_of(ctx, c))
            .transpose()
    }
    /// The bank's name, or the lender's as the payments give it.
    async fn bank_name(&self) -> &str {
        &self.0.bank_name
    }
    async fn product_name(&self) -> Option<&str> {
        self.0.product_name.as_deref()
    }
    /// What the client holds or owes, positive; `null` when no bank lists the product (payments
    /// alone never give a balance).
    async fn amount(&self) -> Option<MoneyObject> {
        self.0.amount.as_ref().map(MoneyObject::from)
    }
    async fn amount_basis(&self) -> Option<AmountBasis> {
        self.0.amount_basis.map(Into::into)
    }
    /// The median of the monthly sums paid into it (a loan's or card's payment, a deposit's
    /// regular top-ups); `null` unless payments recur in two months or more.
    async fn monthly_payment(&self) -> Option<MoneyObject> {
        self.0.monthly_flow.as_ref().map(MoneyObject::from)
    }
    /// Everything paid into it over the last six months (`evidenceTransactionIds`).
    async fn paid_in(&self) -> Option<MoneyObject> {
        self.0.paid_in.as_ref().map(MoneyObject::from)
    }
    /// Calendar months with payments into it, of the last six.
    async fn months_seen(&self) -> u32 {
        self.0.months_seen
    }
    /// Percent per year, when the bank says.
    async fn interest_rate(&self) -> Option<Decimal> {
        self.0.interest_rate
    }
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.ends_at
    }
    async fn source(&self) -> HeldAwaySource {
        self.0.source.into()
    }
    async fn confidence(&self) -> Confidence {
        self.0.confidence.into()
    }
    /// The payments seen, newest first (at most 24): ids of `Client.transactions`.
    async fn evidence_transaction_ids(&self) -> Vec<ID> {
        ids(&self.0.transaction_ids)
    }
    /// The accounts involved: the product's own and those it is paid from.
    async fn evidence_account_ids(&self) -> Vec<ID> {
        ids(&self.0.account_ids)
    }
    /// The agreements the bank lists for it (`Client.agreements`).
    async fn evidence_agreement_ids(&self) -> Vec<ID> {
        ids(&self.0.agreement_ids)
    }
}

fn ids(v: &[i64]) -> Vec<ID> {
    v.iter().map(|i| ID(i.to_string())).collect()
}

/// One bank's part of a share-of-wallet figure.
#[derive(SimpleObject, Clone, Debug)]
pub struct BankAmount {
    pub bank_code: String,
    pub bank_name: String,
    pub amount: MoneyObject,
}

/// One dimension of the share of wallet.
#[derive(SimpleObject, Clone, Debug)]
pub struct WalletShare {
    /// At the home bank.
    pub home: MoneyObject,
    /// At every bank.
    pub total: MoneyObject,
    /// `home / total` in percent, to one decimal; `null` when the total is zero.
    pub percent: Option<Decimal>,
    /// Every bank with a non-zero amount, the largest first; they add up to `total`.
    pub by_bank: Vec<BankAmount>,
}

impl From<&w::WalletShare> for WalletShare {
    fn from(s: &w::WalletShare) -> Self {
        WalletShare {
            home: MoneyObject::from(&s.home),
            total: MoneyObject::from(&s.total),
            percent: s.percent,
            by_bank: s
                .by_bank
                .iter()
                .map(|b| BankAmount {
                    bank_code: b.bank_code.clone(),
                    bank_name: b.bank_name.clone(),
                    amount: MoneyObject::from(&b.amount),
                })
                .collect(),
        }
    }
}

/// The home bank's share of a client's (or a book's) money in the base currency: balances
/// today (open accounts that are not debts), income (credits but own transfers and refunds) and
/// spending (debits but own transfers) over the whole months `[from, to)`.
#[derive(SimpleObject, Clone, Debug)]
pub struct ShareOfWallet {
    pub home_bank_code: String,
    pub home_bank_name: String,
    /// ISO 4217 code of every figure (other currencies are not converted).
    pub currency: String,
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    pub balances: WalletShare,
    pub income: WalletShare,
    pub spending: WalletShare,
    /// Salary credits (part of income): where the salary arrives.
    pub salary: WalletShare,
}

impl From<&w::ShareOfWallet> for ShareOfWallet {
    fn from(s: &w::ShareOfWallet) -> Self {
        ShareOfWallet {
            home_bank_code: s.home_bank.clone(),
            home_bank_name: s.home_bank_name.clone(),
            currency: s.currency.to_string(),
            from: s.from,
            to: s.to,
            balances: (&s.balances).into(),
            income: (&s.income).into(),
            spending: (&s.spending).into(),
            salary: (&s.salary).into(),
        }
    }
}

/// Held-away products of one kind across a book.
#[derive(SimpleObject, Clone, Debug)]
pub struct HeldAwayTotal {
    pub kind: HeldAwayKind,
    pub count: u64,
    /// Clients holding at least one.
    pub clients: u64,
    /// The sum of the amounts known, in the base currency.
    pub amount: MoneyObject,
    /// How many of `count` gave an amount.
    pub with_amount: u64,
    /// The sum of the monthly payments seen, in the base currency.
    pub monthly_payments: MoneyObject,
}

/// A book's share of wallet and the products its clients hold elsewhere.
#[derive(SimpleObject, Clone, Debug)]
pub struct BookWallet {
    pub clients: u64,
    /// `null` without a home bank.
    pub share: Option<ShareOfWallet>,
    pub clients_with_held_away: u64,
    pub held_away: Vec<HeldAwayTotal>,
}

impl From<w::BookWallet> for BookWallet {
    fn from(b: w::BookWallet) -> Self {
        BookWallet {
            clients: b.clients,
            share: b.share.as_ref().map(Into::into),
            clients_with_held_away: b.clients_with_held_away,
            held_away: b
                .held_away
                .iter()
                .map(|t| HeldAwayTotal {
                    kind: t.kind.into(),
                    count: t.count,
                    clients: t.clients,
                    amount: MoneyObject::from(&t.amount),
                    with_amount: t.with_amount,
                    monthly_payments: MoneyObject::from(&t.monthly_flow),
                })
                .collect(),
        }
    }
}

/// What a consolidation offer proposes.
#[derive(Enum, Copy, Clone, Debug, Eq, PartialEq)]
#[graphql(remote = "w::ConsolidationKind")]
pub enum ConsolidationKind {
    /// Refinance a loan held elsewhere with the home bank's loan.
    RefinanceLoan,
    /// Move a deposit or savings held elsewhere to the home bank's deposit.
    MoveDeposit,
    /// Move the salary credited at another bank.
    MoveSalary,
}

/// A proposal to bring money held elsewhere to the home bank, with its figures and the rows,
/// accounts and agreements they come from.
#[derive(SimpleObject)]
pub struct ConsolidationOffer {
    pub kind: ConsolidationKind,
    /// The `HeldAwayProduct.key` it is about; `null` for the salary.
    pub held_away_key: Option<String>,
    pub from_bank_name: String,
    /// The home bank's product, when its catalogue has one.
    pub product: Option<Product>,
    pub money_at_stake: MoneyObject,
    /// The client's gain (or saving) per year, stated only when both rates are known (or, for a
    /// deposit whose rate elsewhere is unknown, our rate's interest).
    pub yearly_benefit: Option<MoneyObject>,
    pub reason: String,
    pub figures: Vec<Figure>,
    pub evidence_transaction_ids: Vec<ID>,
    pub evidence_account_ids: Vec<ID>,
    pub evidence_agreement_ids: Vec<ID>,
}

impl ConsolidationOffer {
    pub fn new(o: w::ConsolidationOffer, lang: CoreLang) -> Self {
        ConsolidationOffer {
            kind: o.kind.into(),
            held_away_key: o.held_away_key,
            from_bank_name: o.from_bank,
            product: o.product.map(Product),
            money_at_stake: MoneyObject::from(&o.money_at_stake),
            yearly_benefit: o.yearly_benefit.as_ref().map(MoneyObject::from),
            reason: o.reason.get(lang).to_owned(),
            figures: o.figures.iter().map(|f| Figure::new(f, lang)).collect(),
            evidence_transaction_ids: ids(&o.transaction_ids),
            evidence_account_ids: ids(&o.account_ids),
            evidence_agreement_ids: ids(&o.agreement_ids),
        }
    }
}
