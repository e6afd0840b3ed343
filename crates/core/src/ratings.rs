//! Client ratings as stored: grade, score and the factors that explain them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use crate::domain::Grade;
use crate::entity::ratings;
use crate::error::{CoreError, CoreResult};
use crate::Core;

/// One reason behind a score: its measured value (as people read it) and its signed contribution
/// in score points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RatingFactor {
    pub name: String,
    pub value: String,
    pub impact: f64,
}

#[derive(Clone, Debug)]
pub struct Rating {
    pub client_id: i64,
    pub grade: Grade,
    /// 0 to 100.
    pub score: i32,
    pub factors: Vec<RatingFactor>,
    pub computed_at: DateTime<Utc>,
}

impl TryFrom<ratings::Model> for Rating {
    type Error = CoreError;
    fn try_from(m: ratings::Model) -> CoreResult<Self> {
        let factors = serde_json::from_str(&m.factors).map_err(|e| {
            CoreError::Internal(format!("rating factors of client {}: {e}", m.client_id))
        })?;
        Ok(Rating {
            client_id: m.client_id,
            grade: Grade::parse(&m.grade)?,
            score: m.score,
            factors,
            computed_at: m.computed_at,
        })
    }
}

impl Core {
    /// The ratings of several clients in one query; clients not rated yet are absent.
    pub async fn ratings_of_clients(&self, client_ids: &[i64]) -> CoreResult<HashMap<i64, Rating>> {
        let rows = ratings::Entity::find()
            .filter(ratings::Column::ClientId.is_in(client_ids.iter().copied()))
            .all(self.db.conn())
            .await?;
        rows.into_iter()
            .map(|m| Rating::try_from(m).map(|r| (r.client_id, r)))
            .collect()
    }
}
