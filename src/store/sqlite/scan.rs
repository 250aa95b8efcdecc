//! Pages of a listing whose filter SQL cannot apply (sealed columns) or should not run
//! unbounded: rows are read in chunks and kept in Rust, and a page reads at most
//! `SCAN_BUDGET` rows — a rare match answers a short page whose cursor goes on from the
//! last row read (as the ScyllaDB listings do).

use crate::store::{Page, StoreResult};

/// Rows read per page at most.
const SCAN_BUDGET: usize = 1000;

/// `fetch(n)` reads the next `n` rows in listing order (the caller moves its own position
/// past what it returns); `position` is the cursor that resumes after a row.
pub fn filtered_page<T>(
    limit: u32,
    mut fetch: impl FnMut(usize) -> StoreResult<Vec<T>>,
    keep: impl Fn(&T) -> bool,
    position: impl Fn(&T) -> String,
) -> StoreResult<Page<T>> {
    let want = limit as usize + 1;
    let mut found = Vec::new();
    let mut examined = 0;
    loop {
        let chunk = (want - found.len()).max(64).min(SCAN_BUDGET - examined);
        let rows = fetch(chunk)?;
        let exhausted = rows.len() < chunk;
        examined += rows.len();
        let resume = rows.last().map(&position);
        found.extend(rows.into_iter().filter(|row| keep(row)));
        if found.len() >= want {
            return Ok(Page::from_overfetch(found, limit, position));
        }
        if exhausted {
            return Ok(Page {
                items: found,
                next_cursor: None,
            });
        }
        if examined >= SCAN_BUDGET {
            return Ok(match resume {
                Some(position) => Page::resume_after(found, &position),
                None => Page {
                    items: found,
                    next_cursor: None,
                },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PageRequest;

    fn numbers(upto: u32) -> impl FnMut(usize) -> StoreResult<Vec<u32>> {
        let mut next = 0;
        move |n| {
            let rows: Vec<u32> = (next..upto).take(n).collect();
            next += rows.len() as u32;
            Ok(rows)
        }
    }

    #[test]
    fn pages_fill_stop_at_the_end_and_bound_what_they_read() {
        let page = filtered_page(3, numbers(100), |n| n % 2 == 0, |n| n.to_string()).unwrap();
        let cursor = |at: &str| PageRequest::from_cursor(5, at).and_then(|p| p.after);
        assert_eq!(page.items, vec![0, 2, 4]);
        assert_eq!(
            page.next_cursor.as_deref().and_then(cursor).as_deref(),
            Some("4")
        );
        let last = filtered_page(50, numbers(10), |n| n % 2 == 0, |n| n.to_string()).unwrap();
        assert_eq!(last.items, vec![0, 2, 4, 6, 8]);
        assert_eq!(last.next_cursor, None);
        // A rare match: a short (here empty) page that resumes after the last row read.
        let rare = filtered_page(5, numbers(5000), |n| *n == 4999, |n| n.to_string()).unwrap();
        assert!(rare.items.is_empty());
        assert_eq!(
            rare.next_cursor.as_deref().and_then(cursor).as_deref(),
            Some("999")
        );
    }
}
