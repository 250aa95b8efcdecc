//! The transactional outbox: changes are written by the same transaction as what they
//! describe, so a change is recorded exactly when it commits. The relay reads them in `seq`
//! order under a lease and prunes what it delivered.

use rusqlite::{params, Connection, OptionalExtension};

use super::exec;
use crate::crypto::Vault;
use crate::domain::change::{Change, ChangeRecord, CHANGE};
use crate::domain::ids;
use crate::domain::time::{from_storage, to_storage, Timestamp};
use crate::store::{sealed, unreadable_change, OutboxPage, StoreError, StoreResult};

/// The realtime relay's row in `relay` (later consumers get rows of their own).
const RELAY: &str = "realtime";

/// Records `change` in the caller's transaction. The payload is sealed: it holds contacts.
pub fn record(tx: &Connection, vault: &Vault, change: &Change, now: Timestamp) -> StoreResult<()> {
    let change_id = ids::new_id(CHANGE);
    exec(
        tx,
        "INSERT INTO outbox (change_id, kind, aggregate, payload, occurred_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            change_id,
            change.kind(),
            change.aggregate(),
            sealed::seal(vault, &change_id, change)?,
            to_storage(&now)
        ],
    )?;
    Ok(())
}

pub fn changes_after(
    conn: &Connection,
    vault: &Vault,
    after: i64,
    limit: usize,
) -> StoreResult<OutboxPage> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, change_id, payload, occurred_at FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![after, limit as i64])?;
    let mut found = Vec::new();
    let mut cursor = after;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let change_id: String = row.get(1)?;
        let payload: Vec<u8> = row.get(2)?;
        let occurred: String = row.get(3)?;
        cursor = seq;
        let read = sealed::open(vault, &payload, "payload", &change_id).and_then(|change| {
            let occurred_at = from_storage(&occurred).ok_or_else(|| {
                StoreError::Backend(anyhow::anyhow!("outbox time unreadable: {occurred:?}"))
            })?;
            Ok((change, occurred_at))
        });
        match read {
            Ok((change, occurred_at)) => found.push(ChangeRecord {
                seq,
                change_id,
                occurred_at,
                change,
            }),
            Err(e) => unreadable_change(seq, &change_id, &e),
        }
    }
    Ok(OutboxPage {
        changes: found,
        cursor,
    })
}

/// Takes the lease if it is free or expired, or renews the holder's own; answers the last
/// `seq` delivered while held, `None` while another holder's lease runs.
pub fn take_lease(
    tx: &Connection,
    holder: &str,
    now: Timestamp,
    until: Timestamp,
) -> StoreResult<Option<i64>> {
    exec(
        tx,
        "INSERT INTO relay (name, holder, lease_until, delivered) VALUES (?1, ?2, ?3, 0)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
         WHERE relay.holder = excluded.holder OR relay.lease_until <= ?4",
        params![RELAY, holder, to_storage(&until), to_storage(&now)],
    )?;
    let delivered = tx
        .query_row(
            "SELECT delivered FROM relay WHERE name = ?1 AND holder = ?2",
            params![RELAY, holder],
            |r| r.get(0),
        )
        .optional()?;
    Ok(delivered)
}

/// Moves the cursor to `seq` and prunes the changes delivered, if `holder` still holds
/// the lease (a holder that lost it must not move a cursor another node owns now) and the
/// cursor does not move back (an equal one is a repeat of a write that went through).
pub fn delivered(tx: &Connection, holder: &str, seq: i64) -> StoreResult<bool> {
    let moved = exec(
        tx,
        "UPDATE relay SET delivered = ?3 WHERE name = ?1 AND holder = ?2 AND delivered <= ?3",
        params![RELAY, holder, seq],
    )?;
    if moved > 0 {
        exec(tx, "DELETE FROM outbox WHERE seq <= ?1", [seq])?;
    }
    Ok(moved > 0)
}
