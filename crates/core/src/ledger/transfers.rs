//! Transfers between a client's own accounts. A client who moves money from ABank to VBank
//! has neither spent nor earned it: the two legs (a debit on one of the client's accounts and a
//! credit of the same amount and currency on another, within a few days) are paired, each
//! pointing at the other, and both become `OWN_TRANSFER` with the source `TRANSFER_MATCH`.
//!
//! Which rows may be a leg: booked, not replaced, not paired yet, not categorised by a person;
//! with a counterparty account from the bank, when it is one of the client's other accounts;
//! without one, when categorised as a transfer (`TRANSFERS_OUT`/`TRANSFERS_IN`). A transfer to an account the client holds at a
//! bank we do not link has no second leg here and stays `TRANSFERS_OUT`.
//!
//! Which pairs win when several are possible (two equal transfers in a week): a leg whose
//! counterparty account is one of the client's accounts pairs only with a leg on that account;
//! otherwise a pair whose description names the other leg's account first, then the pair
//! closest in time, then the earliest; each leg pairs with at most one other.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::{bank_codes, bank_of, set_decision, Categorise, Posting};
use crate::domain::{Category, CategorySource, Direction, TransactionStatus};
use crate::entity::{accounts, transactions};
use crate::error::CoreResult;

/// How far apart in time the two legs of one transfer may be booked (`OWN_TRANSFER_WINDOW_DAYS`,
/// default 3 days: a transfer between banks may take a day or two to arrive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransferWindow(Duration);

impl TransferWindow {
    pub fn days(days: u32) -> Self {
        TransferWindow(Duration::days(i64::from(days)))
    }

    pub fn duration(self) -> Duration {
        self.0
    }
}

impl Default for TransferWindow {
    fn default() -> Self {
        TransferWindow::days(3)
    }
}

/// Any constant: mixed with a client's id, the advisory lock that serialises pairing of one
/// client's transfers across replicas (PostgreSQL).
const PAIRING_LOCK: i64 = 0x5452_414e_5346_0000;

/// The digits of an account number, and whether the bank masked some of them.
fn digits(number: &str) -> (String, bool) {
    let masked = number.contains(['*', '•', 'X', 'x']);
    (
        number.chars().filter(char::is_ascii_digit).collect(),
        masked,
    )
}

/// Whether `named` (a counterparty account as a bank gave it, possibly masked) is `account`.
fn names_account(named: &str, account: &str) -> bool {
    let (n, masked) = digits(named);
    let (a, _) = digits(account);
    if n.len() < 4 || a.len() < 4 {
        return false;
    }
    if masked {
        // "40817810****1234": the visible head and tail must match.
        let tail = &n[n.len().saturating_sub(4)..];
        let head: String = named
            .chars()
            .take_while(|c| c.is_ascii_digit() || c.is_whitespace())
            .filter(char::is_ascii_digit)
            .collect();
        a.ends_with(tail) && a.starts_with(&head)
    } else {
        n == a
    }
}

/// The client's account a leg's counterparty account names, if any: then that account, and no
/// other, holds the leg's partner.
fn named_account<'a>(
    leg: &transactions::Model,
    accounts: &'a HashMap<i64, accounts::Model>,
) -> Option<&'a accounts::Model> {
    let named = leg.counterparty_account.as_deref()?;
    accounts.values().find(|a| {
        a.id != leg.account_id && a.number.as_deref().is_some_and(|n| names_account(named, n))
    })
}

/// What a leg says about the account at the other end: its counterparty account, or the
/// account's last four digits in its description.
fn points_at(leg: &transactions::Model, account: &accounts::Model) -> bool {
    let Some(number) = account.number.as_deref() else {
        return false;
    };
    if let Some(named) = leg.counterparty_account.as_deref() {
        if names_account(named, number) {
            return true;
        }
    }
    let (d, _) = digits(number);
    d.len() >= 8 && {
        let tail = &d[d.len() - 4..];
        leg.description
            .split(|c: char| !c.is_ascii_digit())
            .any(|run| run.len() >= 4 && run.ends_with(tail))
    }
}

fn is_transfer_category(category: &str) -> bool {
    category == Category::TransfersOut.as_str() || category == Category::TransfersIn.as_str()
}

