//! Opaque cursors for connections, and page-size rules.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use crm_core::clients::{ClientCursor, ClientOrder, ClientPosition};
use crm_core::transactions::TransactionCursor;

use crate::error::{ApiError, ApiResult};

/// The largest `first` any connection accepts.
pub const MAX_PAGE_SIZE: i32 = 100;

pub fn page_size(first: Option<i32>, default: i32) -> ApiResult<u64> {
    let first = first.unwrap_or(default);
    if !(0..=MAX_PAGE_SIZE).contains(&first) {
        return Err(ApiError::bad_input(format!(
            "`first` must be between 0 and {MAX_PAGE_SIZE}"
        )));
    }
    Ok(first as u64)
}

fn decode(cursor: &str, prefix: &str) -> ApiResult<String> {
    let bad =
        || ApiError::bad_input("`after` is not a cursor from this list; use pageInfo.endCursor");
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    // No cursor of ours holds NUL (no stored text can); PostgreSQL refuses it as a parameter.
    if text.contains('\0') {
        return Err(bad());
    }
    text.strip_prefix(prefix).map(str::to_owned).ok_or_else(bad)
}

pub fn encode_client(c: &ClientCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("c1:{}:{}", c.id, c.name))
}

pub fn decode_client(cursor: &str) -> ApiResult<ClientCursor> {
    let rest = decode(cursor, "c1:")?;
    let (id, name) = rest
        .split_once(':')
        .ok_or_else(|| ApiError::bad_input("malformed client cursor"))?;
    let id = id
        .parse()
        .map_err(|_| ApiError::bad_input("malformed client cursor"))?;
    Ok(ClientCursor {
        id,
        name: name.to_owned(),
    })
}

/// A cursor of a client list in `order`: the name cursor for names, or the sort key, id and
/// name for the other orders (each order has its own prefix, so a cursor of one order is
/// refused by another).
pub fn encode_client_position(order: ClientOrder, p: &ClientPosition) -> String {
    let prefix = match order {
        ClientOrder::Name => {
            return encode_client(&ClientCursor {
                name: p.name.clone(),
                id: p.id,
            })
        }
        ClientOrder::ScoreDesc => "cs1",
        ClientOrder::BalanceDesc => "cb1",
    };
    URL_SAFE_NO_PAD.encode(format!("{prefix}:{}:{}:{}", p.key, p.id, p.name))
}

pub fn decode_client_position(order: ClientOrder, cursor: &str) -> ApiResult<ClientPosition> {
    let prefix = match order {
        ClientOrder::Name => {
            let c = decode_client(cursor)?;
            return Ok(ClientPosition {
                key: 0,
                name: c.name,
                id: c.id,
            });
        }
        ClientOrder::ScoreDesc => "cs1:",
        ClientOrder::BalanceDesc => "cb1:",
    };
    let rest = decode(cursor, prefix)?;
    let bad = || ApiError::bad_input("malformed client cursor");
    let mut parts = rest.splitn(3, ':');
    let key = parts.next().and_then(|k| k.parse().ok()).ok_or_else(bad)?;
    let id = parts.next().and_then(|i| i.parse().ok()).ok_or_else(bad)?;
    let name = parts.next().ok_or_else(bad)?.to_owned();
    Ok(ClientPosition { key, name, id })
}

pub fn encode_transaction(c: &TransactionCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("t1:{}:{}", c.id, c.booked_at.to_rfc3339()))
}

pub fn decode_transaction(cursor: &str) -> ApiResult<TransactionCursor> {
    let rest = decode(cursor, "t1:")?;
    let bad = || ApiError::bad_input("malformed transaction cursor");
    let (id, at) = rest.split_once(':').ok_or_else(bad)?;
    let id = id.parse().map_err(|_| bad())?;
    let booked_at = DateTime::parse_from_rfc3339(at)
        .map_err(|_| bad())?
        .with_timezone(&Utc);
    Ok(TransactionCursor { booked_at, id })
}

