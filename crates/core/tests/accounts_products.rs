//! Closed accounts, debts and the products a client holds, against an in-process bank: an
//! account a complete list leaves out is closed (never after a failed or partial read) and
//! reopened when listed again; a loan's balance is a debt, never the client's money; agreements
//! and cards are stored (masked), a bank without them is skipped and a consent without
//! `ReadCards` is said on the link. On SQLite and, with `TEST_DATABASE_URL`, PostgreSQL.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]
// Amounts are written as rubles_kopecks (1_000_00) on purpose.
#![allow(clippy::inconsistent_digit_grouping)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{Duration, Utc};
use crm_connector::*;
use crm_core::auth::Actor;
use crm_core::banks::BankRegistry;
use crm_core::clients::NewClient;
use crm_core::domain::{AccountKind as Kind, AccountStatus as Status, Role};
use crm_core::insights::FigureValue;
use crm_core::sync::{SyncRunStatus, SyncScope, SyncTrigger};
use crm_core::testing::TestDatabase;
use crm_core::transactions::TransactionFilter;
use crm_core::{Core, CoreSettings};
use rust_decimal::Decimal;
use sea_orm::EntityTrait;

/// What the bank answers for the product calls.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Offer {
    Serve,
    Unsupported,
    NoPermission,
}

struct State {
    accounts: Vec<AccountData>,
    balances: HashMap<String, i64>,
    transactions: Vec<TransactionData>,
    agreements: Vec<ProductAgreementData>,
    cards: Vec<CardData>,
    accounts_down: bool,
    fail_account: Option<String>,
    agreements_offer: Offer,
    cards_offer: Offer,
}

struct Bank {
    identity: BankIdentity,
    state: Mutex<State>,
}

fn unavailable() -> ConnectorError {
    ConnectorError::Unavailable {
        bank: "fake".into(),
        status: 503,
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
        let s = self.state.lock().unwrap();
        if s.accounts_down {
            return Err(unavailable());
        }
        Ok(s.accounts.clone())
    }
    async fn balances(&self, _a: &Access<'_>, account: &str) -> ConnectorResult<Vec<BalanceData>> {
        let s = self.state.lock().unwrap();
        let minor = s.balances.get(account).copied().unwrap_or(0);
        Ok(vec![BalanceData {
            kind: BalanceKind::InterimAvailable,
            amount: Decimal::new(minor, 2),
            currency: "RUB".into(),
            at: None,
        }])
    }
    async fn transactions(
        &self,
        _a: &Access<'_>,
        account: &str,
        from: chrono::DateTime<Utc>,
        to: chrono::DateTime<Utc>,
    ) -> ConnectorResult<TransactionBatch> {
        let s = self.state.lock().unwrap();
        if s.fail_account.as_deref() == Some(account) {
            return Err(unavailable());
        }
        let transactions: Vec<TransactionData> = s
            .transactions
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
        Ok(vec![ProductData {
            id: "dep-1".into(),
            product_type: ProductType::Deposit,
            name: "Вклад".into(),
            description: None,
            interest_rate: Some(Decimal::new(150, 1)),
            min_amount: Some(Decimal::new(1_000, 0)),
            max_amount: None,
            term_months: Some(12),
        }])
    }
    async fn product_agreements(
        &self,
        _access: &Access<'_>,
    ) -> ConnectorResult<Vec<ProductAgreementData>> {
        let s = self.state.lock().unwrap();
        match s.agreements_offer {
            Offer::Serve => Ok(s.agreements.clone()),
            _ => Err(ConnectorError::Unsupported {
                bank: "fake".into(),
                what: "product agreements".into(),
            }),
        }
    }
    async fn cards(&self, _access: &Access<'_>) -> ConnectorResult<Vec<CardData>> {
        let s = self.state.lock().unwrap();
        match s.cards_offer {
            Offer::Serve => Ok(s.cards.clone()),
            Offer::Unsupported => Err(ConnectorError::Unsupported {
                bank: "fake".into(),
                what: "cards".into(),
            }),
            Offer::NoPermission => Err(ConnectorError::PermissionMissing {
                bank: "fake".into(),
                permission: "ReadCards".into(),
            }),
        }
    }
}

