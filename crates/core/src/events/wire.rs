//! The JSON an event travels in between replicas: `{"origin": …, "kind": …, ids and counters}`.
//! Nothing else goes on the wire — no names, texts or error messages — so no personal data
//! reaches other connections of the database, and a payload stays far below `NOTIFY`'s limit.
//! What a receiving replica needs beyond that it reads from the database (a finished run).

use serde::{Deserialize, Serialize};

use super::Event;
use crate::domain::SyncEvent;

/// Longest bank code carried (codes are short registry identifiers).
const MAX_CODE: usize = 32;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Envelope {
    /// The publishing process (a random id per process).
    pub(super) origin: String,
    #[serde(flatten)]
    pub(super) body: Wire,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Wire {
    SyncStarted {
        run_id: i64,
        links: u32,
    },
    SyncLinkDone {
        run_id: i64,
        /// The registry's code of the bank (an identifier, not a name).
        bank: String,
        client_id: i64,
        added: u32,
        updated: u32,
        unchanged: u32,
        /// The link reported a failure or why it was not synced; the text stays on the replica
        /// that ran it (and in the run's errors).
        noted: bool,
    },
    /// The receiver reads the recorded run.
    SyncFinished {
        run_id: i64,
    },
    SessionsEnded {
        user_id: i64,
    },
    RecategorisationFinished {
        run_id: i64,
    },
    Timeline {
        client_id: i64,
    },
    TaskChanged {
        task_id: i64,
        assignee_id: Option<i64>,
        previous_assignee_id: Option<i64>,
    },
    SignalRaised {
        signal_id: i64,
        client_id: i64,
    },
    /// Data changed.
    Writes,
}

/// What a replica shows for a link whose note stayed on the replica that synced it.
pub(super) const REMOTE_NOTE: &str = "reported by another replica: see the run's errors";

impl Envelope {
    pub(super) fn new(origin: uuid::Uuid, event: &Event) -> Envelope {
        let body = match event {
            Event::Sync(SyncEvent::Started { run_id, links }) => Wire::SyncStarted {
                run_id: *run_id,
                links: *links,
            },
            Event::Sync(SyncEvent::LinkDone {
                run_id,
                bank,
                client_id,
                added,
                updated,
                unchanged,
                error,
            }) => Wire::SyncLinkDone {
                run_id: *run_id,
                bank: code(bank),
                client_id: *client_id,
                added: *added,
                updated: *updated,
                unchanged: *unchanged,
                noted: error.is_some(),
            },
            Event::Sync(SyncEvent::Finished(run)) => Wire::SyncFinished { run_id: run.id },
            Event::SessionsEnded { user_id } => Wire::SessionsEnded { user_id: *user_id },
            Event::RecategorisationFinished { run_id } => {
                Wire::RecategorisationFinished { run_id: *run_id }
            }
            Event::Timeline { client_id } => Wire::Timeline {
                client_id: *client_id,
            },
            Event::TaskChanged {
                task_id,
                assignee_id,
                previous_assignee_id,
            } => Wire::TaskChanged {
                task_id: *task_id,
                assignee_id: *assignee_id,
                previous_assignee_id: *previous_assignee_id,
            },
            Event::SignalRaised {
                signal_id,
                client_id,
            } => Wire::SignalRaised {
                signal_id: *signal_id,
                client_id: *client_id,
            },
        };
        Envelope::with(origin, body)
    }

    pub(super) fn with(origin: uuid::Uuid, body: Wire) -> Envelope {
        Envelope {
            origin: origin.simple().to_string(),
            body,
        }
    }

    pub(super) fn to_payload(&self) -> String {
        // Serialising plain integers, booleans and strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `None` for anything this version does not understand (a newer replica's kind of event).
    pub(super) fn parse(payload: &str) -> Option<Envelope> {
        let mut envelope: Envelope = serde_json::from_str(payload).ok()?;
        if let Wire::SyncLinkDone { bank, .. } = &mut envelope.body {
            *bank = code(bank);
        }
        Some(envelope)
    }

    pub(super) fn is_from(&self, origin: uuid::Uuid) -> bool {
        self.origin == origin.simple().to_string()
    }
}

/// A bank code as carried: identifier characters only, bounded.
fn code(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(MAX_CODE)
        .collect()
}

impl Wire {
    /// The local event, for every kind that needs nothing from the database.
    pub(super) fn into_event(self) -> Option<Event> {
        Some(match self {
            Wire::SyncStarted { run_id, links } => {
                Event::Sync(SyncEvent::Started { run_id, links })
            }
            Wire::SyncLinkDone {
                run_id,
                bank,
                client_id,
                added,
                updated,
                unchanged,
                noted,
            } => Event::Sync(SyncEvent::LinkDone {
                run_id,
                bank,
                client_id,
                added,
                updated,
                unchanged,
                error: noted.then(|| REMOTE_NOTE.to_owned()),
            }),
            Wire::SessionsEnded { user_id } => Event::SessionsEnded { user_id },
            Wire::RecategorisationFinished { run_id } => Event::RecategorisationFinished { run_id },
            Wire::Timeline { client_id } => Event::Timeline { client_id },
            Wire::TaskChanged {
                task_id,
                assignee_id,
                previous_assignee_id,
            } => Event::TaskChanged {
                task_id,
                assignee_id,
                previous_assignee_id,
            },
            Wire::SignalRaised {
                signal_id,
                client_id,
            } => Event::SignalRaised {
                signal_id,
                client_id,
            },
            Wire::SyncFinished { .. } | Wire::Writes => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{SyncRunStatus, SyncRunSummary, SyncTrigger};

    fn events() -> Vec<Event> {
        let personal = "Иванов Иван Иванович, счёт 40817810099910004312, ivanov@example.ru";
        vec![
            Event::Sync(SyncEvent::Started {
                run_id: 7,
                links: 3,
            }),
            Event::Sync(SyncEvent::LinkDone {
                run_id: 7,
                bank: "vbank".into(),
                client_id: 12,
                added: 5,
                updated: 1,
                unchanged: 40,
                error: Some(personal.into()),
            }),
            Event::Sync(SyncEvent::Finished(SyncRunSummary {
                id: 7,
                trigger: SyncTrigger::Manual,
                bank: Some("vbank".into()),
                client_id: Some(12),
                status: SyncRunStatus::Partial,
                started_at: chrono::Utc::now(),
                finished_at: Some(chrono::Utc::now()),
                accounts: 2,
                added: 5,
                updated: 1,
                unchanged: 40,
                errors: vec![personal.into()],
                message: Some(personal.into()),
            })),
            Event::SessionsEnded { user_id: 3 },
            Event::RecategorisationFinished { run_id: 9 },
            Event::Timeline { client_id: 12 },
            Event::TaskChanged {
                task_id: 4,
                assignee_id: Some(3),
                previous_assignee_id: None,
            },
            Event::SignalRaised {
                signal_id: 8,
                client_id: 12,
            },
        ]
    }

    /// The invariant: payloads carry ids and counters only. Every field of every kind is a
    /// number or a boolean, but the origin, the kind and a bank's code; texts (error messages,
    /// run messages, which may name people or accounts) never travel.
    #[test]
    fn payloads_carry_ids_and_counters_only() {
        let origin = uuid::Uuid::new_v4();
        let mut payloads: Vec<String> = events()
            .iter()
            .map(|e| Envelope::new(origin, e).to_payload())
            .collect();
        payloads.push(Envelope::with(origin, Wire::Writes).to_payload());
        for payload in payloads {
            assert!(payload.len() < 256, "{payload}");
            for needle in ["Иван", "40817", "@", "счёт"] {
                assert!(!payload.contains(needle), "{payload}");
            }
            let value: serde_json::Value = serde_json::from_str(&payload).expect("json");
            let fields = value.as_object().expect("an object");
            for (name, v) in fields {
                match name.as_str() {
                    "origin" | "kind" => assert!(v.is_string()),
                    "bank" => {
                        assert!(v
                            .as_str()
                            .is_some_and(|c| c.len() <= MAX_CODE
                                && c.chars().all(|c| c.is_ascii_alphanumeric())))
                    }
                    _ => assert!(
                        v.is_number() || v.is_boolean() || v.is_null(),
                        "{name} in {payload}"
                    ),
                }
            }
        }
    }

    #[test]
    fn envelopes_round_trip_and_know_their_origin() {
        let origin = uuid::Uuid::new_v4();
        for event in events() {
            let sent = Envelope::new(origin, &event);
            let got = Envelope::parse(&sent.to_payload()).expect("parsed");
            assert_eq!(got, sent);
            assert!(got.is_from(origin));
            assert!(!got.is_from(uuid::Uuid::new_v4()));
        }
        let link = Envelope::new(origin, &events()[1]).body.into_event();
        match link {
            Some(Event::Sync(SyncEvent::LinkDone { error, bank, .. })) => {
                assert_eq!(error.as_deref(), Some(REMOTE_NOTE));
                assert_eq!(bank, "vbank");
            }
            other => panic!("{other:?}"),
        }
        // Unknown kinds (a newer replica) and junk are ignored, not errors.
        assert!(Envelope::parse(r#"{"origin":"x","kind":"later_kind","n":1}"#).is_none());
        assert!(Envelope::parse("not json").is_none());
        let hostile = r#"{"origin":"x","kind":"sync_link_done","run_id":1,"bank":"<b>Иван</b>","client_id":1,"added":0,"updated":0,"unchanged":0,"noted":false}"#;
        match Envelope::parse(hostile).map(|e| e.body) {
            Some(Wire::SyncLinkDone { bank, .. }) => assert_eq!(bank, "bb"),
            other => panic!("{other:?}"),
        }
    }
}
