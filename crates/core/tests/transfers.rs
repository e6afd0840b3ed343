//! Transfers between a client's own accounts: the two legs are paired as `OWN_TRANSFER` and
//! count as neither income nor spending — at one bank or across two, with legs arriving in
//! different syncs, with two candidates of one amount, and with a person's category winning
//! both ways. After every step the counters and aggregates equal a recomputation from the rows.
//! Runs on SQLite, and on PostgreSQL with `TEST_DATABASE_URL`.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]
// Amounts are written as rubles_kopecks (10_000_00) on purpose.
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use crm_connector::*;
use crm_core::auth::Actor;
use crm_core::banks::BankRegistry;
use crm_core::clients::NewClient;
use crm_core::domain::{Category, CategorySource, Currency, Role};
use crm_core::entity::{client_totals, transactions};
use crm_core::sync::{SyncScope, SyncTrigger};
use crm_core::testing::TestDatabase;
use crm_core::{Core, CoreSettings};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

/// A bank that authorises at once and lists what the test puts in it.
struct Bank {
    identity: BankIdentity,
    accounts: Mutex<Vec<AccountData>>,
    rows: Mutex<Vec<TransactionData>>,
    /// An account whose balance read fails (the bank is down half-way through a link).
    failing: Mutex<Option<String>>,
}

impl Bank {
    fn new(code: &str, accounts: Vec<AccountData>) -> Arc<Self> {
        Arc::new(Bank {
            identity: BankIdentity {
                code: code.into(),
                name: code.to_uppercase(),
            },
            accounts: Mutex::new(accounts),
            rows: Mutex::new(Vec::new()),
            failing: Mutex::new(None),
        })
    }

    fn add(&self, row: TransactionData) {
        self.rows.lock().unwrap().push(row);
    }

    fn set_amount(&self, id: &str, minor: i64) {
        for r in self.rows.lock().unwrap().iter_mut() {
            if r.id == id {
                r.amount = Decimal::new(minor, 2);
            }
        }
    }
}