/// A possible pair: (evidence, seconds apart, debit, credit).
type Candidate = (u8, i64, usize, usize);

/// Chooses the pairs among `legs` (booked-time order, as read; at most one partner each): see
/// the module documentation.
fn choose_pairs(
    legs: &[transactions::Model],
    accounts: &HashMap<i64, accounts::Model>,
    window: TransferWindow,
) -> Vec<(usize, usize)> {
    // The client's account each leg's counterparty account names, once per leg. A leg whose
    // counterparty account is not one of the client's (a transfer to someone else, or to the
    // client's account at a bank we do not link) is no leg here.
    let named: Vec<Option<i64>> = legs
        .iter()
        .map(|l| named_account(l, accounts).map(|a| a.id))
        .collect();
    let eligible = |i: usize| match legs[i].counterparty_account {
        Some(_) => named[i].is_some(),
        None => is_transfer_category(&legs[i].category),
    };
    // Credits by (currency, amount), in booked-time order, so each debit looks only at equal
    // amounts within the window.
    let mut credits: BTreeMap<(&str, i64), Vec<usize>> = BTreeMap::new();
    for (i, l) in legs.iter().enumerate() {
        if eligible(i) && l.direction == Direction::Credit.as_str() {
            credits
                .entry((l.currency.as_str(), l.amount_minor))
                .or_default()
                .push(i);
        }
    }
    let span = window.duration();
    let mut candidates: Vec<Candidate> = Vec::new();
    for (d, debit) in legs.iter().enumerate() {
        if !eligible(d) || debit.direction != Direction::Debit.as_str() {
            continue;
        }
        let Some(same) = credits.get(&(debit.currency.as_str(), debit.amount_minor)) else {
            continue;
        };
        let first = same.partition_point(|&c| legs[c].booked_at < debit.booked_at - span);
        for &c in &same[first..] {
            let credit = &legs[c];
            if credit.booked_at > debit.booked_at + span {
                break;
            }
            if credit.account_id == debit.account_id {
                continue;
            }
            // A leg whose counterparty is one of the client's accounts pairs only with a leg
            // on that account (its partner may not have arrived yet).
            if named[d].is_some_and(|a| a != credit.account_id)
                || named[c].is_some_and(|a| a != debit.account_id)
            {
                continue;
            }
            let apart = (credit.booked_at - debit.booked_at).num_seconds().abs();
            let evidence = u8::from(
                accounts
                    .get(&credit.account_id)
                    .is_some_and(|a| points_at(debit, a)),
            ) + u8::from(
                accounts
                    .get(&debit.account_id)
                    .is_some_and(|a| points_at(credit, a)),
            );
            candidates.push((evidence, apart, d, c));
        }
    }
    candidates.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(legs[a.2].booked_at.cmp(&legs[b.2].booked_at))
            .then(legs[a.2].id.cmp(&legs[b.2].id))
            .then(legs[a.3].id.cmp(&legs[b.3].id))
    });
    let mut taken = vec![false; legs.len()];
    let mut pairs = Vec::new();
    for (_, _, d, c) in candidates {
        if !taken[d] && !taken[c] {
            taken[d] = true;
            taken[c] = true;
            pairs.push((d, c));
        }
    }
    pairs
}

/// The client's rows booked from `from` on that may be a leg and are not paired yet: booked,
/// not replaced, not categorised by a person; transfers, and rows naming a counterparty account
/// (as the partial index `idx_transactions_transfer_legs` states it, so that it serves the
/// query and the rest of the client's rows are never visited). In booking order.
fn unpaired_legs(client_id: i64, from: DateTime<Utc>) -> sea_orm::Select<transactions::Entity> {
    use transactions::Column as T;
    transactions::Entity::find()
        .filter(T::ClientId.eq(client_id))
        .filter(T::BookedAt.gte(from))
        .filter(T::Status.eq(TransactionStatus::Booked.as_str()))
        .filter(T::ReplacedById.is_null())
        .filter(T::TransferPeerId.is_null())
        .filter(T::CategorySource.ne(CategorySource::Manual.as_str()))
        .filter(Expr::cust(crm_migration::TRANSFER_LEG_PREDICATE))
        .order_by_asc(T::BookedAt)
        .order_by_asc(T::Id)
}