fn account(id: &str, subtype: &str, number: &str) -> AccountData {
    AccountData {
        id: id.into(),
        status: AccountStatus::Enabled,
        currency: "RUB".into(),
        account_type: "Personal".into(),
        account_subtype: Some(subtype.into()),
        kind: AccountKind::from_bank(Some(subtype), None),
        nickname: Some(format!("{subtype} {id}")),
        number: Some(number.into()),
        holder_name: None,
        opened_on: chrono::NaiveDate::from_ymd_opt(2024, 3, 1),
    }
}

fn spend(id: &str, account: &str, minor: i64, days_ago: i64) -> TransactionData {
    TransactionData {
        id: id.into(),
        account_id: account.into(),
        amount: Decimal::new(minor, 2),
        currency: "RUB".into(),
        direction: Direction::Debit,
        status: BookingStatus::Booked,
        raw_status: None,
        booked_at: Utc::now() - Duration::days(days_ago),
        value_at: None,
        description: format!("Покупка {id}"),
        bank_transaction_code: None,
        merchant: None,
        card_masked: None,
        card_id: None,
        counterparty: None,
        counterparty_account: None,
        counterparty_bank: None,
    }
}

const CURRENT: &str = "40817810000000000001";
const SAVINGS: &str = "42301810000000000002";
const LOAN: &str = "45507810000000000003";
const DEPOSIT: &str = "423cb90b1628e2d4eb";

fn agreement(id: &str, kind: AgreementKind, amount: i64, number: &str) -> ProductAgreementData {
    ProductAgreementData {
        id: id.into(),
        kind,
        product_id: Some("prod-1".into()),
        product_name: format!("Продукт {id}"),
        amount: Decimal::new(amount, 2),
        currency: "RUB".into(),
        interest_rate: Some(Decimal::new(125, 1)),
        opened_at: Some(Utc::now() - Duration::days(30)),
        ends_at: Some(Utc::now() + Duration::days(330)),
        status: AgreementStatus::Active,
        account_id: None,
        account_number: Some(number.into()),
    }
}

fn card(id: &str, sent_number: &str) -> CardData {
    CardData {
        id: id.into(),
        kind: CardKind::Debit,
        name: Some("Visa Classic".into()),
        number: MaskedPan::new(sent_number).unwrap(),
        status: CardStatus::Active,
        expires: Some((2029, 7)),
        daily_limit: Some(Decimal::new(100_000, 0)),
        monthly_limit: Some(Decimal::new(500_000, 0)),
        currency: None,
        account_id: None,
        account_number: Some(CURRENT.into()),
        issued_at: Some(Utc::now() - Duration::days(100)),
    }
}

struct World {
    core: Arc<Core>,
    bank: Arc<Bank>,
    tdb: TestDatabase,
    client: i64,
}

