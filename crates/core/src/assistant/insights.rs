//! The boundary to the insights engine (top merchants, recurring payments, the income profile,
//! insights, offers), which is built in parallel as `Core` methods of the same names. The
//! assistant reads them only through these functions, in its own small types, so plugging an
//! analysis in is: call the core method in the function's body, map the result, and add its
//! kind to [`AVAILABLE`]. Until then each function answers `Ok(None)` ("this build has no such
//! analysis"): the model is not offered the tool and the analyst says honestly what it lacks.

use chrono::{DateTime, Utc};

use crate::domain::{Currency, Money};
use crate::error::CoreResult;
use crate::Core;

/// The analyses of the insights engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    TopMerchants,
    RecurringPayments,
    IncomeProfile,
    Insights,
    Offers,
}

/// The analyses this build has. Add a kind when its function below calls core.
pub const AVAILABLE: &[Kind] = &[];

pub fn available(kind: Kind) -> bool {
    AVAILABLE.contains(&kind)
}

#[derive(Clone, Debug)]
pub struct MerchantFact {
    pub merchant: String,
    pub amount: Money,
    pub count: u64,
}

#[derive(Clone, Debug)]
pub struct RecurringFact {
    /// Merchant or payee as shown to the manager (bank text: scrub before sending out).
    pub name: String,
    pub amount: Money,
    /// `monthly`, `weekly`, … as people read it.
    pub period: String,
    pub last_at: DateTime<Utc>,
    pub next_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct IncomeFact {
    pub monthly_average: Money,
    /// Whether income arrives regularly, and the engine's words for it.
    pub regular: bool,
    pub summary: String,
}

#[derive(Clone, Debug)]
pub struct OfferFact {
    pub product: String,
    pub bank: Option<String>,
    /// Why this product fits the client, with the figures behind it.
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct InsightFact {
    pub title: String,
    pub detail: String,
}

pub async fn top_merchants(
    core: &Core,
    client_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    currency: &Currency,
    limit: u32,
) -> CoreResult<Option<Vec<MerchantFact>>> {
    // core.top_merchants(client_id, from, to, currency, limit), mapped to MerchantFact.
    let _ = (core, client_id, from, to, currency, limit);
    Ok(None)
}

pub async fn recurring_payments(
    core: &Core,
    client_id: i64,
    now: DateTime<Utc>,
) -> CoreResult<Option<Vec<RecurringFact>>> {
    // core.recurring_payments(client_id, now), mapped to RecurringFact.
    let _ = (core, client_id, now);
    Ok(None)
}

pub async fn income_profile(
    core: &Core,
    client_id: i64,
    now: DateTime<Utc>,
) -> CoreResult<Option<IncomeFact>> {
    // core.income_profile(client_id, now), mapped to IncomeFact.
    let _ = (core, client_id, now);
    Ok(None)
}

pub async fn insights(
    core: &Core,
    client_id: i64,
    now: DateTime<Utc>,
) -> CoreResult<Option<Vec<InsightFact>>> {
    // core.insights(client_id, now), mapped to InsightFact.
    let _ = (core, client_id, now);
    Ok(None)
}

pub async fn offers(
    core: &Core,
    client_id: i64,
    now: DateTime<Utc>,
) -> CoreResult<Option<Vec<OfferFact>>> {
    // core.offers(client_id, now), mapped to OfferFact.
    let _ = (core, client_id, now);
    Ok(None)
}
