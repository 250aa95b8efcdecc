//! Listings that span time: walk a listing's day partitions in order (the days come from
//! `listing_days`), read keys after a cursor position, and check each key against its row.
//! A walk examines at most [`SCAN_BUDGET`] keys per page: a filter the tables cannot
//! answer (the events' free-text `q`) may return a short page with a cursor to continue.

use futures_util::future::{join_all, BoxFuture};
use scylla::deserialize::row::DeserializeRow;

use super::cql;
use super::exec::Values;
use super::ScyllaStore;
use crate::store::{cursor, Page, PageRequest, StoreResult};

/// Keys one page may examine at most.
pub const SCAN_BUDGET: usize = 1000;
/// Sorts after every stored timestamp (a position before the newest row of a day).
const END: &str = "\u{10FFFF}";
/// Days before every stored one and after.
const FIRST_DAY: &str = "0000-00-00";
const LAST_DAY: &str = "9999-99-99";

/// A row's position: its timestamp (storage form) and id.
pub type Key = (String, String);

/// A row read from a day partition, which knows its position.
pub trait Positioned {
    fn key(&self) -> Key;
}

impl Positioned for Key {
    fn key(&self) -> Key {
        self.clone()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Oldest,
    Newest,
}

/// One listing: its day partitions and the statement that reads one day's rows, bound as
/// `[prefix,] day, timestamp, id, limit`, in `order` (keys `(timestamp, id)`, or whole rows).
pub struct Walk {
    /// The `listing_days` partition; `None` when the rows live in one partition (bound as
    /// `[prefix,] timestamp, id, limit`).
    pub listing: Option<String>,
    pub keys: &'static str,
    pub prefix: Option<String>,
    pub order: Order,
    /// Inclusive day bounds.
    pub from_day: Option<String>,
    pub to_day: Option<String>,
}

impl Walk {
    /// A listing over all its day partitions (`[prefix,]` names the partition family).
    pub fn daily(
        listing: String,
        keys: &'static str,
        prefix: Option<String>,
        order: Order,
    ) -> Self {
        Self {
            listing: Some(listing),
            keys,
            prefix,
            order,
            from_day: None,
            to_day: None,
        }
    }
}

/// The day partition of a timestamp in storage form.
pub fn day(timestamp: &str) -> String {
    timestamp.get(..10).unwrap_or(timestamp).to_string()
}

impl ScyllaStore {
    async fn days(&self, walk: &Walk) -> StoreResult<Vec<Option<String>>> {
        let Some(listing) = &walk.listing else {
            return Ok(vec![None]);
        };
        let statement = match walk.order {
            Order::Oldest => cql::DAYS_ASC,
            Order::Newest => cql::DAYS_DESC,
        };
        let days: Vec<(String,)> = self
            .rows(
                statement,
                values![
                    listing,
                    walk.from_day.as_deref().unwrap_or(FIRST_DAY),
                    walk.to_day.as_deref().unwrap_or(LAST_DAY)
                ],
            )
            .await?;
        Ok(days.into_iter().map(|(d,)| Some(d)).collect())
    }

    /// Up to `want` rows after `after`; the flag says the listing has nothing further.
    async fn walk_rows<R>(
        &self,
        walk: &Walk,
        after: Option<&Key>,
        want: usize,
    ) -> StoreResult<(Vec<R>, bool)>
    where
        R: for<'frame, 'metadata> DeserializeRow<'frame, 'metadata>,
    {
        let start_day = after.map(|(ts, _)| day(ts));
        let mut keys = Vec::new();
        for d in self.days(walk).await? {
            let before_start = match (&d, &start_day) {
                (Some(d), Some(s)) => match walk.order {
                    Order::Oldest => d < s,
                    Order::Newest => d > s,
                },
                _ => false,
            };
            if before_start {
                continue;
            }
            let resumes = d.is_none() || d == start_day;
            let (ts, id) = match after {
                Some((ts, id)) if resumes => (ts.clone(), id.clone()),
                _ => match walk.order {
                    Order::Oldest => (String::new(), String::new()),
                    Order::Newest => (END.to_string(), String::new()),
                },
            };
            let limit = (want - keys.len()) as i32;
            let mut bind: Values = Vec::with_capacity(5);
            if let Some(prefix) = &walk.prefix {
                bind.extend(values![prefix]);
            }
            if let Some(d) = d {
                bind.extend(values![d]);
            }
            bind.extend(values![ts, id, limit]);
            let found: Vec<R> = self.rows(walk.keys, bind).await?;
            keys.extend(found);
            if keys.len() >= want {
                return Ok((keys, false));
            }
        }
        Ok((keys, true))
    }

    /// One page of a walk: rows are read in chunks, each resolved (for an index, its
    /// row fetched by id, concurrently) and kept if it still exists and `keep` accepts it
    /// (index rows may be stale).
    pub(super) async fn page_of<'a, R, T>(
        &self,
        walk: &Walk,
        page: &PageRequest,
        kind: &str,
        resolve: impl Fn(R) -> BoxFuture<'a, StoreResult<Option<T>>>,
        keep: impl Fn(&T) -> bool,
    ) -> StoreResult<Page<T>>
    where
        R: Positioned + for<'frame, 'metadata> DeserializeRow<'frame, 'metadata>,
    {
        let mut after = cursor::after(kind, page.after.as_deref())?;
        let want = page.limit as usize + 1;
        let mut found: Vec<(Key, T)> = Vec::new();
        let mut examined = 0;
        loop {
            let chunk = (want - found.len()).max(16).min(SCAN_BUDGET - examined);
            let (rows, finished) = self.walk_rows::<R>(walk, after.as_ref(), chunk).await?;
            examined += rows.len();
            let keys: Vec<Key> = rows.iter().map(Positioned::key).collect();
            let resolved = join_all(rows.into_iter().map(&resolve)).await;
            for (key, row) in keys.iter().zip(resolved) {
                if let Some(row) = row?.filter(|r| keep(r)) {
                    found.push((key.clone(), row));
                }
            }
            if let Some(last) = keys.last() {
                after = Some(last.clone());
            }
            if found.len() >= want {
                let page = Page::from_overfetch(found, page.limit, |(key, _)| position(kind, key));
                return Ok(page.map(|(_, row)| row));
            }
            if finished {
                return Ok(Page {
                    items: found.into_iter().map(|(_, row)| row).collect(),
                    next_cursor: None,
                });
            }
            if examined >= SCAN_BUDGET {
                let resume = after
                    .as_ref()
                    .map(|key| position(kind, key))
                    .unwrap_or_default();
                let items = found.into_iter().map(|(_, row)| row).collect();
                return Ok(Page::resume_after(items, &resume));
            }
        }
    }
}

fn position(kind: &str, (ts, id): &Key) -> String {
    format!("{kind}:{ts}|{id}")
}
