//! Meeting briefs: what changed since the last contact, open work, products held elsewhere,
//! offers and talking points, written from exact figures.

use async_graphql::{Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use crm_core::brief::Brief;

use super::{Lang, MoneyObject};

/// The client's money in one currency at the brief's `since` and when it was written.
#[derive(SimpleObject, Clone, Debug)]
pub struct BriefBalance {
    pub then: MoneyObject,
    pub now: MoneyObject,
}

/// Spending (own transfers left out, base currency) in the brief's period and in as many days
/// before it.
#[derive(SimpleObject, Clone, Debug)]
pub struct BriefSpending {
    pub days: i64,
    pub period: MoneyObject,
    pub before: MoneyObject,
}

/// The client's grade at the brief's `since` (none: not rated then) and when it was written.
#[derive(SimpleObject, Clone, Debug)]
pub struct BriefRating {
    pub then: Option<String>,
    pub now: String,
    pub score: i32,
}

/// A meeting brief as generated and stored.
pub struct BriefObject(pub Brief);

#[Object(name = "Brief")]
impl BriefObject {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn client_id(&self) -> ID {
        ID(self.0.client_id.to_string())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The start of the period "what changed" covers: the latest note (call, meeting,
    /// e-mail, note) before the brief, or 30 days before it when there is none.
    async fn since(&self) -> DateTime<Utc> {
        self.0.since
    }

    /// The user who generated it (none once that user is deleted).
    async fn author(&self) -> Option<&str> {
        self.0.author_name.as_deref()
    }

    /// The language it is written in.
    async fn lang(&self) -> Lang {
        match self.0.lang {
            crm_core::domain::Lang::Ru => Lang::Ru,
            crm_core::domain::Lang::En => Lang::En,
        }
    }

    /// The brief as markdown.
    async fn text(&self) -> &str {
        &self.0.text
    }

    /// Whether the configured model reworded the analyst's text (with every figure kept).
    async fn polished(&self) -> bool {
        self.0.polished
    }

    /// The figures of "what changed", as the text says them: money per currency then and now.
    async fn balances(&self) -> Vec<BriefBalance> {
        self.0
            .content
            .balances
            .iter()
            .map(|b| BriefBalance {
                then: MoneyObject::from(&b.then()),
                now: MoneyObject::from(&b.now()),
            })
            .collect()
    }

    /// Spending in the period and before it.
    async fn spending(&self) -> BriefSpending {
        let s = &self.0.content.spending;
        BriefSpending {
            days: s.days,
            period: MoneyObject::from(&s.period()),
            before: MoneyObject::from(&s.before()),
        }
    }

    /// The grade then and now (none before the client's first rating).
    async fn rating(&self) -> Option<BriefRating> {
        self.0.content.rating.as_ref().map(|r| BriefRating {
            then: r.then_grade.clone(),
            now: r.now_grade.clone(),
            score: r.now_score,
        })
    }

    /// Open tasks of the client when the brief was written.
    async fn open_tasks(&self) -> u64 {
        self.0.content.open_tasks
    }

    /// Open signals of the client when the brief was written.
    async fn open_signals(&self) -> u64 {
        self.0.content.open_signals
    }

    /// The three talking points, as the analyst wrote them.
    async fn talking_points(&self) -> Vec<String> {
        crm_core::brief::talking_points(&self.0.content, self.0.lang)
    }

    /// Where the brief downloads as a PDF (same session).
    async fn pdf_url(&self) -> String {
        format!("/clients/{}/brief/{}.pdf", self.0.client_id, self.0.id)
    }
}
