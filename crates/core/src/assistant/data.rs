//! What the assistant may read: one trait, [`ClientData`], listing every figure and record its
//! analyst, tools and context use. The assistant is given it ([`super::Assistant::ask`]) and
//! reaches nothing else of the application, so what an answer can contain is decided here.
//! `Core` implements it with its analytics and owners' read functions; a test can implement it
//! with fixed data.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::accounts::Account;
use crate::analytics::{CategorySpend, IncomeProfile, MerchantSpend, MonthFlow, RecurringPayment};
use crate::auth::Actor;
use crate::clients::Client;
use crate::domain::Currency;
use crate::error::CoreResult;
use crate::insights::Insight;
use crate::links::BankLink;
use crate::offers::{Offer, Product};
use crate::ratings::Rating;
use crate::stats::Stats;
use crate::transactions::{Transaction, TransactionFilter, TransactionTotal};
use crate::Page;

/// The read API of the assistant.
#[async_trait]
pub trait ClientData: Send + Sync {
    /// The currency figures are reported in.
    fn base_currency(&self) -> Currency;
    /// A bank's display name.
    fn bank_name(&self, code: &str) -> String;

    /// The client `id` if `actor` may read it (`NOT_FOUND` outside their book).
    async fn client(&self, actor: &Actor, id: i64) -> CoreResult<Client>;
    async fn accounts_of_clients(&self, ids: &[i64]) -> CoreResult<HashMap<i64, Vec<Account>>>;
    async fn links_of_clients(&self, ids: &[i64]) -> CoreResult<HashMap<i64, Vec<BankLink>>>;
    async fn ratings_of_clients(&self, ids: &[i64]) -> CoreResult<HashMap<i64, Rating>>;
    /// The client's account numbers and bank client ids: what the redactor removes from text
    /// that leaves for a model.
    async fn identifiers(&self, client_id: i64) -> CoreResult<(Vec<String>, Vec<String>)>;

    async fn spending_by_category(
        &self,
        client_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: &Currency,
    ) -> CoreResult<Vec<CategorySpend>>;
    async fn cashflow(
        &self,
        client_id: i64,
        months: u32,
        currency: &Currency,
        now: DateTime<Utc>,
    ) -> CoreResult<Vec<MonthFlow>>;
    async fn top_merchants(
        &self,
        client_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: &Currency,
        limit: u32,
    ) -> CoreResult<Vec<MerchantSpend>>;
    async fn top_merchants_without_counterparties(
        &self,
        client_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: &Currency,
        limit: u32,
    ) -> CoreResult<Vec<MerchantSpend>>;
    async fn recurring_payments(
        &self,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> CoreResult<Vec<RecurringPayment>>;
    async fn income_profile(&self, client_id: i64, now: DateTime<Utc>)
        -> CoreResult<IncomeProfile>;
    async fn insights(&self, client_id: i64, now: DateTime<Utc>) -> CoreResult<Vec<Insight>>;
    async fn offers(&self, client_id: i64, now: DateTime<Utc>) -> CoreResult<Vec<Offer>>;
    /// The products of `banks` (every bank when empty), of one type when given.
    async fn products_of_banks(
        &self,
        banks: &[String],
        product_type: Option<&str>,
        limit: u64,
    ) -> CoreResult<Vec<Product>>;

    async fn list_transactions(
        &self,
        client_id: i64,
        filter: &TransactionFilter,
        first: u64,
    ) -> CoreResult<Page<Transaction>>;
    async fn count_transactions(
        &self,
        client_id: i64,
        filter: &TransactionFilter,
    ) -> CoreResult<u64>;
    async fn transaction_totals(
        &self,
        client_id: i64,
        filter: &TransactionFilter,
    ) -> CoreResult<Vec<TransactionTotal>>;

    /// The figures of `actor`'s book (the portfolio for an administrator).
    async fn stats(&self, actor: &Actor) -> CoreResult<Stats>;

    /// The client's latest notes (newest first, `limit` at most) and open tasks (soonest due
    /// first): the manager's own record, which the assistant may read.
    async fn manager_record(
        &self,
        client_id: i64,
        limit: u64,
    ) -> CoreResult<(Vec<crate::notes::Note>, Vec<crate::tasks::Task>)>;
}

#[async_trait]
impl ClientData for crate::Core {
    fn base_currency(&self) -> Currency {
        self.settings().base_currency.clone()
    }