#[async_trait]
impl BankConnector for Bank {
    fn identity(&self) -> &BankIdentity {
        &self.identity
    }
    async fn request_consent(&self, _client_id: &str) -> ConnectorResult<Consent> {
        Ok(Consent {
            status: ConsentStatus::Authorized,
            consent_id: Some("consent-1".into()),
            request_id: None,
            expires_at: Some(Utc::now() + Duration::days(365)),
            message: None,
        })
    }
    async fn consent_status(&self, _client: &str, consent: &Consent) -> ConnectorResult<Consent> {
        Ok(consent.clone())
    }
    async fn revoke_consent(&self, _id: &str) -> ConnectorResult<()> {
        Ok(())
    }
    async fn accounts(&self, _access: &Access<'_>) -> ConnectorResult<Vec<AccountData>> {
        Ok(self.accounts.lock().unwrap().clone())
    }
    async fn balances(&self, _a: &Access<'_>, account: &str) -> ConnectorResult<Vec<BalanceData>> {
        if self.failing.lock().unwrap().as_deref() == Some(account) {
            return Err(ConnectorError::Unavailable {
                bank: self.identity.code.clone(),
                status: 503,
            });
        }
        Ok(vec![BalanceData {
            kind: BalanceKind::InterimAvailable,
            amount: Decimal::new(100_000_00, 2),
            currency: "RUB".into(),
            at: None,
        }])
    }
    async fn transactions(
        &self,
        _a: &Access<'_>,
        account: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ConnectorResult<TransactionBatch> {
        let transactions: Vec<TransactionData> = self
            .rows
            .lock()
            .unwrap()
            .iter()
            .filter(|t| t.account_id == account && t.booked_at >= from && t.booked_at <= to)
            .cloned()
            .collect();
        Ok(TransactionBatch {
            reported_total: Some(transactions.len() as u64),
            transactions,
            shortfall: 0,
            rejected: vec![],
        })
    }
    async fn products(&self) -> ConnectorResult<Vec<ProductData>> {
        Ok(vec![])
    }
}

fn account(id: &str, number: &str) -> AccountData {
    AccountData {
        id: id.into(),
        status: AccountStatus::Enabled,
        currency: "RUB".into(),
        account_type: "Personal".into(),
        account_subtype: None,
        kind: AccountKind::Current,
        nickname: None,
        number: Some(number.into()),
        holder_name: Some("Иванов Иван Иванович".into()),
        opened_on: None,
    }
}

const A1: &str = "40817810000000000001";
const A2: &str = "40817810000000000002";
const B1: &str = "40817810000000000011";

fn row(
    id: &str,
    account: &str,
    minor: i64,
    credit: bool,
    at: DateTime<Utc>,
    text: &str,
) -> TransactionData {
    TransactionData {
        id: id.into(),
        account_id: account.into(),
        amount: Decimal::new(minor, 2),
        currency: "RUB".into(),
        direction: if credit {
            Direction::Credit
        } else {
            Direction::Debit
        },
        status: BookingStatus::Booked,
        raw_status: None,
        booked_at: at,
        value_at: None,
        description: text.into(),
        bank_transaction_code: None,
        merchant: None,
        card_masked: None,
        card_id: None,
        counterparty: None,
        counterparty_account: None,
        counterparty_bank: None,
    }
}

fn admin() -> Actor {
    Actor {
        user_id: 1,
        username: "admin".into(),
        role: Role::Admin,
        session_id: 0,
        password_change_required: false,
    }
}

struct World {
    core: Arc<Core>,
    abank: Arc<Bank>,
    vbank: Arc<Bank>,
    client: i64,
    _db: TestDatabase,
}

/// A client with two accounts at ABank and one at VBank, linked to both.
async fn world() -> World {
    let pg = std::env::var("TEST_DATABASE_URL").ok();
    let db = TestDatabase::create(pg.as_deref()).await.unwrap();
    let abank = Bank::new("abank", vec![account("a-1", A1), account("a-2", A2)]);
    let vbank = Bank::new("vbank", vec![account("b-1", B1)]);
    let registry = BankRegistry::new(vec![
        abank.clone() as Arc<dyn BankConnector>,
        vbank.clone() as Arc<dyn BankConnector>,
    ]);
    let core = Arc::new(Core::new(db.db.clone(), CoreSettings::default(), registry).unwrap());
    let client = core
        .create_client(
            &admin(),
            NewClient {
                display_name: "Иванов".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    for bank in ["abank", "vbank"] {
        core.sync()
            .link_bank(&admin(), client, bank, "team200-1")
            .await
            .unwrap();
    }
    World {
        core,
        abank,
        vbank,
        client,
        _db: db,
    }
}

impl World {
    async fn sync(&self) {
        let run = self
            .core
            .sync()
            .run(&SyncScope::default(), SyncTrigger::Manual)
            .await
            .unwrap();
        assert!(run.errors.is_empty(), "{:?}", run.errors);
        check_consistent(&self.core).await;
    }

    /// (external id, category, source, peer's external id) of every row.
    async fn rows(&self) -> BTreeMap<String, (String, String, Option<String>)> {
        let rows = transactions::Entity::find()
            .filter(transactions::Column::ClientId.eq(self.client))
            .order_by_asc(transactions::Column::Id)
            .all(self.core.db().conn())
            .await
            .unwrap();
        let by_id: BTreeMap<i64, String> =
            rows.iter().map(|r| (r.id, r.external_id.clone())).collect();
        rows.iter()
            .map(|r| {
                (
                    r.external_id.clone(),
                    (
                        r.category.clone(),
                        r.category_source.clone(),
                        r.transfer_peer_id.and_then(|p| by_id.get(&p).cloned()),
                    ),
                )
            })
            .collect()
    }

    async fn row_id(&self, external: &str) -> i64 {
        transactions::Entity::find()
            .filter(transactions::Column::ExternalId.eq(external))
            .one(self.core.db().conn())
            .await
            .unwrap()
            .unwrap()
            .id
    }

    /// Spending and income of the last 30 days, in kopecks.
    async fn flows(&self) -> (i64, i64) {
        let rub = Currency::rub();
        let now = Utc::now();
        let spent: i64 = self
            .core
            .spending_by_category(self.client, now - Duration::days(30), now, &rub)
            .await
            .unwrap()
            .iter()
            .map(|c| c.amount.minor)
            .sum();
        let months = self.core.cashflow(self.client, 2, &rub, now).await.unwrap();
        let income: i64 = months.iter().map(|m| m.income.minor).sum();
        let expense: i64 = months.iter().map(|m| m.expense.minor).sum();
        assert_eq!(expense, spent, "cashflow and spending disagree");
        (spent, income)
    }

    async fn moved(&self) -> (i64, i64) {
        let months = self
            .core
            .cashflow(self.client, 2, &Currency::rub(), Utc::now())
            .await
            .unwrap();
        (
            months.iter().map(|m| m.moved_out.minor).sum(),
            months.iter().map(|m| m.moved_in.minor).sum(),
        )
    }
}

/// The counters and aggregates equal a recomputation from the rows: own transfers move no
/// income or expense, and the aggregates rebuilt from scratch equal the incremental ones.
async fn check_consistent(core: &Core) {
    let conn = core.db().conn();
    let mut want: BTreeMap<(i64, String), (i64, i64, i64)> = BTreeMap::new();
    for t in transactions::Entity::find()
        .filter(transactions::Column::ReplacedById.is_null())
        .all(conn)
        .await
        .unwrap()
    {
        let e = want.entry((t.client_id, t.currency.clone())).or_default();
        e.0 += 1;
        if t.status == "BOOKED" && t.category != "OWN_TRANSFER" {
            match t.direction.as_str() {
                "CREDIT" => e.1 += t.amount_minor,
                _ => e.2 += t.amount_minor,
            }
        }
    }
    let got: BTreeMap<(i64, String), (i64, i64, i64)> = client_totals::Entity::find()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| (r.tx_count, r.income_minor, r.expense_minor) != (0, 0, 0))
        .map(|r| {
            (
                (r.client_id, r.currency),
                (r.tx_count, r.income_minor, r.expense_minor),
            )
        })
        .collect();
    assert_eq!(got, want, "client_totals drifted");
    let before = crm_core::testing::aggregate_snapshot(conn).await.unwrap();
    crm_core::testing::rebuild_aggregates(conn, None)
        .await
        .unwrap();
    let after = crm_core::testing::aggregate_snapshot(conn).await.unwrap();
    assert_eq!(before, after, "aggregates drifted");
}

fn own(peer: &str) -> (String, String, Option<String>) {
    (
        "OWN_TRANSFER".into(),
        "TRANSFER_MATCH".into(),
        Some(peer.into()),
    )
}

#[tokio::test]
async fn a_transfer_across_banks_is_neither_spending_nor_income() {
    let w = world().await;
    let at = Utc::now() - Duration::days(5);
    let mut out = row(
        "out-1",
        "a-1",
        10_000_00,
        false,
        at,
        "Перевод на счет в VBank",
    );
    // Named as a counterparty, the own transfer must still be no merchant.
    out.counterparty = Some("Счёт в VBank".into());
    w.abank.add(out);
    w.vbank.add(row(
        "in-1",
        "b-1",
        10_000_00,
        true,
        at + Duration::days(1),
        "Перевод из ABank",
    ));
    w.sync().await;
    let rows = w.rows().await;
    assert_eq!(rows["out-1"], own("in-1"));
    assert_eq!(rows["in-1"], own("out-1"));
    assert_eq!(
        w.flows().await,
        (0, 0),
        "a client who only moves money spends and earns nothing"
    );
    assert_eq!(w.moved().await, (10_000_00, 10_000_00));
    let stats = w.core.stats(&crm_core::testing::admin()).await.unwrap();
    assert_eq!((stats.income.minor, stats.expense.minor), (0, 0));
    assert!(w
        .core
        .top_merchants(
            w.client,
            at - Duration::days(1),
            Utc::now(),
            &Currency::rub(),
            10
        )
        .await
        .unwrap()
        .is_empty());
    // A second sync changes nothing.
    w.sync().await;
    assert_eq!(w.rows().await, rows);
}

#[tokio::test]
async fn a_transfer_within_one_bank_pairs_and_a_payment_to_others_stays_spending() {
    let w = world().await;
    let at = Utc::now() - Duration::days(3);
    w.abank.add(row(
        "out-1",
        "a-1",
        2_500_00,
        false,
        at,
        "Перевод между своими счетами",
    ));
    w.abank.add(row(
        "in-1",
        "a-2",
        2_500_00,
        true,
        at,
        "Перевод между своими счетами",
    ));
    // The same amount to someone else, on another day: a transfer out, not the client's own.
    w.abank.add(row(
        "out-2",
        "a-1",
        2_500_00,
        false,
        at - Duration::days(10),
        "Перевод Петрову П.",
    ));
    w.sync().await;
    let rows = w.rows().await;
    assert_eq!(rows["out-1"], own("in-1"));
    assert_eq!(rows["in-1"], own("out-1"));
    assert_eq!(rows["out-2"].0, "TRANSFERS_OUT");
    assert_eq!(rows["out-2"].2, None);
    assert_eq!(w.flows().await, (2_500_00, 0));
}

#[tokio::test]
async fn a_leg_arriving_in_a_later_sync_is_paired_then() {
    let w = world().await;
    let at = Utc::now() - Duration::days(2);
    w.abank.add(row(
        "out-1",
        "a-1",
        7_000_00,
        false,
        at,
        "Перевод на счет в VBank",
    ));
    w.sync().await;
    // Alone, it is money sent away.
    assert_eq!(w.rows().await["out-1"].0, "TRANSFERS_OUT");
    assert_eq!(w.flows().await, (7_000_00, 0));
    // The credit arrives two days later at the other bank.
    w.vbank.add(row(
        "in-1",
        "b-1",
        7_000_00,
        true,
        at + Duration::days(2),
        "Входящий перевод",
    ));
    w.sync().await;
    let rows = w.rows().await;
    assert_eq!(rows["out-1"], own("in-1"));
    assert_eq!(rows["in-1"], own("out-1"));
    assert_eq!(w.flows().await, (0, 0));
}

#[tokio::test]
async fn a_leg_stored_by_a_link_that_then_fails_is_paired_in_that_run() {
    let w = world().await;
    let at = Utc::now() - Duration::days(2);
    w.vbank
        .add(row("in-1", "b-1", 4_000_00, true, at, "Входящий перевод"));
    w.sync().await;
    assert_eq!(w.rows().await["in-1"].0, "TRANSFERS_IN");
    // The debit is stored with its account; the bank then fails on the next account, so
    // the link fails and the run knows nothing of what it committed before.
    w.abank.add(row(
        "out-1",
        "a-1",
        4_000_00,
        false,
        at,
        "Перевод на счет в VBank",
    ));
    *w.abank.failing.lock().unwrap() = Some("a-2".into());
    let run = w
        .core
        .sync()
        .run(&SyncScope::default(), SyncTrigger::Manual)
        .await
        .unwrap();
    assert!(!run.errors.is_empty(), "the link must fail");
    let rows = w.rows().await;
    assert_eq!(rows["out-1"], own("in-1"));
    assert_eq!(rows["in-1"], own("out-1"));
    check_consistent(&w.core).await;
}

#[tokio::test]
async fn of_two_equal_credits_the_closest_pairs_and_each_leg_pairs_once() {
    let w = world().await;
    let at = Utc::now() - Duration::days(6);
    w.abank
        .add(row("out-1", "a-1", 5_000_00, false, at, "Перевод"));
    w.abank.add(row(
        "in-far",
        "a-2",
        5_000_00,
        true,
        at + Duration::hours(40),
        "Перевод",
    ));
    w.vbank.add(row(
        "in-near",
        "b-1",
        5_000_00,
        true,
        at + Duration::hours(2),
        "Перевод",
    ));
    w.sync().await;
    let rows = w.rows().await;
    assert_eq!(rows["out-1"], own("in-near"));
    assert_eq!(rows["in-near"], own("out-1"));
    assert_eq!(rows["in-far"].0, "TRANSFERS_IN");
    assert_eq!(rows["in-far"].2, None);
    assert_eq!(w.flows().await, (0, 5_000_00));
}

#[tokio::test]
async fn the_counterparty_account_decides_between_candidates() {
    let w = world().await;
    let at = Utc::now() - Duration::days(6);
    let mut out = row("out-1", "a-1", 5_000_00, false, at, "Перевод");
    out.counterparty_account = Some("40817810****0002".into());
    w.abank.add(out);
    w.abank.add(row(
        "in-named",
        "a-2",
        5_000_00,
        true,
        at + Duration::hours(40),
        "Перевод",
    ));
    w.vbank.add(row(
        "in-near",
        "b-1",
        5_000_00,
        true,
        at + Duration::hours(2),
        "Перевод",
    ));
    w.sync().await;
    let rows = w.rows().await;
    assert_eq!(rows["out-1"], own("in-named"));
    assert_eq!(rows["in-near"].0, "TRANSFERS_IN");
}

#[tokio::test]
async fn a_persons_category_wins_both_ways() {
    let w = world().await;
    let at = Utc::now() - Duration::days(4);
    w.abank.add(row(
        "out-1",
        "a-1",
        3_000_00,
        false,
        at,
        "Перевод на счет в VBank",
    ));
    w.vbank
        .add(row("in-1", "b-1", 3_000_00, true, at, "Перевод из ABank"));
    // A transfer to an account at a bank we do not link: only a person knows it is the client's.
    w.abank
        .add(row("out-x", "a-2", 1_000_00, false, at, "Перевод в банк Х"));
    w.sync().await;
    assert_eq!(w.flows().await, (1_000_00, 0));

    // A person says the paired debit was a payment: it is released, and so is its peer.
    let out = w.row_id("out-1").await;
    w.core
        .set_transaction_category(&admin(), out, Category::OtherExpense)
        .await
        .unwrap();
    check_consistent(&w.core).await;
    let rows = w.rows().await;
    assert_eq!(
        rows["out-1"],
        ("OTHER_EXPENSE".into(), "MANUAL".into(), None)
    );
    assert_eq!(rows["in-1"].0, "TRANSFERS_IN");
    assert_eq!(rows["in-1"].2, None);
    assert_eq!(w.flows().await, (4_000_00, 3_000_00));

    // And that the unmatched one went to the client's own account elsewhere.
    let x = w.row_id("out-x").await;
    w.core
        .set_transaction_category(&admin(), x, Category::OwnTransfer)
        .await
        .unwrap();
    check_consistent(&w.core).await;
    assert_eq!(w.flows().await, (3_000_00, 3_000_00));

    // Syncs keep both choices: the manual debit is not paired again.
    w.sync().await;
    let rows = w.rows().await;
    assert_eq!(
        rows["out-1"],
        ("OTHER_EXPENSE".into(), "MANUAL".into(), None)
    );
    assert_eq!(
        rows["out-x"],
        ("OWN_TRANSFER".into(), "MANUAL".into(), None)
    );
    assert_eq!(rows["in-1"].2, None);
}

#[tokio::test]
async fn a_leg_the_bank_changes_releases_its_peer() {
    let w = world().await;
    let at = Utc::now() - Duration::days(4);
    w.abank.add(row(
        "out-1",
        "a-1",
        8_000_00,
        false,
        at,
        "Перевод на счет в VBank",
    ));
    w.vbank
        .add(row("in-1", "b-1", 8_000_00, true, at, "Перевод из ABank"));
    w.sync().await;
    assert_eq!(w.rows().await["in-1"], own("out-1"));
    // The bank corrects the debit's amount: the two no longer match.
    w.abank.set_amount("out-1", 8_100_00);
    w.sync().await;
    let rows = w.rows().await;
    assert_eq!(rows["out-1"].0, "TRANSFERS_OUT");
    assert_eq!(rows["out-1"].2, None);
    assert_eq!(rows["in-1"].0, "TRANSFERS_IN");
    assert_eq!(rows["in-1"].2, None);
    assert_eq!(w.flows().await, (8_100_00, 8_000_00));
    // Corrected back: paired again.
    w.abank.set_amount("out-1", 8_000_00);
    w.sync().await;
    assert_eq!(w.rows().await["in-1"], own("out-1"));
    assert_eq!(w.flows().await, (0, 0));
}

#[tokio::test]
async fn rule_recategorisation_leaves_paired_legs_alone() {
    let w = world().await;
    let at = Utc::now() - Duration::days(4);
    w.abank.add(row(
        "out-1",
        "a-1",
        9_000_00,
        false,
        at,
        "Перевод на счет в VBank",
    ));
    w.vbank
        .add(row("in-1", "b-1", 9_000_00, true, at, "Перевод из ABank"));
    w.sync().await;
    crm_core::testing::spawn_job_runner(&w.core);
    let user = w
        .core
        .auth()
        .create_user("tester", "tester-password-123", Role::Admin)
        .await
        .unwrap();
    let author = Actor {
        user_id: user.id,
        ..admin()
    };
    let (_, run) = w
        .core
        .create_category_rule(
            &author,
            crm_core::category_rules::NewCategoryRule {
                pattern: "перевод".into(),
                field: crm_core::categorize::RuleField::Description,
                category: Category::OtherExpense,
                priority: Some(10),
            },
        )
        .await
        .unwrap();
    w.core.wait_for_recategorisation(run.id).await.unwrap();
    check_consistent(&w.core).await;
    let rows = w.rows().await;
    assert_eq!(rows["out-1"], own("in-1"));
    assert_eq!(rows["in-1"], own("out-1"));
    let peer = w.core.transaction(w.row_id("out-1").await).await.unwrap();
    assert_eq!(
        (peer.category_source, peer.category_confidence),
        (CategorySource::TransferMatch, None),
        "a paired leg keeps no categoriser's confidence"
    );
}

#[tokio::test]
async fn money_sent_to_the_clients_own_unlinked_account_is_spending_but_never_a_merchant() {
    let w = world().await;
    let at = Utc::now() - Duration::days(3);
    // To the client's account at a bank we do not link: no second leg here.
    let mut own = row("out-own", "a-1", 4_000_00, false, at, "Перевод");
    own.counterparty = Some("Иванов".into());
    w.abank.add(own);
    let mut other = row("out-other", "a-1", 1_500_00, false, at, "Перевод");
    other.counterparty = Some("Петров П.".into());
    w.abank.add(other);
    w.sync().await;
    assert_eq!(w.rows().await["out-own"].0, "TRANSFERS_OUT");
    assert_eq!(
        w.flows().await,
        (5_500_00, 0),
        "it left the accounts we see"
    );
    let top = w
        .core
        .top_merchants(
            w.client,
            at - Duration::days(1),
            Utc::now(),
            &Currency::rub(),
            10,
        )
        .await
        .unwrap();
    let names: Vec<&str> = top.iter().map(|m| m.merchant.as_str()).collect();
    assert_eq!(
        names,
        vec!["Петров П."],
        "the client is never its own merchant"
    );
}
