//! The demo's moments (`SandboxConfig::scenarios`): what a relationship manager acts on, placed
//! on chosen people after the world is laid out, so each kind of signal shows at least once.
//!
//! | moment | whom | what |
//! |---|---|---|
//! | deposit maturing | the first deposit of the world | ends 12 days after the anchor |
//! | loan ending | the first loan agreement | ends 21 days after the anchor |
//! | salary moved | the first salaried person with a card account at another bank | the last two salaries arrive there |
//! | salary stopped | the next salaried person | the salary due at least six days before the anchor never came |
//! | large inflow | the next salaried person | the sale of a flat, nine days before the anchor |
//! | consent expiring | the first bank's first member with no other moment | its consents last six days |
//!
//! A moment only moves money where it says; balances at the anchor are kept (an account that
//! receives the moved salaries or the inflow holds them).

use chrono::{Datelike, Duration, Months, NaiveDate};

use crate::world::{ts, AccountKind, Income, Role, World};

const DAY: i64 = 86_400;

/// One person's moments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scenario {
    /// Salaries (and advances) due at or after this moment are not paid.
    pub salary_stops_at: Option<i64>,
    /// From this moment on the salary arrives at this bank's card account (bank index, account
    /// index there) instead.
    pub salary_moves: Option<(usize, usize, i64)>,
    /// A one-off credit on the salary account: (moment, minor units).
    pub windfall: Option<(i64, i64)>,
}

/// The latest date on `day` of a month (clamped to its length) at or before `before`.
fn last_on_day(before: NaiveDate, day: u32) -> Option<NaiveDate> {
    (0..3).find_map(|back| {
        let month = before.with_day(1)?.checked_sub_months(Months::new(back))?;
        let last = crate::world::month_days(month);
        let date = month.with_day(day.clamp(1, last))?;
        (date <= before).then_some(date)
    })
}

/// Places the moments on the world (see the module docs).
pub(crate) fn apply(world: &mut World) {
    let anchor = world.anchor.date_naive();
    let end = world.anchor.timestamp();
    // Agreements: a deposit maturing and a loan ending soon.
    let mut deposit_done = false;
    let mut loan_done = false;
    for bank in &mut world.banks {
        for a in &mut bank.accounts {
            let Some(g) = a.agreement.as_mut() else {
                continue;
            };
            if g.kind == "deposit" && !deposit_done && g.start < end {
                g.end = Some(ts(anchor + Duration::days(12), 10, 0, 0));
                deposit_done = true;
            } else if g.kind == "loan" && !loan_done && g.start < end {
                g.end = Some(ts(anchor + Duration::days(21), 9, 0, 0));
                loan_done = true;
            }
        }
    }

    let salaried: Vec<usize> = (0..world.persons.len())
        .filter(|&p| {
            matches!(world.persons[p].plan.income, Income::Salary { .. })
                && world.banks.iter().any(|b| {
                    b.by_client
                        .get(&world.persons[p].id)
                        .is_some_and(|ids| ids.iter().any(|&i| b.accounts[i].role == Role::Salary))
                })
        })
        .collect();
    let mut taken: Vec<usize> = Vec::new();

    // The salary moved: to the person's card account at another bank, for the last two months.
    let mover = salaried.iter().copied().find_map(|p| {
        let person = &world.persons[p];
        person.banks.iter().skip(1).find_map(|&b| {
            let bank = &world.banks[b];
            let ids = bank.by_client.get(&person.id)?;
            let i = ids.iter().copied().find(|&i| {
                let a = &bank.accounts[i];
                a.kind == AccountKind::Checking
                    && a.role == Role::Secondary
                    && a.start < end - 200 * DAY
            })?;
            Some((p, b, i))
        })
    });
    if let Some((p, b, i)) = mover {
        if let Income::Salary { amount, day, .. } = world.persons[p].plan.income {
            if let Some(last) = last_on_day(anchor - Duration::days(1), day) {
                if let Some(from) = last.checked_sub_months(Months::new(1)) {
                    let from = ts(from, 0, 0, 0);
                    world.persons[p].scenario.salary_moves = Some((b, i, from));
                    // The card account holds the two salaries at the anchor.
                    world.banks[b].accounts[i].target_balance += 2 * amount;
                    taken.push(p);
                }
            }
        }
    }

    // The salary stopped: the one due at least six days ago never came.
    if let Some(p) = salaried.iter().copied().find(|p| !taken.contains(p)) {
        if let Income::Salary { day, .. } = world.persons[p].plan.income {
            if let Some(due) = last_on_day(anchor - Duration::days(6), day) {
                world.persons[p].scenario.salary_stops_at = Some(ts(due, 0, 0, 0));
                taken.push(p);
            }
        }
    }

    // A large inflow: the sale of a flat, nine days before the anchor, on the salary account.
    if let Some(p) = salaried.iter().copied().find(|p| !taken.contains(p)) {
        let monthly = match world.persons[p].plan.income {
            Income::Salary { amount, .. } => amount,
            _ => 0,
        };
        // Ten months of salary, at least 3.5 million roubles, in whole hundred thousands.
        const FLOOR: i64 = 350_000_000;
        const STEP: i64 = 10_000_000;
        let amount = (monthly * 10).max(FLOOR) / STEP * STEP;
        let at = ts(anchor - Duration::days(9), 13, 20, 0);
        world.persons[p].scenario.windfall = Some((at, amount));
        let id = world.persons[p].id.clone();
        for bank in &mut world.banks {
            let Some(ids) = bank.by_client.get(&id).cloned() else {
                continue;
            };
            for i in ids {
                if bank.accounts[i].role == Role::Salary {
                    bank.accounts[i].target_balance += amount;
                }
            }
        }
        taken.push(p);
    }

    // A consent about to expire: the first bank's first member with no other moment.
    if let Some(bank) = world.banks.first_mut() {
        let newcomer = bank.newcomer;
        let chosen = bank
            .members
            .iter()
            .copied()
            .find(|p| !taken.contains(p) && Some(*p) != newcomer);
        bank.short_consent = chosen.map(|p| world.persons[p].id.clone());
    }
}

