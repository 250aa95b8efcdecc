use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// Largest page any listing returns.
pub const MAX_LIMIT: u32 = 100;
pub const DEFAULT_LIMIT: u32 = 20;

/// A page request: a bounded size and an opaque cursor from the previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    /// The backend's own position, decoded from the opaque cursor.
    pub after: Option<String>,
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        Self {
            limit: limit.clamp(1, MAX_LIMIT),
            after: None,
        }
    }

    /// Decodes an opaque cursor; `None` if it was not made by [`Page::next_cursor`].
    pub fn from_cursor(limit: u32, cursor: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        let after = String::from_utf8(bytes).ok()?;
        Some(Self {
            limit: limit.clamp(1, MAX_LIMIT),
            after: Some(after),
        })
    }
}

/// One page of a listing and the opaque cursor of the next, if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }

    /// A page that stopped early (a bounded scan ran out of budget): the next one resumes
    /// after `position`, which may lie past the last item.
    pub fn resume_after(items: Vec<T>, position: &str) -> Self {
        Self {
            items,
            next_cursor: Some(URL_SAFE_NO_PAD.encode(position)),
        }
    }

    /// Builds a page from up to `limit + 1` rows: the extra row only says a next page exists.
    pub fn from_overfetch(mut rows: Vec<T>, limit: u32, position: impl Fn(&T) -> String) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = if more {
            rows.last()
                .map(|last| URL_SAFE_NO_PAD.encode(position(last)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let page = Page::from_overfetch(vec![1, 2, 3], 2, |n| format!("pos-{n}"));
        assert_eq!(page.items, vec![1, 2]);
        let cursor = page.next_cursor.unwrap();
        assert_eq!(
            PageRequest::from_cursor(2, &cursor)
                .unwrap()
                .after
                .as_deref(),
            Some("pos-2")
        );
        assert!(PageRequest::from_cursor(2, "%%%").is_none());
        assert!(Page::from_overfetch(vec![1, 2], 2, |n| n.to_string())
            .next_cursor
            .is_none());
        assert_eq!(PageRequest::first(1000).limit, MAX_LIMIT);
    }
}