/// Pairs written per UPDATE statement (two ids and a CASE arm each, well under SQLite's and
/// PostgreSQL's parameter limits).
const PAIRS_PER_STATEMENT: usize = 200;

impl Posting {
    /// Pairs the unpaired legs of transfers between `client_id`'s own accounts booked since
    /// `since` (less the window, so a leg's partner booked just before is found). Returns how
    /// many pairs were made. Runs in the caller's transaction; on PostgreSQL the client's pairing
    /// is serialised by an advisory lock and the legs are locked until commit.
    pub(crate) async fn pair_transfers<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        client_id: i64,
        since: DateTime<Utc>,
        window: TransferWindow,
    ) -> CoreResult<u32> {
        crate::db::advisory_xact_lock(conn, PAIRING_LOCK ^ client_id).await?;
        let accounts: HashMap<i64, accounts::Model> = accounts::Entity::find()
            .filter(accounts::Column::ClientId.eq(client_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        if accounts.len() < 2 {
            return Ok(0);
        }
        let legs = unpaired_legs(client_id, since - window.duration())
            .lock_exclusive()
            .all(conn)
            .await?;
        let pairs = choose_pairs(&legs, &accounts, window);
        if pairs.is_empty() {
            return Ok(0);
        }
        use transactions::Column as T;
        let banks = bank_codes(conn, legs.iter().map(|l| l.account_id)).await?;
        let now = Utc::now();
        for chunk in pairs.chunks(PAIRS_PER_STATEMENT) {
            // One statement per chunk: both legs of every pair become own transfers, each
            // pointing at the other.
            let mut peer_of = CaseStatement::new();
            let mut ids = Vec::with_capacity(chunk.len() * 2);
            for &(d, c) in chunk {
                for (leg, peer) in [(&legs[d], &legs[c]), (&legs[c], &legs[d])] {
                    self.change_category(leg, bank_of(&banks, leg)?, Category::OwnTransfer)?;
                    peer_of = peer_of.case(T::Id.eq(leg.id), Expr::val(peer.id));
                    ids.push(leg.id);
                }
            }
            transactions::Entity::update_many()
                .col_expr(
                    T::Category,
                    Expr::val(Category::OwnTransfer.as_str()).into(),
                )
                .col_expr(
                    T::CategorySource,
                    Expr::val(CategorySource::TransferMatch.as_str()).into(),
                )
                .col_expr(T::TransferPeerId, peer_of.into())
                .col_expr(T::CategoryConfidence, Expr::value(Option::<i16>::None))
                .col_expr(T::UpdatedAt, Expr::val(now).into())
                .filter(T::Id.is_in(ids))
                .exec(conn)
                .await?;
        }
        Ok(pairs.len() as u32)
    }

    /// Releases `peer_id` from its pair (its partner changed or was categorised by a person):
    /// it points at nothing, and unless a person categorised it, the categoriser decides its
    /// category again.
    pub(super) async fn release<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        peer_id: i64,
        categorise: &dyn Categorise,
    ) -> CoreResult<()> {
        let Some(peer) = transactions::Entity::find_by_id(peer_id)
            .lock_exclusive()
            .one(conn)
            .await?
        else {
            return Ok(());
        };
        let mut m: transactions::ActiveModel = peer.clone().into();
        m.transfer_peer_id = Set(None);
        if peer.category_source == CategorySource::TransferMatch.as_str() {
            let decision = categorise.categorise(&peer);
            let banks = bank_codes(conn, [peer.account_id]).await?;
            self.change_category(&peer, bank_of(&banks, &peer)?, decision.category)?;
            set_decision(&mut m, &decision);
        }
        m.updated_at = Set(Utc::now());
        m.update(conn).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    // Amounts are written as rubles_kopecks (50_000_00) on purpose.
    #![allow(clippy::inconsistent_digit_grouping)]
    use super::*;

    /// Pairing reads a client's possible legs through the partial index, never visiting the
    /// client's other rows: the query must state the index's predicate as the index does.
    #[tokio::test]
    async fn the_legs_query_is_served_by_the_partial_index() {
        use sea_orm::{QueryTrait, Statement};
        let pg = crate::testing::test_database_url();
        let tdb = crate::testing::TestDatabase::create(pg.as_deref())
            .await
            .expect("test database");
        let backend = tdb.db.conn().get_database_backend();
        // One connection for the setting and the plan.
        let conn = tdb.db.begin_write().await.expect("transaction");
        let query = unpaired_legs(7, Utc::now() - Duration::days(30)).build(backend);
        let explain = match backend {
            sea_orm::DatabaseBackend::Sqlite => "EXPLAIN QUERY PLAN",
            _ => {
                // On an empty table any index costs the same: without scans and the client's
                // other index (dropped in this transaction only), the partial index is chosen
                // if and only if the planner proves the query within its predicate.
                conn.execute_unprepared(
                    "SET LOCAL enable_seqscan = off; \
                     DROP INDEX idx_transactions_client_id_booked_at_id; \
                     DROP INDEX idx_transactions_client_id_booked_month_category",
                )
                .await
                .expect("set");
                "EXPLAIN"
            }
        };
        let rows = conn
            .query_all(Statement::from_sql_and_values(
                backend,
                format!("{explain} {}", query.sql),
                query.values.map(|v| v.0).unwrap_or_default(),
            ))
            .await
            .expect("explain");
        let plan: Vec<String> = rows
            .iter()
            .map(|r| {
                let column = match backend {
                    sea_orm::DatabaseBackend::Sqlite => "detail",
                    _ => "QUERY PLAN",
                };
                r.try_get::<String>("", column).expect("plan line")
            })
            .collect();
        assert!(
            plan.iter()
                .any(|l| l.contains("idx_transactions_transfer_legs")),
            "plan: {plan:?}"
        );
    }

    fn account(id: i64, number: &str) -> accounts::Model {
        accounts::Model {
            id,
            client_id: 1,
            link_id: None,
            bank_code: "abank".into(),
            external_id: format!("acc-{id}"),
            name: "Current".into(),
            account_type: "Personal".into(),
            account_subtype: None,
            currency: "RUB".into(),
            status: "OPEN".into(),
            number: Some(number.into()),
            number_masked: None,
            balance_minor: None,
            balance_type: None,
            balance_at: None,
            opened_on: None,
            kind: None,
            closed_at: None,
            last_booked_at: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn leg(
        id: i64,
        account_id: i64,
        direction: Direction,
        minor: i64,
        hours: i64,
        category: Category,
    ) -> transactions::Model {
        let at =
            DateTime::from_timestamp(1_750_000_000, 0).unwrap_or_default() + Duration::hours(hours);
        transactions::Model {
            id,
            client_id: 1,
            account_id,
            external_id: format!("t{id}"),
            booked_at: at,
            booked_month: 202506,
            value_at: None,
            amount_minor: minor,
            currency: "RUB".into(),
            direction: direction.as_str().into(),
            status: "BOOKED".into(),
            raw_status: None,
            description: "Перевод".into(),
            merchant: None,
            mcc: None,
            bank_tx_code: None,
            counterparty: None,
            card_masked: None,
            search_text: String::new(),
            category: category.as_str().into(),
            category_source: "KEYWORD".into(),
            category_confidence: Some(90),
            replaced_by_id: None,
            transfer_peer_id: None,
            counterparty_account: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn accounts_of(list: Vec<accounts::Model>) -> HashMap<i64, accounts::Model> {
        list.into_iter().map(|a| (a.id, a)).collect()
    }

    #[test]
    fn equal_opposite_legs_on_two_accounts_pair() {
        let accounts = accounts_of(vec![
            account(1, "40817810000000000001"),
            account(2, "40817810000000000002"),
        ]);
        let legs = vec![
            leg(
                10,
                1,
                Direction::Debit,
                50_000_00,
                0,
                Category::TransfersOut,
            ),
            leg(
                11,
                2,
                Direction::Credit,
                50_000_00,
                30,
                Category::TransfersIn,
            ),
        ];
        assert_eq!(
            choose_pairs(&legs, &accounts, TransferWindow::default()),
            vec![(0, 1)]
        );
    }

    #[test]
    fn legs_too_far_apart_same_account_or_other_amounts_do_not_pair() {
        let accounts = accounts_of(vec![
            account(1, "40817810000000000001"),
            account(2, "40817810000000000002"),
        ]);
        let w = TransferWindow::default();
        let far = vec![
            leg(10, 1, Direction::Debit, 1_000_00, 0, Category::TransfersOut),
            leg(
                11,
                2,
                Direction::Credit,
                1_000_00,
                24 * 4,
                Category::TransfersIn,
            ),
        ];
        assert!(choose_pairs(&far, &accounts, w).is_empty());
        let same_account = vec![
            leg(10, 1, Direction::Debit, 1_000_00, 0, Category::TransfersOut),
            leg(11, 1, Direction::Credit, 1_000_00, 1, Category::TransfersIn),
        ];
        assert!(choose_pairs(&same_account, &accounts, w).is_empty());
        let other_amount = vec![
            leg(10, 1, Direction::Debit, 1_000_00, 0, Category::TransfersOut),
            leg(11, 2, Direction::Credit, 1_000_01, 1, Category::TransfersIn),
        ];
        assert!(choose_pairs(&other_amount, &accounts, w).is_empty());
        // A salary of the same amount is no transfer leg.
        let salary = vec![
            leg(10, 1, Direction::Debit, 1_000_00, 0, Category::TransfersOut),
            leg(11, 2, Direction::Credit, 1_000_00, 1, Category::Salary),
        ];
        assert!(choose_pairs(&salary, &accounts, w).is_empty());
    }

    #[test]
    fn of_two_equal_candidates_the_named_account_then_the_closest_wins() {
        let accounts = accounts_of(vec![
            account(1, "40817810000000000001"),
            account(2, "40817810000000000002"),
            account(3, "40817810000000000003"),
        ]);
        let w = TransferWindow::default();
        // Closest in time wins when nothing names an account.
        let legs = vec![
            leg(10, 1, Direction::Debit, 5_000_00, 0, Category::TransfersOut),
            leg(
                11,
                2,
                Direction::Credit,
                5_000_00,
                40,
                Category::TransfersIn,
            ),
            leg(12, 3, Direction::Credit, 5_000_00, 2, Category::TransfersIn),
        ];
        assert_eq!(choose_pairs(&legs, &accounts, w), vec![(0, 2)]);
        // The debit names account 2 as its counterparty: that pair wins though it is later.
        let mut named = legs.clone();
        named[0].counterparty_account = Some("40817810****0002".into());
        assert_eq!(choose_pairs(&named, &accounts, w), vec![(0, 1)]);
        // Two debits, two credits: each leg pairs once.
        let two = vec![
            leg(10, 1, Direction::Debit, 5_000_00, 0, Category::TransfersOut),
            leg(13, 1, Direction::Debit, 5_000_00, 1, Category::TransfersOut),
            leg(11, 2, Direction::Credit, 5_000_00, 2, Category::TransfersIn),
            leg(12, 3, Direction::Credit, 5_000_00, 3, Category::TransfersIn),
        ];
        let pairs = choose_pairs(&two, &accounts, w);
        assert_eq!(pairs.len(), 2);
        assert_ne!(pairs[0].0, pairs[1].0);
        assert_ne!(pairs[0].1, pairs[1].1);
    }

    #[test]
    fn a_counterparty_account_makes_any_category_a_leg() {
        let accounts = accounts_of(vec![
            account(1, "40817810000000000001"),
            account(2, "40817810000000000002"),
        ]);
        let mut legs = vec![
            leg(10, 1, Direction::Debit, 7_000_00, 0, Category::OtherExpense),
            leg(11, 2, Direction::Credit, 7_000_00, 1, Category::OtherIncome),
        ];
        assert!(choose_pairs(&legs, &accounts, TransferWindow::default()).is_empty());
        legs[0].counterparty_account = Some("40817810000000000002".into());
        legs[1].counterparty_account = Some("40817810000000000001".into());
        assert_eq!(
            choose_pairs(&legs, &accounts, TransferWindow::default()),
            vec![(0, 1)]
        );
    }

    #[test]
    fn masked_numbers_match_by_their_visible_digits() {
        assert!(names_account("40817810****0002", "40817810000000000002"));
        assert!(!names_account("40817810****0003", "40817810000000000002"));
        assert!(!names_account("40702810****0002", "40817810000000000002"));
        assert!(names_account(
            "40817 810 0000 0000 0002",
            "40817810000000000002"
        ));
        assert!(!names_account("12", "40817810000000000002"));
    }
}