/// A cursor of a list ordered by a time and an id: `prefix`, the time in microseconds, the id.
fn encode_time_id(prefix: &str, at: DateTime<Utc>, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{prefix}{}:{id}", at.timestamp_micros()))
}

fn decode_time_id(cursor: &str, prefix: &str, what: &str) -> ApiResult<(DateTime<Utc>, i64)> {
    let rest = decode(cursor, prefix)?;
    let bad = || ApiError::bad_input(format!("malformed {what} cursor"));
    let (micros, id) = rest.split_once(':').ok_or_else(bad)?;
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    let at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(bad)?;
    Ok((at, id))
}

/// A timeline cursor: the entry's time and id.
pub fn encode_timeline(at: DateTime<Utc>, id: i64) -> String {
    encode_time_id("e1:", at, id)
}

pub fn decode_timeline(cursor: &str) -> ApiResult<(DateTime<Utc>, i64)> {
    decode_time_id(cursor, "e1:", "timeline")
}

/// A signal list's cursor: when the signal was raised, and its id.
pub fn encode_signal(at: DateTime<Utc>, id: i64) -> String {
    encode_time_id("g1:", at, id)
}

pub fn decode_signal(cursor: &str) -> ApiResult<(DateTime<Utc>, i64)> {
    decode_time_id(cursor, "g1:", "signal")
}

/// Parses a GraphQL `ID` of one of our rows.
pub fn parse_id(id: &async_graphql::ID, what: &str) -> ApiResult<i64> {
    id.as_str()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::bad_input(format!("{:?} is not a {what} id", id.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_cursors_round_trip_and_refuse_others() {
        let at = DateTime::<Utc>::from_timestamp_micros(1_765_000_000_123_456).expect("time");
        let c = encode_timeline(at, 42);
        assert_eq!(decode_timeline(&c).expect("decoded"), (at, 42));
        assert!(decode_timeline("bm9wZQ").is_err());
        let transaction = encode_transaction(&TransactionCursor {
            booked_at: at,
            id: 42,
        });
        assert!(decode_timeline(&transaction).is_err());
    }

    #[test]
    fn cursors_round_trip_and_reject_foreign_values() {
        let c = ClientCursor {
            name: "Иван: Петров".into(),
            id: 42,
        };
        assert_eq!(decode_client(&encode_client(&c)).ok(), Some(c));
        let t = TransactionCursor {
            booked_at: Utc::now(),
            id: 7,
        };
        assert_eq!(
            decode_transaction(&encode_transaction(&t)).ok(),
            Some(t.clone())
        );
        assert!(decode_client(&encode_transaction(&t)).is_err());
        assert!(decode_transaction("not base64!").is_err());
    }

    #[test]
    fn ordered_cursors_round_trip_and_stay_in_their_order() {
        let p = ClientPosition {
            key: -500_000,
            name: "ёлкин: пётр".into(),
            id: 9,
        };
        for order in [
            ClientOrder::Name,
            ClientOrder::ScoreDesc,
            ClientOrder::BalanceDesc,
        ] {
            let c = encode_client_position(order, &p);
            let back = decode_client_position(order, &c).expect("decodes");
            assert_eq!((back.name.as_str(), back.id), ("ёлкин: пётр", 9));
            if order != ClientOrder::Name {
                assert_eq!(back.key, -500_000);
            }
        }
        let score = encode_client_position(ClientOrder::ScoreDesc, &p);
        assert!(decode_client_position(ClientOrder::BalanceDesc, &score).is_err());
        assert!(decode_client_position(ClientOrder::Name, &score).is_err());
        let name = encode_client_position(ClientOrder::Name, &p);
        assert!(decode_client_position(ClientOrder::ScoreDesc, &name).is_err());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(page_size(None, 20).ok(), Some(20));
        assert!(page_size(Some(101), 20).is_err());
        assert!(page_size(Some(-1), 20).is_err());
    }
}
