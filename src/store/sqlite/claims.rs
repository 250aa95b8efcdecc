use rusqlite::{params, Connection, OptionalExtension};

use super::exec;
use super::{leads, outbox};
use crate::crypto::Vault;
use crate::domain::change::Change;
use crate::domain::claim;
use crate::domain::time::{now as wall_clock, parse_rfc3339, to_storage, Timestamp};
use crate::store::{LeadClaim, StoreError, StoreResult};

fn live_claim(conn: &Connection, lead_id: &str, now: Timestamp) -> StoreResult<Option<LeadClaim>> {
    Ok(claim_row(conn, lead_id)?.filter(|claim| claim.is_live(now)))
}

fn claim_row(conn: &Connection, lead_id: &str) -> StoreResult<Option<LeadClaim>> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT admin_id, expires_at FROM lead_claims WHERE lead_id = ?1",
            [lead_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(admin_id, expires_at)| {
        Ok(LeadClaim {
            lead_id: lead_id.to_string(),
            admin_id,
            expires_at: parse_rfc3339(&expires_at).ok_or_else(|| {
                StoreError::Backend(anyhow::anyhow!("bad claim expiry {expires_at:?}"))
            })?,
        })
    })
    .transpose()
}

/// Refuses a decision on a lead another admin holds.
pub fn check_not_claimed_by_other(
    tx: &Connection,
    lead_id: &str,
    admin_id: &str,
    now: Timestamp,
) -> StoreResult<()> {
    Ok(claim::check_free_for(
        claim_row(tx, lead_id)?.as_ref(),
        admin_id,
        now,
    )?)
}

pub fn clear(tx: &Connection, lead_id: &str) -> StoreResult<()> {
    exec(tx, "DELETE FROM lead_claims WHERE lead_id = ?1", [lead_id])?;
    Ok(())
}

pub fn claim_lead(
    tx: &Connection,
    vault: &Vault,
    lead_id: &str,
    admin_id: &str,
    now: Timestamp,
    ttl: chrono::Duration,
) -> StoreResult<LeadClaim> {
    let lead = leads::lead(tx, vault, lead_id)?.ok_or(StoreError::NotFound("lead"))?;
    claim::check_claimable(lead.status)?;
    check_not_claimed_by_other(tx, lead_id, admin_id, now)?;
    let expires_at = now + ttl;
    // Compare-and-set: take the row if free or expired, or renew our own.
    exec(
        tx,
        "INSERT INTO lead_claims (lead_id, admin_id, expires_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (lead_id) DO UPDATE SET admin_id = excluded.admin_id, expires_at = excluded.expires_at
         WHERE lead_claims.admin_id = excluded.admin_id OR lead_claims.expires_at <= ?4",
        params![lead_id, admin_id, to_storage(&expires_at), to_storage(&now)],
    )?;
    let claim = LeadClaim {
        lead_id: lead_id.to_string(),
        admin_id: admin_id.to_string(),
        expires_at,
    };
    let claimed = Change::LeadClaimed {
        claim: claim.clone(),
    };
    outbox::record(tx, vault, &claimed, now)?;
    Ok(claim)
}

pub fn release_claim(
    tx: &Connection,
    vault: &Vault,
    lead_id: &str,
    admin_id: &str,
) -> StoreResult<bool> {
    let removed = exec(
        tx,
        "DELETE FROM lead_claims WHERE lead_id = ?1 AND admin_id = ?2",
        params![lead_id, admin_id],
    )?;
    if removed > 0 {
        released(tx, vault, vec![lead_id.to_string()])?;
    }
    Ok(removed > 0)
}

/// Records that claims ended without a decision (none: nothing to record).
fn released(tx: &Connection, vault: &Vault, lead_ids: Vec<String>) -> StoreResult<Vec<String>> {
    if !lead_ids.is_empty() {
        let change = Change::ClaimsReleased {
            lead_ids: lead_ids.clone(),
        };
        outbox::record(tx, vault, &change, wall_clock())?;
    }
    Ok(lead_ids)
}

fn deleting(tx: &Connection, select: &str, delete: &str, arg: &str) -> StoreResult<Vec<String>> {
    let ids: Vec<String> = {
        let mut stmt = tx.prepare_cached(select)?;
        let ids = stmt
            .query_map([arg], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        ids
    };
    exec(tx, delete, [arg])?;
    Ok(ids)
}

pub fn release_claims_of(
    tx: &Connection,
    vault: &Vault,
    admin_id: &str,
) -> StoreResult<Vec<String>> {
    let ids = deleting(
        tx,
        "SELECT lead_id FROM lead_claims WHERE admin_id = ?1",
        "DELETE FROM lead_claims WHERE admin_id = ?1",
        admin_id,
    )?;
    released(tx, vault, ids)
}

pub fn expire_claims(tx: &Connection, vault: &Vault, now: Timestamp) -> StoreResult<Vec<String>> {
    let ids = deleting(
        tx,
        "SELECT lead_id FROM lead_claims WHERE expires_at <= ?1",
        "DELETE FROM lead_claims WHERE expires_at <= ?1",
        &to_storage(&now),
    )?;
    released(tx, vault, ids)
}

pub fn active_claims(conn: &Connection, now: Timestamp) -> StoreResult<Vec<LeadClaim>> {
    let mut stmt = conn.prepare_cached("SELECT lead_id FROM lead_claims WHERE expires_at > ?1")?;
    let ids: Vec<String> = stmt
        .query_map([to_storage(&now)], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    let mut claims = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(claim) = live_claim(conn, &id, now)? {
            claims.push(claim);
        }
    }
    Ok(claims)
}