    fn bank_name(&self, code: &str) -> String {
        self.banks().describe(code).name
    }

    async fn client(&self, actor: &Actor, id: i64) -> CoreResult<Client> {
        self.client_for(actor, id, crate::access::Need::Read).await
    }

    async fn manager_record(
        &self,
        client_id: i64,
        limit: u64,
    ) -> CoreResult<(Vec<crate::notes::Note>, Vec<crate::tasks::Task>)> {
        crate::Core::manager_record(self, client_id, limit).await
    }

    async fn accounts_of_clients(&self, ids: &[i64]) -> CoreResult<HashMap<i64, Vec<Account>>> {
        crate::Core::accounts_of_clients(self, ids).await
    }

    async fn links_of_clients(&self, ids: &[i64]) -> CoreResult<HashMap<i64, Vec<BankLink>>> {
        crate::links::of_clients(self.db().conn(), ids).await
    }

    async fn ratings_of_clients(&self, ids: &[i64]) -> CoreResult<HashMap<i64, Rating>> {
        crate::Core::ratings_of_clients(self, ids).await
    }

    async fn identifiers(&self, client_id: i64) -> CoreResult<(Vec<String>, Vec<String>)> {
        let conn = self.db().conn();
        futures_util::try_join!(
            crate::accounts::numbers_of_client(conn, client_id),
            crate::links::external_ids_of_client(conn, client_id),
        )
    }

    async fn spending_by_category(
        &self,
        client_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: &Currency,
    ) -> CoreResult<Vec<CategorySpend>> {
        crate::Core::spending_by_category(self, client_id, from, to, currency).await
    }

    async fn cashflow(
        &self,
        client_id: i64,
        months: u32,
        currency: &Currency,
        now: DateTime<Utc>,
    ) -> CoreResult<Vec<MonthFlow>> {
        crate::Core::cashflow(self, client_id, months, currency, now).await
    }

    async fn top_merchants(
        &self,
        client_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: &Currency,
        limit: u32,
    ) -> CoreResult<Vec<MerchantSpend>> {
        crate::Core::top_merchants(self, client_id, from, to, currency, limit).await
    }

    async fn top_merchants_without_counterparties(
        &self,
        client_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        currency: &Currency,
        limit: u32,
    ) -> CoreResult<Vec<MerchantSpend>> {
        crate::Core::top_merchants_without_counterparties(
            self, client_id, from, to, currency, limit,
        )
        .await
    }

    async fn recurring_payments(
        &self,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> CoreResult<Vec<RecurringPayment>> {
        crate::Core::recurring_payments(self, client_id, now).await
    }

    async fn income_profile(
        &self,
        client_id: i64,
        now: DateTime<Utc>,
    ) -> CoreResult<IncomeProfile> {
        crate::Core::income_profile(self, client_id, now).await
    }

    async fn insights(&self, client_id: i64, now: DateTime<Utc>) -> CoreResult<Vec<Insight>> {
        crate::Core::insights(self, client_id, now).await
    }

    async fn offers(&self, client_id: i64, now: DateTime<Utc>) -> CoreResult<Vec<Offer>> {
        crate::Core::offers(self, client_id, now).await
    }

    async fn products_of_banks(
        &self,
        banks: &[String],
        product_type: Option<&str>,
        limit: u64,
    ) -> CoreResult<Vec<Product>> {
        crate::offers::products_of_banks(
            self.db().conn(),
            &self.settings().base_currency,
            banks,
            product_type,
            limit,
        )
        .await
    }

    async fn list_transactions(
        &self,
        client_id: i64,
        filter: &TransactionFilter,
        first: u64,
    ) -> CoreResult<Page<Transaction>> {
        crate::Core::list_transactions(self, client_id, filter, first, None).await
    }

    async fn count_transactions(
        &self,
        client_id: i64,
        filter: &TransactionFilter,
    ) -> CoreResult<u64> {
        crate::Core::count_transactions(self, client_id, filter).await
    }

    async fn transaction_totals(
        &self,
        client_id: i64,
        filter: &TransactionFilter,
    ) -> CoreResult<Vec<TransactionTotal>> {
        crate::Core::transaction_totals(self, client_id, filter).await
    }

    async fn stats(&self, actor: &Actor) -> CoreResult<Stats> {
        crate::Core::stats(self, actor).await
    }
}
