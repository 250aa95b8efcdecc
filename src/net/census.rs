//! Open connections per peer address, across the server's worker threads: one address may
//! hold only so many, whatever it does with them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Who an address stands for: an IPv4 address, or the /64 network of an IPv6 one (one
/// subscriber's whole allocation, which one client can hop across at will).
fn client(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(network.into())
            }
        },
        v4 => v4,
    }
}

/// What a new connection from an address may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Within the address's allowance.
    Admitted,
    /// Over it: its request is answered 429 and the connection closed.
    OverLimit,
    /// Far over it (twice the allowance open): closed at once, unanswered, so a flood of
    /// connections costs no more than that.
    Refused,
}

/// Open connections by address.
type Counts = Arc<Mutex<HashMap<IpAddr, usize>>>;

#[derive(Clone)]
pub struct Census {
    /// Connections allowed per address; `None` counts nothing (behind a trusted proxy,
    /// every connection comes from the proxy).
    per_address: Option<usize>,
    open: Counts,
}

impl Census {
    pub fn new(per_address: Option<usize>) -> Self {
        Self {
            per_address,
            open: Arc::default(),
        }
    }

    /// Counts a new connection from `address` until the returned entry is dropped.
    pub fn enter(&self, address: Option<IpAddr>) -> Entry {
        let (Some(limit), Some(address)) = (self.per_address, address.map(client)) else {
            return Entry {
                counted: None,
                admission: Admission::Admitted,
            };
        };
        // A poisoned lock only means a panic mid-update of a number.
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(address).or_insert(0);
        *count += 1;
        let admission = match *count {
            n if n <= limit => Admission::Admitted,
            n if n <= limit * 2 => Admission::OverLimit,
            _ => Admission::Refused,
        };
        Entry {
            counted: Some((Arc::clone(&self.open), address)),
            admission,
        }
    }
}

/// One open connection's place in the count.
pub struct Entry {
    counted: Option<(Counts, IpAddr)>,
    pub admission: Admission,
}

impl Drop for Entry {
    fn drop(&mut self) {
        if let Some((open, address)) = self.counted.take() {
            let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(count) = open.get_mut(&address) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&address);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_allowance_then_answers_then_nothing_and_closing_gives_back() {
        let census = Census::new(Some(2));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let entries: Vec<Entry> = (0..5).map(|_| census.enter(Some(a))).collect();
        let seen: Vec<Admission> = entries.iter().map(|e| e.admission).collect();
        use Admission::*;
        assert_eq!(seen, [Admitted, Admitted, OverLimit, OverLimit, Refused]);
        assert_eq!(
            census.enter(Some(b)).admission,
            Admitted,
            "others unaffected"
        );
        drop(entries);
        assert_eq!(census.enter(Some(a)).admission, Admitted);
        assert!(
            census.open.lock().unwrap().is_empty(),
            "nothing left behind"
        );
        let hopping: Vec<Entry> = ["2001:db8::1", "2001:db8::2:3", "2001:db8::ffff:9"]
            .iter()
            .map(|a| census.enter(Some(a.parse().unwrap())))
            .collect();
        assert_eq!(hopping[2].admission, OverLimit, "one /64 is one client");
        assert_eq!(
            census
                .enter(Some("2001:db8:0:1::1".parse().unwrap()))
                .admission,
            Admitted
        );
        drop(hopping);
        let off = Census::new(None);
        assert!((0..10).all(|_| off.enter(Some(a)).admission == Admitted));
    }
}
