use rusqlite::{params, Connection};

use super::exec;
use super::{rows, scan};
use crate::domain::audit::{AuditAction, AuditEntry, AuditFilter};
use crate::domain::ids;
use crate::domain::money::Paise;
use crate::domain::time::{to_storage, Timestamp};
use crate::store::cursor;
use crate::store::{Analytics, DayActivity, Page, PageRequest, StoreResult};

/// Appends an audit entry; called inside the transaction of the change it records.
pub fn append_audit(
    tx: &Connection,
    actor_id: &str,
    action: AuditAction,
    target_id: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> StoreResult<()> {
    exec(
        tx,
        "INSERT INTO audit_log (audit_id, actor_id, action, target_id, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            ids::new_id(ids::AUDIT),
            actor_id,
            action.as_str(),
            target_id,
            reason,
            to_storage(&now)
        ],
    )?;
    Ok(())
}

/// Newest first; the cursor is the log's sequence number.
/// Newest first; the cursor is the entry's `seq`. The filter is applied to each entry read.
pub fn audit_log(
    conn: &Connection,
    filter: &AuditFilter,
    page: &PageRequest,
) -> StoreResult<Page<AuditEntry>> {
    let mut after = cursor::sequence("audit", page.after.as_deref())?.unwrap_or(i64::MAX);
    let mut stmt = conn.prepare_cached(
        "SELECT audit_id, actor_id, action, target_id, reason, created_at, seq FROM audit_log
         WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let fetch = |n: usize| {
        let mut rows = stmt.query(params![after, n])?;
        let entries = rows::collect(&mut rows, |row| {
            Ok((row.get::<_, i64>("seq")?, rows::audit(row)?))
        })?;
        // Read newest first: past the window's start, nothing older can match.
        let entries: Vec<_> = entries
            .into_iter()
            .take_while(|(_, e)| filter.reaches_back_to(e.created_at))
            .collect();
        if let Some((seq, _)) = entries.last() {
            after = *seq;
        }
        Ok(entries)
    };
    let page = scan::filtered_page(
        page.limit,
        fetch,
        |(_, e)| filter.matches(e),
        |(seq, _)| format!("audit:{seq}"),
    )?;
    Ok(page.map(|(_, e)| e))
}

/// Days from `since`'s on: bookings by the lead's creation, verifications automatic (at
/// creation) or by an admin (the audit entry), purchases and revenue by the payment's
/// settlement.
pub fn daily_activity(conn: &Connection, since: &Timestamp) -> StoreResult<Vec<DayActivity>> {
    let since = since.format("%Y-%m-%d").to_string();
    let mut days: std::collections::BTreeMap<String, DayActivity> = Default::default();
    let mut tally = |sql: &str, add: fn(&mut DayActivity, i64, i64)| -> StoreResult<()> {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rows = stmt.query([&since])?;
        while let Some(row) = rows.next()? {
            let day: String = row.get(0)?;
            let entry = days.entry(day.clone()).or_insert_with(|| DayActivity {
                day,
                ..Default::default()
            });
            add(entry, row.get(1)?, row.get(2)?);
        }
        Ok(())
    };
    tally(
        "SELECT substr(created_at, 1, 10) AS d, COUNT(*), 0 FROM leads
         WHERE created_at >= ?1 GROUP BY d",
        |e, n, _| e.bookings += n,
    )?;
    tally(
        "SELECT substr(created_at, 1, 10) AS d, COUNT(*), 0 FROM leads
         WHERE created_at >= ?1 AND verification_status = 'AUTO_VERIFIED' GROUP BY d",
        |e, n, _| e.verified += n,
    )?;
    tally(
        "SELECT substr(created_at, 1, 10) AS d, COUNT(*), 0 FROM audit_log
         WHERE action = 'LEAD_VERIFIED' AND created_at >= ?1 GROUP BY d",
        |e, n, _| e.verified += n,
    )?;
    tally(
        "SELECT substr(updated_at, 1, 10) AS d, COUNT(*), COALESCE(SUM(amount_paise), 0)
         FROM payments WHERE status = 'COMPLETED' AND updated_at >= ?1 GROUP BY d",
        |e, n, paise| {
            e.purchases += n;
            e.revenue += Paise::new(paise).whole_rupees();
        },
    )?;
    Ok(days.into_values().collect())
}

pub fn analytics(conn: &Connection) -> StoreResult<Analytics> {
    let count = |sql: &str| -> StoreResult<i64> {
        Ok(conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?)
    };
    let revenue_paise =
        count("SELECT COALESCE(SUM(amount_paise), 0) FROM payments WHERE status = 'COMPLETED'")?;
    Ok(Analytics {
        total_users: count("SELECT COUNT(*) FROM users")?,
        total_learners: count("SELECT COUNT(*) FROM users WHERE role = 'USER'")?,
        total_mentors: count("SELECT COUNT(*) FROM mentors")?,
        total_events: count("SELECT COUNT(*) FROM events")?,
        total_leads: count("SELECT COUNT(*) FROM leads")?,
        verified_leads: count(
            "SELECT COUNT(*) FROM leads WHERE status IN ('VERIFIED', 'PURCHASED')",
        )?,
        purchased_leads: count("SELECT COUNT(*) FROM leads WHERE status = 'PURCHASED'")?,
        total_revenue: Paise::new(revenue_paise).whole_rupees(),
        pending_leads: count("SELECT COUNT(*) FROM leads WHERE status = 'PENDING'")?,
        pending_mentors: count(
            "SELECT COUNT(*) FROM mentors WHERE verification_status = 'PENDING'",
        )?,
        rejected_leads: count("SELECT COUNT(*) FROM leads WHERE status = 'REJECTED'")?,
        cancelled_leads: count("SELECT COUNT(*) FROM leads WHERE status = 'CANCELLED'")?,
    })
}
