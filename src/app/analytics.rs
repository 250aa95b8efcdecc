//! The admin's figures over time.

use chrono::Duration;

use crate::domain::time::Timestamp;
use crate::store::{DayActivity, Store};

use super::AppError;

/// The last `days` days (UTC) up to `now`'s, oldest first, each present (zeros where
/// nothing happened), so a chart has one bar per day.
pub async fn daily(
    store: &dyn Store,
    now: Timestamp,
    days: u32,
) -> Result<Vec<DayActivity>, AppError> {
    let first = now - Duration::days(i64::from(days.max(1)) - 1);
    let active = store.daily_activity(first).await?;
    let mut series = Vec::with_capacity(days as usize);
    let mut on = first.date_naive();
    while on <= now.date_naive() {
        let day = on.format("%Y-%m-%d").to_string();
        let entry = active
            .iter()
            .find(|a| a.day == day)
            .cloned()
            .unwrap_or(DayActivity {
                day,
                ..Default::default()
            });
        series.push(entry);
        match on.succ_opt() {
            Some(next) => on = next,
            None => break,
        }
    }
    Ok(series)
}