/// Whether the salary due at `at` is paid into the salary account (not stopped, not moved).
pub(crate) fn salary_paid_at_home(s: &Scenario, at: i64) -> bool {
    s.salary_stops_at.is_none_or(|from| at < from)
        && s.salary_moves.is_none_or(|(_, _, from)| at < from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SandboxConfig;

    #[test]
    fn the_moments_fall_on_distinct_people_and_only_with_scenarios_on() {
        let plain = World::generate(&SandboxConfig::default());
        assert!(plain
            .persons
            .iter()
            .all(|p| p.scenario == Scenario::default()));
        assert!(plain.banks.iter().all(|b| b.short_consent.is_none()));

        let w = World::generate(&SandboxConfig::default().with_scenarios(true));
        let with: Vec<&Scenario> = w
            .persons
            .iter()
            .map(|p| &p.scenario)
            .filter(|s| **s != Scenario::default())
            .collect();
        assert_eq!(with.len(), 3, "moved, stopped, windfall: {with:?}");
        assert!(w.banks[0].short_consent.is_some());
        let end = w.anchor.timestamp();
        let soon = |kind: &str| {
            w.banks.iter().flat_map(|b| &b.accounts).any(|a| {
                a.agreement.as_ref().is_some_and(|g| {
                    g.kind == kind && g.end.is_some_and(|e| e > end && e < end + 30 * DAY)
                })
            })
        };
        assert!(soon("deposit") && soon("loan"));
        // The plain world's accounts are untouched by the option's existence.
        let again = World::generate(&SandboxConfig::default());
        for (a, b) in plain.banks.iter().zip(&again.banks) {
            for (x, y) in a.accounts.iter().zip(&b.accounts) {
                assert_eq!(
                    (x.id.as_str(), x.target_balance),
                    (y.id.as_str(), y.target_balance)
                );
            }
        }
    }

    #[test]
    fn the_last_date_on_a_day_is_found_in_short_months() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        assert_eq!(last_on_day(d(2026, 12, 7), 5), Some(d(2026, 12, 5)));
        assert_eq!(last_on_day(d(2026, 12, 7), 20), Some(d(2026, 11, 20)));
        assert_eq!(last_on_day(d(2026, 3, 2), 31), Some(d(2026, 2, 28)));
    }
}