impl World {
    /// A current account with 1 000, a savings account with 500 and a loan account, which the
    /// bank shows with a positive balance of 300 000 (as bank-in-a-box does) and a `Business`
    /// sub-type: only the loan agreement says it is a loan.
    async fn start() -> World {
        let pg = std::env::var("TEST_DATABASE_URL").ok();
        let tdb = TestDatabase::create(pg.as_deref()).await.unwrap();
        let mut loan = account("acc-loan", "Business", LOAN);
        loan.kind = AccountKind::Current;
        let bank = Arc::new(Bank {
            identity: BankIdentity {
                code: "fake".into(),
                name: "FakeBank".into(),
            },
            state: Mutex::new(State {
                accounts: vec![
                    account("acc-cur", "Checking", CURRENT),
                    account("acc-sav", "Savings", SAVINGS),
                    loan,
                ],
                balances: HashMap::from([
                    ("acc-cur".into(), 1_000_00),
                    ("acc-sav".into(), 500_00),
                    ("acc-loan".into(), 300_000_00),
                ]),
                transactions: vec![
                    spend("t-1", "acc-cur", 100_00, 20),
                    spend("t-2", "acc-sav", 50_00, 15),
                    spend("t-3", "acc-loan", 10_00, 10),
                ],
                agreements: vec![
                    agreement("agr-loan", AgreementKind::Loan, 300_000_00, LOAN),
                    // Closed: its account is no longer listed.
                    ProductAgreementData {
                        status: AgreementStatus::Closed,
                        ..agreement("agr-dep", AgreementKind::Deposit, 100_000_00, DEPOSIT)
                    },
                ],
                cards: vec![card("card-1", "**** **** **** 4014")],
                accounts_down: false,
                fail_account: None,
                agreements_offer: Offer::Serve,
                cards_offer: Offer::Serve,
            }),
        });
        let registry = BankRegistry::new(vec![bank.clone() as Arc<dyn BankConnector>]);
        let core = Arc::new(Core::new(tdb.db.clone(), CoreSettings::default(), registry).unwrap());
        let client = core
            .create_client(
                &admin(),
                NewClient {
                    display_name: "Клиент".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        core.sync()
            .link_bank(&admin(), client.id, "fake", "team200-1")
            .await
            .unwrap();
        World {
            core,
            bank,
            tdb,
            client: client.id,
        }
    }

    fn set(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.bank.state.lock().unwrap());
    }

    async fn sync(&self) -> crm_core::sync::SyncRunSummary {
        self.core
            .sync()
            .run(&SyncScope::default(), SyncTrigger::Manual)
            .await
            .unwrap()
    }

    async fn accounts(&self) -> HashMap<String, crm_core::accounts::Account> {
        self.core
            .accounts_of_clients(&[self.client])
            .await
            .unwrap()
            .remove(&self.client)
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.external_id.clone(), a))
            .collect()
    }

    async fn transactions(&self) -> u64 {
        let all = TransactionFilter {
            from: Some(Utc::now() - Duration::days(3650)),
            ..Default::default()
        };
        self.core
            .count_transactions(self.client, &all)
            .await
            .unwrap()
    }

    async fn status_message(&self) -> Option<String> {
        self.core
            .links_of_clients(&[self.client])
            .await
            .unwrap()
            .remove(&self.client)
            .unwrap()
            .remove(0)
            .status_message
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

fn rub(minor: i64) -> (i64, String) {
    (minor, "RUB".to_owned())
}

fn amounts(list: &[crm_core::domain::Money]) -> Vec<(i64, String)> {
    list.iter()
        .map(|m| (m.minor, m.currency.as_str().to_owned()))
        .collect()
}

#[tokio::test]
async fn an_account_the_bank_stops_listing_is_closed_kept_and_reopened() {
    let w = World::start().await;
    assert_eq!(w.sync().await.status, SyncRunStatus::Succeeded);
    let before = w.accounts().await;
    assert_eq!(before.len(), 3);
    assert!(before.values().all(|a| a.status == Status::Open));
    assert_eq!(
        before["acc-cur"].opened_on,
        chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
    );
    assert_eq!(w.transactions().await, 3);

    // The bank stops listing the savings account, with a last row the final read picks up.
    w.set(|s| {
        s.accounts.retain(|a| a.id != "acc-sav");
        s.transactions.push(spend("t-close", "acc-sav", 450_00, 0));
        s.balances.insert("acc-sav".into(), 0);
    });
    assert_eq!(w.sync().await.status, SyncRunStatus::Succeeded);
    let after = w.accounts().await;
    let savings = &after["acc-sav"];
    assert_eq!(savings.status, Status::Closed);
    assert!(savings.closed_at.is_some());
    assert_eq!(savings.balance.as_ref().map(|b| b.minor), Some(0));
    assert_eq!(after["acc-cur"].status, Status::Open);
    assert_eq!(w.transactions().await, 4, "history kept, closing row read");
    // Closed balances count nowhere (with a non-zero balance left on it to be sure).
    w.set(|s| {
        s.balances.insert("acc-sav".into(), 777_00);
    });
    let stats = w.core.stats(&crm_core::testing::admin()).await.unwrap();
    assert_eq!(amounts(&stats.balances), vec![rub(1_000_00)]);

    // Listed again: open again.
    w.set(|s| s.accounts.push(account("acc-sav", "Savings", SAVINGS)));
    assert_eq!(w.sync().await.status, SyncRunStatus::Succeeded);
    let reopened = &w.accounts().await["acc-sav"];
    assert_eq!(reopened.status, Status::Open);
    assert_eq!(reopened.closed_at, None);
    let stats = w.core.stats(&crm_core::testing::admin()).await.unwrap();
    assert_eq!(amounts(&stats.balances), vec![rub(1_000_00 + 777_00)]);
    w.tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_failed_or_partial_account_read_closes_nothing() {
    let w = World::start().await;
    w.sync().await;

    // The list itself fails.
    w.set(|s| {
        s.accounts_down = true;
        s.accounts.retain(|a| a.id != "acc-sav");
    });
    assert_ne!(w.sync().await.status, SyncRunStatus::Succeeded);
    assert!(w
        .accounts()
        .await
        .values()
        .all(|a| a.status == Status::Open));

    // The list is read but another account's rows fail: the sync of the link is incomplete.
    w.set(|s| {
        s.accounts_down = false;
        s.fail_account = Some("acc-cur".into());
    });
    assert_ne!(w.sync().await.status, SyncRunStatus::Succeeded);
    assert!(w
        .accounts()
        .await
        .values()
        .all(|a| a.status == Status::Open));

    // An empty list is taken as a faulty read, not as every account closed.
    w.set(|s| {
        s.fail_account = None;
        s.accounts.clear();
    });
    w.sync().await;
    assert!(w
        .accounts()
        .await
        .values()
        .all(|a| a.status == Status::Open));

    // A complete read closes it.
    w.set(|s| {
        s.accounts = vec![
            account("acc-cur", "Checking", CURRENT),
            account("acc-loan", "Loan", LOAN),
        ]
    });
    assert_eq!(w.sync().await.status, SyncRunStatus::Succeeded);
    assert_eq!(w.accounts().await["acc-sav"].status, Status::Closed);
    w.tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_loan_is_a_debt_never_the_clients_money() {
    let w = World::start().await;
    w.sync().await;
    let accounts = w.accounts().await;
    // The sub-type says `Business`; the loan agreement says what the account is.
    assert_eq!(accounts["acc-loan"].kind, Kind::Loan);
    assert_eq!(accounts["acc-cur"].kind, Kind::Current);
    assert_eq!(accounts["acc-sav"].kind, Kind::Savings);
    let list: Vec<_> = accounts.values().cloned().collect();
    let total = crm_core::accounts::total_by_currency(&list);
    assert_eq!(amounts(&total), vec![rub(1_500_00)]);
    let position = crm_core::accounts::position_by_currency(&list);
    assert_eq!(position.len(), 1);
    assert_eq!(position[0].assets().minor, 1_500_00);
    assert_eq!(position[0].debts().minor, 300_000_00);
    assert_eq!(position[0].net().minor, 1_500_00 - 300_000_00);

    // A bank that shows the debt as a negative balance: the same debt.
    w.set(|s| {
        s.balances.insert("acc-loan".into(), -300_000_00);
    });
    w.sync().await;
    let list: Vec<_> = w.accounts().await.into_values().collect();
    let position = crm_core::accounts::position_by_currency(&list);
    assert_eq!(position[0].debts().minor, 300_000_00);

    // Portfolio figures: assets and debts apart.
    let stats = w.core.stats(&crm_core::testing::admin()).await.unwrap();
    assert_eq!(amounts(&stats.balances), vec![rub(1_500_00)]);
    assert_eq!(amounts(&stats.debts), vec![rub(300_000_00)]);
    let banks = w
        .core
        .bank_totals(&crm_core::testing::admin())
        .await
        .unwrap();
    let fake = banks.iter().find(|b| b.bank_code == "fake").unwrap();
    assert_eq!(amounts(&fake.balances), vec![rub(1_500_00)]);
    assert_eq!(amounts(&fake.debts), vec![rub(300_000_00)]);
    assert_eq!(fake.accounts, 3);

    // The balance the insights and offers work from is the client's money only (a negative
    // loan balance is no overdraft either).
    let insights = w.core.insights(w.client, Utc::now()).await.unwrap();
    let balance = insights
        .iter()
        .flat_map(|i| i.figures.iter())
        .find(|f| f.name == "balance")
        .map(|f| f.value.clone());
    assert_eq!(
        balance,
        Some(FigureValue::Money(crm_core::domain::Money::new(
            1_500_00,
            crm_core::domain::Currency::parse("RUB").unwrap()
        )))
    );
    assert!(
        insights.iter().all(|i| i.kind != "OVERDRAFT"),
        "{:?}",
        insights.iter().map(|i| i.kind).collect::<Vec<_>>()
    );
    w.tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn agreements_and_cards_are_stored_masked_and_follow_the_bank() {
    let w = World::start().await;
    w.sync().await;
    let accounts = w.accounts().await;
    let agreements = w
        .core
        .agreements_of_clients(&[w.client])
        .await
        .unwrap()
        .remove(&w.client)
        .unwrap();
    assert_eq!(agreements.len(), 2);
    let loan = agreements
        .iter()
        .find(|g| g.external_id == "agr-loan")
        .unwrap();
    assert_eq!(loan.kind, crm_core::domain::AgreementKind::Loan);
    assert_eq!(loan.amount.minor, 300_000_00);
    assert_eq!(loan.interest_rate, Some(Decimal::new(125, 1)));
    assert_eq!(loan.account_id, Some(accounts["acc-loan"].id));
    assert_eq!(loan.account_number_masked.as_deref(), Some("•••• 0003"));
    let deposit = agreements
        .iter()
        .find(|g| g.external_id == "agr-dep")
        .unwrap();
    assert_eq!(deposit.status, crm_core::domain::AgreementStatus::Closed);
    assert_eq!(deposit.account_id, None);
    assert!(deposit.ends_at.is_some());

    let cards = w
        .core
        .cards_of_clients(&[w.client])
        .await
        .unwrap()
        .remove(&w.client)
        .unwrap();
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0].number_masked, "****4014");
    assert_eq!(cards[0].account_id, Some(accounts["acc-cur"].id));
    assert_eq!(
        cards[0].daily_limit.as_ref().map(|m| m.minor),
        Some(100_000_00)
    );
    assert_eq!(cards[0].expires, Some((2029, 7)));

    // A full number from a careless bank is masked before it is stored.
    w.set(|s| s.cards.push(card("card-2", "4276380012349999")));
    w.sync().await;
    let stored: Vec<String> = crm_core::entity::cards::Entity::find()
        .all(w.tdb.db.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.number_masked)
        .collect();
    assert_eq!(stored, vec!["****4014".to_owned(), "****9999".to_owned()]);

    // What the bank stops listing is no longer shown; it comes back when listed again.
    w.set(|s| {
        s.cards.retain(|c| c.id != "card-1");
        s.agreements.retain(|g| g.id != "agr-dep");
    });
    w.sync().await;
    let cards = w.core.cards_of_clients(&[w.client]).await.unwrap();
    assert_eq!(cards[&w.client].len(), 1);
    assert_eq!(cards[&w.client][0].external_id, "card-2");
    let agreements = w.core.agreements_of_clients(&[w.client]).await.unwrap();
    assert_eq!(agreements[&w.client].len(), 1);
    w.set(|s| s.cards.push(card("card-1", "**** **** **** 4014")));
    w.sync().await;
    assert_eq!(
        w.core.cards_of_clients(&[w.client]).await.unwrap()[&w.client].len(),
        2
    );

    // The bank's catalogue as offered.
    let products = w
        .core
        .products_of_banks(&["fake".to_owned()])
        .await
        .unwrap();
    assert_eq!(products["fake"].len(), 1);
    assert_eq!(products["fake"][0].product_type, "deposit");
    w.tdb.cleanup().await.unwrap();
}

#[tokio::test]
async fn a_bank_without_products_is_skipped_and_a_consent_without_cards_says_so() {
    let w = World::start().await;
    w.set(|s| {
        s.agreements_offer = Offer::Unsupported;
        s.cards_offer = Offer::Unsupported;
    });
    assert_eq!(w.sync().await.status, SyncRunStatus::Succeeded);
    assert_eq!(w.status_message().await, None);
    assert!(w
        .core
        .agreements_of_clients(&[w.client])
        .await
        .unwrap()
        .is_empty());
    assert!(w
        .core
        .cards_of_clients(&[w.client])
        .await
        .unwrap()
        .is_empty());
    // Without an agreement the loan account is what its sub-type says.
    assert_eq!(w.accounts().await["acc-loan"].kind, Kind::Current);

    // An old consent without ReadCards: agreements come, cards are skipped and the link says
    // why; the sync itself succeeds.
    w.set(|s| {
        s.agreements_offer = Offer::Serve;
        s.cards_offer = Offer::NoPermission;
    });
    assert_eq!(w.sync().await.status, SyncRunStatus::Succeeded);
    let message = w.status_message().await.unwrap();
    assert!(message.contains("ReadCards"), "{message}");
    assert_eq!(
        w.core.agreements_of_clients(&[w.client]).await.unwrap()[&w.client].len(),
        2
    );
    assert!(w
        .core
        .cards_of_clients(&[w.client])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(w.accounts().await["acc-loan"].kind, Kind::Loan);

    // Cards stored before stay as they were when they cannot be read.
    w.set(|s| s.cards_offer = Offer::Serve);
    w.sync().await;
    assert_eq!(w.status_message().await, None);
    w.set(|s| s.cards_offer = Offer::NoPermission);
    w.sync().await;
    assert_eq!(
        w.core.cards_of_clients(&[w.client]).await.unwrap()[&w.client].len(),
        1
    );
    w.tdb.cleanup().await.unwrap();
}
